// What of a message's content the rules did not see, and why: the facts behind the rule condition
// analysisIncomplete. Text cut by a limit, or not reached before the deadline, would otherwise be
// invisible to keyword and PII rules, and a slow PDF a way around them.
import type { AnalysisGap, AnalysisGapReason } from "@sendguard/shared";
import type { AttachmentFacts, MessageFacts } from "../analyze.js";
import { PROBLEM_TIMEOUT, PROBLEM_ZIP_BOMB } from "./context.js";

/** The problems the extractors note (analyze.ts, extract/*), by what they mean for the rules. */
const REASONS: readonly [RegExp, AnalysisGapReason | null][] = [
  [new RegExp(`^${PROBLEM_TIMEOUT}$`), "timeout"],
  [/^text limit reached/, "truncated"],
  [new RegExp(`^${PROBLEM_ZIP_BOMB}$`), "too_large"],
  [/larger than \d+ bytes/, "too_large"], // an attachment, a body part, a PDF's inflated streams
  [/^nesting deeper than /, "too_large"],
  [/^too many archive entries/, "too_large"],
  [/^unsafe entry path: /, null], // a warning about a name: the entry itself was read
];

/**
 * The reason behind a problem, null for one that hid nothing. A problem not listed above (a new
 * failure, an analysis thread that died) counts as unreadable: never as content that was seen.
 */
function reasonOf(problem: string): AnalysisGapReason | null {
  for (const [pattern, reason] of REASONS) if (pattern.test(problem)) return reason;
  return "unreadable";
}

export function analysisGaps(facts: MessageFacts): AnalysisGap[] {
  const gaps: AnalysisGap[] = [];
  const add = (part: string, reason: AnalysisGapReason | null) => {
    if (reason && !gaps.some((g) => g.part === part && g.reason === reason)) gaps.push({ part, reason });
  };
  for (const problem of facts.problems) add("message", reasonOf(problem));
  const visit = (item: AttachmentFacts, container: string) => {
    const part = `${container}${item.filename || "(unnamed)"}`;
    const before = gaps.length;
    for (const problem of item.problems) add(part, reasonOf(problem));
    // an archive's own flag only repeats its entries' (each visited below)
    if (item.encrypted && !item.children.length) add(part, "encrypted");
    if (item.formatNotRead) add(part, "unsupported");
    if (item.truncated && gaps.length === before) add(part, "truncated");
    for (const child of item.children) visit(child, `${part}/`);
  };
  for (const attachment of facts.attachments) visit(attachment, "");
  return gaps;
}
