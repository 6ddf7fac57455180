// Certificates for tests: a CA of their own, and leaf certificates it (or nobody) signs.
import selfsigned from "selfsigned";

export interface Pem {
  key: string;
  cert: string;
}

export async function makeCa(name: string): Promise<Pem> {
  const pems = await selfsigned.generate([{ name: "commonName", value: name }], {
    keySize: 2048,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** A certificate for `host`, signed by `ca` (self-signed when null). */
export async function makeLeaf(
  host: string,
  ca: Pem | null,
  validity: { from?: Date; to?: Date } = {},
): Promise<Pem> {
  const pems = await selfsigned.generate([{ name: "commonName", value: host }], {
    keySize: 2048,
    ...(ca ? { ca: { key: ca.key, cert: ca.cert } } : {}),
    ...(validity.from ? { notBeforeDate: validity.from } : {}),
    ...(validity.to ? { notAfterDate: validity.to } : {}),
  });
  return { key: pems.private, cert: pems.cert };
}
