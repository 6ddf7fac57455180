// A fake Outlook host for the send handler: an office-addin-mock object seeded with an item being
// composed, roamingSettings and the requirement sets, which records every host call. It answers
// asynchronously, as Outlook does, and can be told to fail, throw or never answer a call. Used by
// the unit tests (as the global Office), and by the bundle test, the end-to-end test and the
// benchmark (as the Office global of a vm context running dist/launchevent.js).
import { OfficeMockObject } from "office-addin-mock";

export interface FakeRecipient {
  emailAddress: string;
  displayName?: string;
  /** "user", "externalUser", "distributionList", "other" (Office.MailboxEnums.RecipientType). */
  recipientType?: string;
}

export interface FakeAttachment {
  name: string;
  size: number;
  attachmentType?: "file" | "item" | "cloud";
  isInline?: boolean;
}

export interface FakeItem {
  itemType?: "message" | "appointment";
  to?: FakeRecipient[];
  cc?: FakeRecipient[];
  bcc?: FakeRecipient[];
  requiredAttendees?: FakeRecipient[];
  optionalAttendees?: FakeRecipient[];
  subject?: string;
  body?: string;
  attachments?: FakeAttachment[];
  sessionData?: Record<string, string>;
}

/** How a host call goes wrong: a failed AsyncResult, an exception, or no answer at all. */
export type Fault = "error" | "throw" | "hang";

export interface FakeHostOptions {
  item: FakeItem;
  displayLanguage?: string;
  user?: string;
  /** roamingSettings' content (the sign-in, the policy cache); written to by the handler. */
  roaming?: Record<string, unknown>;
  /** The newest Mailbox requirement set the client has, as its minor version [15]. */
  mailboxMinor?: number;
  /** Host calls by name ("to.getAsync", "getAttachmentsAsync", …) that go wrong. */
  faults?: Record<string, Fault>;
}

export interface FakeHost {
  /** The Office global. */
  office: OfficeMockObject;
  /** Host calls in the order made ("to.getAsync", "roamingSettings.saveAsync", …). */
  calls: string[];
  roaming: Record<string, unknown>;
  /** What Office.actions.associate was given. */
  associated: Map<string, (event: unknown) => unknown>;
}

/** What the handler passed to event.completed. */
export interface Completed {
  allowEvent?: boolean;
  errorMessage?: string;
  commandId?: string;
  cancelLabel?: string;
  sendModeOverride?: string;
}

const recipientDetails = (list: FakeRecipient[] = []) =>
  list.map((r) => ({
    emailAddress: r.emailAddress,
    displayName: r.displayName ?? "",
    recipientType: r.recipientType ?? "user",
  }));

export function fakeOffice(options: FakeHostOptions): FakeHost {
  const calls: string[] = [];
  const roaming: Record<string, unknown> = { ...options.roaming };
  const associated = new Map<string, (event: unknown) => unknown>();
  const item = options.item;

  /** A host API taking a callback last: answers on a later turn, or goes wrong as told. */
  const api =
    <T>(name: string, value: () => T) =>
    (...args: unknown[]): void => {
      calls.push(name);
      const callback = args[args.length - 1] as (result: unknown) => void;
      const fault = options.faults?.[name];
      if (fault === "throw") throw new Error(`${name} threw`);
      if (fault === "hang") return;
      setImmediate(() =>
        callback(
          fault === "error"
            ? { status: "failed", error: { name: "GenericError", message: `${name} failed` } }
            : { status: "succeeded", value: value() },
        ),
      );
    };
  const recipients = (field: keyof FakeItem & string, list: FakeRecipient[] | undefined) => ({
    getAsync: api(`${field}.getAsync`, () => recipientDetails(list)),
  });
  const fields =
    item.itemType === "appointment"
      ? {
          requiredAttendees: recipients("requiredAttendees", item.requiredAttendees),
          optionalAttendees: recipients("optionalAttendees", item.optionalAttendees),
        }
      : { to: recipients("to", item.to), cc: recipients("cc", item.cc), bcc: recipients("bcc", item.bcc) };

  const office = new OfficeMockObject(
    {
      host: "outlook",
      AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
      actions: {
        associate: (name: string, fn: (event: unknown) => unknown) => {
          associated.set(name, fn);
        },
      },
      context: {
        displayLanguage: options.displayLanguage ?? "ja-JP",
        requirements: {
          isSetSupported: (name: string, version?: string) =>
            name === "Mailbox" && Number((version ?? "1.0").split(".")[1]) <= (options.mailboxMinor ?? 15),
        },
        roamingSettings: {
          get: (key: string) => roaming[key],
          set: (key: string, value: unknown) => {
            roaming[key] = value;
          },
          remove: (key: string) => {
            delete roaming[key];
          },
          saveAsync: api("roamingSettings.saveAsync", () => undefined),
        },
        mailbox: {
          userProfile: { emailAddress: options.user ?? "taro@corp.example", displayName: "Taro" },
          item: {
            itemType: item.itemType ?? "message",
            ...fields,
            subject: { getAsync: api("subject.getAsync", () => item.subject ?? "") },
            body: { getAsync: api("body.getAsync", () => item.body ?? "") },
            getAttachmentsAsync: api("getAttachmentsAsync", () =>
              (item.attachments ?? []).map((a, i) => ({
                id: `att${i}`,
                name: a.name,
                size: a.size,
                attachmentType: a.attachmentType ?? "file",
                isInline: a.isInline ?? false,
                contentType: "application/octet-stream",
              })),
            ),
            sessionData: {
              getAsync: (key: string, callback: (result: unknown) => void) => {
                const value = item.sessionData?.[key];
                calls.push("sessionData.getAsync");
                setImmediate(() =>
                  callback(
                    value === undefined
                      ? { status: "failed", error: { name: "KeyNotFound", message: `no ${key}` } }
                      : { status: "succeeded", value },
                  ),
                );
              },
            },
          },
        },
      },
    },
    // office-addin-mock's OfficeApp.Outlook: values as given, no load()/sync() protocol.
    "outlook" as never,
  );
  return { office, calls, roaming, associated };
}

/** An event for a handler, and what it was completed with. */
export function fakeEvent(): {
  event: { completed(options?: Completed): void };
  completed: Promise<Completed>;
} {
  let resolve!: (options: Completed) => void;
  const completed = new Promise<Completed>((r) => (resolve = r));
  // Copied: an object made in a vm context (the bundle's) has that context's Object prototype.
  return { event: { completed: (options = {}) => resolve({ ...options }) }, completed };
}
