// Which message a hold notice is about (addin-outlook/src/pane/read-notice.ts), from the notice the
// gateway writes (server/src/notify/compose.ts holdNotice) in either language.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { holdNotice } from "../../server/src/notify/compose.js";
import type { MessageRecord } from "../../server/src/store/types.js";
import { noticeMessageId } from "../src/pane/read-notice.js";

const LINK = `https://gw.example.co.jp/hold/Ab3_x-Yz0123456Q/${"k".repeat(43)}`;
const message = {
  id: "Ab3_x-Yz0123456Q",
  subject: "見積書の送付",
  batches: [
    { status: "held", nextAt: Date.parse("2026-12-04T01:05:00Z"), recipients: [{ address: "a@b.example" }] },
  ],
} as unknown as MessageRecord;

describe("noticeMessageId", () => {
  test("the gateway's hold notice, ja and en, gives the message's id", () => {
    for (const lang of ["ja", "en"] as const) {
      const notice = holdNotice(message, lang, "Asia/Tokyo", LINK);
      assert.equal(noticeMessageId(notice.subject, notice.text), "Ab3_x-Yz0123456Q", lang);
      // Forwarded or replied to, the tag is still in the subject.
      assert.equal(noticeMessageId(`RE: ${notice.subject}`, notice.text), "Ab3_x-Yz0123456Q");
    }
  });

  test("other mail is about no message: no tag, no hold link, an approval link", () => {
    assert.equal(noticeMessageId("見積書の送付", `ご確認ください ${LINK}`), null);
    assert.equal(noticeMessageId("[配送保留] 見積書", "リンクなし"), null);
    assert.equal(
      noticeMessageId(
        "[承認依頼] 見積書",
        `https://gw.example/approve/Ab3_x-Yz0123456Q/a%40b/${"k".repeat(43)}`,
      ),
      null,
    );
  });
});
