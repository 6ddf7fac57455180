import assert from "node:assert/strict";
import { test } from "node:test";
import { draftFromDetails } from "../src/draft.js";

test("an HTML body is read as the gateway reads it: references decoded, script and style dropped", () => {
  const draft = draftFromDetails({
    to: ["client@partner.example"],
    body:
      "<html><head><style>p{color:red}</style></head><body><p>資料を&#28155;&#x4ed8;します。</p>" +
      '<script>var s = "</p>";</script><table><tr><td>品目</td><td>金額</td></tr></table></body></html>',
  });
  assert.equal(draft.body, "資料を添付します。\n品目\t金額");
});

test("a plain-text draft's body is taken as it is", () => {
  assert.equal(draftFromDetails({ isPlainText: true, plainTextBody: "a &amp; <b>" }).body, "a &amp; <b>");
});
