import assert from "node:assert/strict";
import { test } from "node:test";
import { htmlToText } from "../src/text/html.js";

test("blocks and <br> become lines, cells tabs, white space collapses as a browser shows it", () => {
  assert.equal(
    htmlToText("<p>いつも  お世話に\nなっております。</p><div>添付を<br>ご確認ください。</div>"),
    "いつも お世話に なっております。\n添付を\nご確認ください。",
  );
  assert.equal(htmlToText("<table><tr><td>品目</td><td>金額</td></tr></table>").trim(), "品目\t金額");
  // Inside <pre> spaces stay; line edges are trimmed for the rules as everywhere.
  assert.equal(htmlToText("<pre>a  b\n c</pre>").trim(), "a  b\nc");
});

test("character references are decoded: named, decimal and hexadecimal", () => {
  assert.equal(
    htmlToText("<p>&#28155;&#x4ed8;&nbsp;&quot;資料&quot; &amp; &lt;b&gt;</p>").trim(),
    '添付 "資料" & <b>',
  );
});

test("script, style, title and comments are not text; a '>' inside a quoted attribute ends no tag", () => {
  assert.equal(
    htmlToText(
      '<html><head><title>t</title><style>p{}</style></head><body><script>var a="<p>";</script><!-- 添付 -->' +
        '<a title="a > b">本文</a></body></html>',
    ).trim(),
    "本文",
  );
});

test("broken markup ends without an error: unclosed tags and comments", () => {
  assert.equal(htmlToText("本文<p").trim(), "本文");
  assert.equal(htmlToText("本文<!-- 添付").trim(), "本文");
});
