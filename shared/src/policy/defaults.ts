// Default client-side checks. A module of its own without zod, so the add-ins' send handlers can use
// the same defaults as the gateway's presets without loading the schema library.
import type { ClientPolicy } from "../api/types.js";

export function clientDefaults(): ClientPolicy["client"] {
  return {
    confirmExternal: true,
    skipWhenInternalOnly: true,
    requireTickEachExternal: true,
    allowTickAll: false,
    bccSuggestThreshold: 10,
    attachmentReminderWords: ["添付", "資料", "ファイル", "attached", "attachment", "enclosed"],
    warnNewDomainInReply: true,
    largeAttachmentBytes: 10 * 1024 * 1024,
    unsafeDomains: [],
    unsafeWords: [],
    unsafeFileTypes: [
      { extension: "exe", action: "block" },
      { extension: "bat", action: "block" },
      { extension: "js", action: "confirm" },
    ],
  };
}
