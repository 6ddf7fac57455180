// The part of Thunderbird's WebExtension API the extension uses. Narrow on purpose: the real
// `browser` object satisfies it, and the unit tests pass a typed fake.
export interface ComposeDetailsLike {
  from?: string;
  identityId?: string;
  to?: (string | { id: string; type: string })[] | string;
  cc?: (string | { id: string; type: string })[] | string;
  bcc?: (string | { id: string; type: string })[] | string;
  subject?: string;
  body?: string;
  plainTextBody?: string;
  isPlainText?: boolean;
  type?: string;
  relatedMessageId?: number;
  customHeaders?: { name: string; value: string }[];
}

/** compose.onAfterSend's second argument. */
export interface SendInfo {
  mode: string;
  headerMessageId?: string;
  error?: string;
}

export interface BrowserApi {
  compose: {
    listAttachments(tabId: number): Promise<{ id: number; name: string; size: number }[]>;
    setComposeDetails(tabId: number, details: ComposeDetailsLike): Promise<void>;
    saveMessage(tabId: number, options: { mode: "draft" }): Promise<{ messages: { id: number }[] }>;
  };
  messages: {
    get(id: number): Promise<{ author: string; recipients: string[]; ccList: string[] }>;
    getRaw(id: number): Promise<File | string>;
    import(file: File, folderId: string, properties?: { read?: boolean }): Promise<{ id: number }>;
    delete(ids: number[], options: { deletePermanently: boolean }): Promise<void>;
  };
  identities: { get(identityId: string): Promise<{ accountId: string } | null> };
  accounts: { get(accountId: string): Promise<{ rootFolder: { id: string } } | null> };
  folders: {
    query(query: { accountId: string; specialUse?: string[]; name?: string }): Promise<{ id: string }[]>;
    create(parentId: string, name: string): Promise<{ id: string }>;
  };
  tabs: { remove(tabId: number): Promise<void> };
  windows: {
    create(options: { type: "popup"; url: string; width: number; height: number }): Promise<{ id?: number }>;
    remove(windowId: number): Promise<void>;
    update(windowId: number, options: { focused: boolean }): Promise<unknown>;
  };
  notifications: {
    create(
      id: string,
      options: { type: "basic"; title: string; message: string; iconUrl?: string },
    ): Promise<string>;
  };
  storage: {
    local: {
      get(key: string): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
    };
    managed: { get(key: string): Promise<Record<string, unknown>> };
    /** Kept while Thunderbird runs, across suspensions of the background (MV3). */
    session: {
      get(key: string): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
    };
  };
  i18n: { getUILanguage(): string };
  runtime: { getURL(path: string): string };
}

export type BeforeSendResult = { cancel: true } | { details: ComposeDetailsLike };
