// A stand-in for office.js in a real browser page (the Outlook task panes under test): an Office
// global with one item in compose or read mode, seeded by the test, that answers asynchronously as
// Outlook does and records every host call in window.__officeHost. Self-contained (no imports): it
// is compiled on its own and served in place of https://appsforoffice.microsoft.com/…/office.js
// (office-host.ts).
import type { HostCall, OfficeSeed, SeedAttachment, SeedRecipient } from "./seed.js";

type Callback = (result: unknown) => void;

interface HostState {
  seed: OfficeSeed;
  calls: HostCall[];
  /** Outlook's view of the item, changed by the pane's writes (setAsync, sessionData …). */
  item: OfficeSeed["item"];
  roaming: Record<string, unknown>;
  /** Set once the pane has called sendAsync / closeAsync with success. */
  sent: boolean;
  closed: { discardItem: boolean } | null;
}

declare global {
  interface Window {
    __officeSeed: OfficeSeed;
    __officeHost: HostState;
  }
}

const seed = window.__officeSeed;
const state: HostState = {
  seed,
  calls: [],
  item: structuredClone(seed.item),
  roaming: { ...seed.roaming },
  sent: false,
  closed: null,
};
window.__officeHost = state;
const minor = seed.mailboxMinor ?? 15;
const compose = seed.mode === "compose";

/** Arguments as the test can read them: functions (the callback) left out, the rest copied. */
function record(name: string, args: unknown[], write: boolean): void {
  state.calls.push({
    name,
    write,
    args: structuredClone(args.filter((a) => typeof a !== "function")),
  });
}

/**
 * A host API whose callback comes last (options may be left out): records the call, then answers
 * on a later turn, or fails / never answers when the seed says so.
 */
function api(name: string, write: boolean, run: (...args: unknown[]) => unknown) {
  return (...args: unknown[]): void => {
    record(name, args, write);
    const callback = typeof args[args.length - 1] === "function" ? (args.pop() as Callback) : null;
    const fault = seed.faults?.[name];
    if (fault === "hang") return;
    setTimeout(() => {
      let result: unknown;
      if (fault === "error") result = failed(`${name} failed (fault seeded by the test)`);
      else {
        try {
          result = { status: "succeeded", value: run(...args) };
        } catch (err) {
          result = failed(err instanceof Error ? err.message : String(err));
        }
      }
      callback?.(result);
    }, 0);
  };
}

function failed(message: string, name = "GenericError") {
  return { status: "failed", error: { name, message, code: 9000 } };
}

const details = (list: SeedRecipient[] = []) =>
  list.map((r) => ({
    emailAddress: r.emailAddress,
    displayName: r.displayName ?? "",
    recipientType: r.recipientType ?? "user",
  }));

/** setAsync's recipients: strings or EmailAddressDetails-like objects. */
function toSeed(list: unknown): SeedRecipient[] {
  if (!Array.isArray(list)) throw new Error("setAsync expects an array of recipients");
  return list.map((r: unknown) =>
    typeof r === "string"
      ? { emailAddress: r }
      : {
          emailAddress: String((r as SeedRecipient).emailAddress),
          displayName: (r as SeedRecipient).displayName ?? "",
          recipientType: (r as SeedRecipient).recipientType ?? "user",
        },
  );
}

type RecipientField = "to" | "cc" | "bcc" | "requiredAttendees" | "optionalAttendees";

