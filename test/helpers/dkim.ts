// DKIM as a receiving MTA checks it (mailauth), against keys the test publishes itself.
import { dkimVerify } from "mailauth/lib/dkim/verify.js";

/** The TXT record value `sendguard dkim keygen` prints (its quoted strings joined). */
export function keygenTxt(stdout: string): string {
  return [...stdout.matchAll(/"([^"]+)"/g)].map((m) => m[1]).join("");
}

/** The message's first DKIM signature, verified with `record` as the only TXT record in DNS. */
export async function firstSignature(raw: Buffer, record: { name: string; value: string }) {
  const result = await dkimVerify(raw, {
    resolver: async (name: string, rr: string) => {
      if (name === record.name && rr === "TXT") return [[record.value]];
      throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    },
  });
  return result.results[0];
}

/** The message as relayed, without the DKIM-Signature the gateway puts on top. */
export function unsigned(raw: Buffer): Buffer {
  let text = raw.toString("latin1");
  while (/^DKIM-Signature:/i.test(text)) text = text.replace(/^DKIM-Signature:.*\r\n(?:[ \t].*\r\n)*/i, "");
  return Buffer.from(text, "latin1");
}
