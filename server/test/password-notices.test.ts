// Which password notices a delivery attempt queues (server/src/delivery/password-notices.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { recipientPasswordNotices, senderPasswordNotice } from "../src/delivery/password-notices.js";
import type { BatchRecord, CopyRecord, MessageRecord, RecipientResult } from "../src/store/types.js";

const message = { id: "m1", sender: "alice@corp.example", language: "ja" } as MessageRecord;
const copy = (id: string, recipient: string, noticedAt: number | null = null): CopyRecord => ({
  id,
  recipients: [recipient],
  action: "web_download",
  file: `${id}.eml`,
  headerBytes: 100,
  detail: {},
  password: "same-password",
  batchId: "b1",
  passwordNoticedAt: noticedAt,
  createdAt: 0,
});
const batch = (sent: string[], copies: CopyRecord[]) =>
  ({
    id: "b1",
    recipients: copies.flatMap((c) =>
      c.recipients.map((address) => ({ address, status: sent.includes(address) ? "sent" : "pending" })),
    ),
    copies,
  }) as unknown as BatchRecord;
const result = (address: string, outcome: RecipientResult["outcome"]): RecipientResult => ({
  address,
  outcome,
  response: "250 ok",
});
const toSender = { length: 12, notify: "sender", delayMinutes: 1 } as const;

describe("password notices", () => {
  test("sender: one notice for all the links reached, with every copy in it", () => {
    const copies = [copy("c1", "a@x.example"), copy("c2", "b@x.example"), copy("c3", "c@y.example")];
    const results = copies.map((c) => result(c.recipients[0]!, "sent"));
    const queued = senderPasswordNotice(message, batch([], copies), toSender, copies, results);
    assert.equal(queued.notices.length, 1);
    assert.equal(queued.notices[0]?.recipient, "alice@corp.example");
    assert.deepEqual(queued.notices[0]?.data, { copyIds: ["c1", "c2", "c3"], toSender: true });
    assert.deepEqual(queued.noticed, ["c1", "c2", "c3"]);
  });

  test("sender: a copy not reached yet waits for its own later notice; one noticed already is not repeated", () => {
    const copies = [copy("c1", "a@x.example", 1000), copy("c2", "b@x.example"), copy("c3", "c@y.example")];
    const results = [result("b@x.example", "sent"), result("c@y.example", "retry")];
    const queued = senderPasswordNotice(message, batch(["a@x.example"], copies), toSender, copies, results);
    assert.deepEqual(queued.noticed, ["c2"]);
  });

  test("sender: after a crash between two links, the restart's notice covers the link reached before it", () => {
    const copies = [copy("c1", "a@x.example"), copy("c2", "b@x.example")];
    // a@ was recorded as reached, then the gateway died before the attempt queued its notice.
    const queued = senderPasswordNotice(message, batch(["a@x.example"], copies), toSender, copies, [
      result("b@x.example", "sent"),
    ]);
    assert.deepEqual(queued.noticed, ["c1", "c2"]);
  });

  test("recipients: one notice per recipient reached, none to the sender", () => {
    const settings = { ...toSender, notify: "recipients" } as const;
    const c = { ...copy("c1", "a@x.example"), recipients: ["a@x.example", "b@x.example"] };
    const queued = recipientPasswordNotices(message, settings, c, [
      result("a@x.example", "sent"),
      result("b@x.example", "retry"),
    ]);
    assert.deepEqual(
      queued.notices.map((n) => n.recipient),
      ["a@x.example"],
    );
    assert.equal(senderPasswordNotice(message, batch([], [c]), settings, [c], []).notices.length, 0);
  });
});