function composeRecipients(field: RecipientField) {
  return {
    getAsync: api(`${field}.getAsync`, false, () => details(state.item[field])),
    setAsync: api(`${field}.setAsync`, true, (list) => {
      state.item[field] = toSeed(list);
    }),
    addAsync: api(`${field}.addAsync`, true, (list) => {
      state.item[field] = [...(state.item[field] ?? []), ...toSeed(list)];
    }),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

const html = () =>
  state.item.html ?? `<html><body><div>${escapeHtml(state.item.body ?? "")}</div></body></html>`;

function attachmentDetails(a: SeedAttachment, i: number) {
  return {
    id: a.id ?? `att${i}`,
    name: a.name,
    size: a.size ?? (a.content ? Math.floor((a.content.length * 3) / 4) : 0),
    attachmentType: a.attachmentType ?? "file",
    isInline: a.isInline ?? false,
    contentType: a.contentType ?? "application/octet-stream",
    ...(a.contentId ? { contentId: a.contentId } : {}),
  };
}

const attachments = () => (state.item.attachments ?? []).map(attachmentDetails);

function attachmentContent(id: unknown) {
  const list = state.item.attachments ?? [];
  const index = list.findIndex((a, i) => (a.id ?? `att${i}`) === id);
  const a = list[index];
  if (!a) throw new Error(`no attachment ${String(id)}`);
  const format = a.attachmentType === "item" ? "eml" : a.attachmentType === "cloud" ? "url" : "base64";
  return { format, content: a.content ?? "" };
}

const sessionData = {
  getAsync: (key: string, callback: Callback) => {
    record("sessionData.getAsync", [key], false);
    const value = state.item.sessionData?.[key];
    setTimeout(() =>
      callback(
        value === undefined
          ? failed(`no ${key} in sessionData`, "KeyNotFound")
          : { status: "succeeded", value },
      ),
    );
  },
  setAsync: api("sessionData.setAsync", true, (key, value) => {
    state.item.sessionData = { ...state.item.sessionData, [String(key)]: String(value) };
  }),
  getAllAsync: api("sessionData.getAllAsync", false, () => ({ ...state.item.sessionData })),
  removeAsync: api("sessionData.removeAsync", true, (key) => {
    delete state.item.sessionData?.[String(key)];
  }),
  clearAsync: api("sessionData.clearAsync", true, () => {
    state.item.sessionData = {};
  }),
};

const internetHeaders = {
  getAsync: api("internetHeaders.getAsync", false, (names) =>
    Object.fromEntries(
      (names as string[])
        .filter((n) => state.item.internetHeaders?.[n] !== undefined)
        .map((n) => [n, state.item.internetHeaders?.[n]]),
    ),
  ),
  setAsync: api("internetHeaders.setAsync", true, (headers) => {
    state.item.internetHeaders = { ...state.item.internetHeaders, ...(headers as Record<string, string>) };
  }),
  removeAsync: api("internetHeaders.removeAsync", true, (names) => {
    for (const n of names as string[]) delete state.item.internetHeaders?.[n];
  }),
};

function composeItem() {
  const appointment = state.item.itemType === "appointment";
  return {
    itemType: appointment ? "appointment" : "message",
    ...(appointment
      ? {
          requiredAttendees: composeRecipients("requiredAttendees"),
          optionalAttendees: composeRecipients("optionalAttendees"),
        }
      : { to: composeRecipients("to"), cc: composeRecipients("cc"), bcc: composeRecipients("bcc") }),
    subject: {
      getAsync: api("subject.getAsync", false, () => state.item.subject ?? ""),
      setAsync: api("subject.setAsync", true, (subject) => {
        state.item.subject = String(subject);
      }),
    },
    body: {
      getAsync: api("body.getAsync", false, (coercion) =>
        coercion === "html" ? html() : (state.item.body ?? ""),
      ),
      getTypeAsync: api("body.getTypeAsync", false, () => (state.item.html ? "html" : "text")),
    },
    from: { getAsync: api("from.getAsync", false, () => details([profile()])[0]) },
    getAttachmentsAsync: api("getAttachmentsAsync", false, attachments),
    getAttachmentContentAsync: api("getAttachmentContentAsync", false, attachmentContent),
    getItemIdAsync: api("getItemIdAsync", false, () => state.item.itemId ?? "draft-item-id"),
    sessionData,
    internetHeaders,
    sendAsync: api("sendAsync", true, () => {
      if (minor < 15) throw new Error("sendAsync needs Mailbox 1.15");
      state.sent = true;
    }),
    closeAsync: api("closeAsync", true, (options) => {
      state.closed = {
        discardItem: (options as { discardItem?: boolean } | undefined)?.discardItem === true,
      };
    }),
  };
}

function readItem() {
  const item = state.item;
  return {
    itemType: item.itemType ?? "message",
    itemId: item.itemId ?? "read-item-id",
    internetMessageId: item.internetMessageId ?? "<read@corp.example>",
    subject: item.subject ?? "",
    from: details([item.from ?? profile()])[0],
    sender: details([item.from ?? profile()])[0],
    to: details(item.to),
    cc: details(item.cc),
    dateTimeCreated: new Date(item.dateTimeCreated ?? Date.now()),
    attachments: attachments(),
    body: {
      getAsync: api("body.getAsync", false, (coercion) => (coercion === "html" ? html() : (item.body ?? ""))),
    },
    getAllInternetHeadersAsync: api("getAllInternetHeadersAsync", false, () =>
      Object.entries(item.internetHeaders ?? {})
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join(""),
    ),
    getAttachmentContentAsync: api("getAttachmentContentAsync", false, attachmentContent),
  };
}

function profile(): SeedRecipient {
  return seed.user ?? { emailAddress: "taro@corp.example", displayName: "Taro" };
}

const roamingSettings = {
  get: (key: string) => {
    record("roamingSettings.get", [key], false);
    return state.roaming[key];
  },
  set: (key: string, value: unknown) => {
    record("roamingSettings.set", [key, value], true);
    state.roaming[key] = value;
  },
  remove: (key: string) => {
    record("roamingSettings.remove", [key], true);
    delete state.roaming[key];
  },
  saveAsync: api("roamingSettings.saveAsync", true, () => undefined),
};

const info = { host: "Outlook", platform: "OfficeOnline" };
let initialize: (() => void) | undefined;

const Office = {
  AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
  CoercionType: { Text: "text", Html: "html" },
  HostType: { Outlook: "Outlook" },
  EventType: { ItemChanged: "olkItemSelectedChanged" },
  MailboxEnums: {
    ItemType: { Message: "message", Appointment: "appointment" },
    RecipientType: {
      DistributionList: "distributionList",
      User: "user",
      ExternalUser: "externalUser",
      Other: "other",
    },
    AttachmentType: { File: "file", Item: "item", Cloud: "cloud" },
    AttachmentContentFormat: { Base64: "base64", Url: "url", Eml: "eml", ICalendar: "iCalendar" },
  },
  get initialize() {
    return initialize;
  },
  set initialize(fn: (() => void) | undefined) {
    initialize = fn;
  },
  onReady(callback?: (info: { host: string; platform: string }) => void) {
    record("onReady", [], false);
    return new Promise((resolve) =>
      setTimeout(() => {
        callback?.(info);
        resolve(info);
      }),
    );
  },
  context: {
    displayLanguage: seed.displayLanguage ?? "ja-JP",
    requirements: {
      isSetSupported: (name: string, version?: string) => {
        record("requirements.isSetSupported", [name, version], false);
        return name === "Mailbox" && Number((version ?? "1.0").split(".")[1] ?? 0) <= minor;
      },
    },
    roamingSettings,
    mailbox: {
      userProfile: {
        emailAddress: profile().emailAddress,
        displayName: profile().displayName ?? "",
        timeZone: "Tokyo Standard Time",
      },
      diagnostics: { hostName: "OutlookWebApp", hostVersion: "16.0", OWAView: "OneColumn" },
      item: compose ? composeItem() : readItem(),
      addHandlerAsync: api("mailbox.addHandlerAsync", false, () => undefined),
    },
  },
};

(window as unknown as { Office: typeof Office }).Office = Office;
// office.js calls Office.initialize once loaded, when the page set it before.
setTimeout(() => initialize?.());
