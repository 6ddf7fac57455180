// A typed fake of the part of Thunderbird's API the extension uses (BrowserApi), with just enough
// of a mail store behind it: a compose window that saves drafts, folders, messages, notifications.
import type { BrowserApi, ComposeDetailsLike } from "../src/browser-api.js";

export interface StoredMessage {
  id: number;
  folderId: string;
  raw: Uint8Array;
}

export class FakeBrowser implements BrowserApi {
  local: Record<string, unknown> = {};
  session: Record<string, unknown> = {};
  managed: Record<string, unknown> | null = null;
  windowsOpened: string[] = [];
  windowsRemoved: number[] = [];
  windowsFocused: number[] = [];
  attachments: { id: number; name: string; size: number }[] = [];
  /** What saving the compose window as a draft writes (the MIME Thunderbird would produce). */
  draftMime = "From: Taro <taro@corp.example>\r\nSubject: x\r\n\r\nbody\r\n";
  /** How many saveMessage calls fail as while Thunderbird still winds down a cancelled send. */
  busySaves = 0;
  composeChanges: ComposeDetailsLike[] = [];
  stored = new Map<number, StoredMessage>();
  folderList = [
    { id: "account1://", accountId: "account1", name: "", specialUse: [] as string[] },
    { id: "account1://Drafts", accountId: "account1", name: "Drafts", specialUse: ["drafts"] },
  ];
  closedTabs: number[] = [];
  notices: { id: string; title: string; message: string }[] = [];
  private nextId = 100;

  compose = {
    listAttachments: async () => this.attachments,
    setComposeDetails: async (_tabId: number, details: ComposeDetailsLike) => {
      this.composeChanges.push(details);
    },
    saveMessage: async () => {
      if (this.busySaves-- > 0) throw new Error("Message compose window not ready for the requested command");
      const id = this.store("account1://Drafts", new TextEncoder().encode(this.draftMime));
      return { messages: [{ id }] };
    },
  };
  messages = {
    get: async () => ({
      author: "Client <client@partner.example>",
      recipients: ["taro@corp.example"],
      ccList: [],
    }),
    getRaw: async (id: number) => {
      const m = this.stored.get(id);
      if (!m) throw new Error(`no message ${id}`);
      return new File([m.raw as BlobPart], "message.eml");
    },
    import: async (file: File, folderId: string) => ({
      id: this.store(folderId, new Uint8Array(await file.arrayBuffer())),
    }),
    delete: async (ids: number[]) => {
      for (const id of ids) this.stored.delete(id);
    },
  };
  identities = { get: async (id: string) => (id === "id1" ? { accountId: "account1" } : null) };
  accounts = {
    get: async (id: string) => (id === "account1" ? { rootFolder: { id: "account1://" } } : null),
  };
  folders = {
    query: async (q: { accountId: string; specialUse?: string[]; name?: string }) =>
      this.folderList.filter(
        (f) =>
          f.accountId === q.accountId &&
          (!q.specialUse || q.specialUse.every((u) => f.specialUse.includes(u))) &&
          (q.name === undefined || f.name === q.name),
      ),
    create: async (parentId: string, name: string) => {
      const folder = { id: `${parentId}${name}`, accountId: "account1", name, specialUse: [] };
      this.folderList.push(folder);
      return folder;
    },
  };
  tabs = {
    remove: async (tabId: number) => void this.closedTabs.push(tabId),
  };
  windows = {
    create: async (o: { url: string }) => {
      this.windowsOpened.push(o.url);
      return { id: 42 };
    },
    remove: async (id: number) => void this.windowsRemoved.push(id),
    update: async (id: number) => {
      if (this.windowsRemoved.includes(id)) throw new Error(`Invalid window ID: ${id}`);
      this.windowsFocused.push(id);
    },
  };
  notifications = {
    create: async (id: string, o: { title: string; message: string }) => {
      this.notices.push({ id, title: o.title, message: o.message });
      return id;
    },
  };
  storage = {
    local: {
      get: async (key: string) => (key in this.local ? { [key]: this.local[key] } : {}),
      set: async (items: Record<string, unknown>) => void Object.assign(this.local, items),
    },
    session: {
      get: async (key: string) => (key in this.session ? { [key]: this.session[key] } : {}),
      set: async (items: Record<string, unknown>) => void Object.assign(this.session, items),
    },
    managed: {
      get: async (key: string) => {
        if (!this.managed) throw new Error("Managed storage manifest not found");
        return key in this.managed ? { [key]: this.managed[key] } : {};
      },
    },
  };
  i18n = { getUILanguage: () => "ja" };
  runtime = { getURL: (path: string) => `moz-extension://x/${path}` };

  private store(folderId: string, raw: Uint8Array): number {
    const id = this.nextId++;
    this.stored.set(id, { id, folderId, raw });
    return id;
  }

  /** Messages in a folder, as text. */
  inFolder(folderId: string): string[] {
    return [...this.stored.values()]
      .filter((m) => m.folderId === folderId)
      .map((m) => new TextDecoder().decode(m.raw));
  }
}
