// Approve or deny a message awaiting approval: from the API, the approver's page or a timeout.
import type { HeldActionResult, MessageRecord, NewNotice, Store } from "./store/types.js";

export async function decideApproval(
  store: Store,
  message: MessageRecord,
  approver: string,
  approve: boolean,
  comment: string,
  now = Date.now(),
): Promise<HeldActionResult> {
  const notices: NewNotice[] = [];
  if (approve && message.batches.some((g) => g.releaseAt > now)) {
    notices.push({
      kind: "hold",
      messageId: message.id,
      recipient: message.sender,
      language: message.language,
    });
  }
  if (!approve && message.sender) {
    notices.push({
      kind: "denied",
      messageId: message.id,
      recipient: message.sender,
      language: message.language,
      data: { approver, comment },
    });
  }
  return store.decideApproval(message.id, approve, approver, now, notices, {
    comment: comment.slice(0, 2000),
  });
}
