// The certificate for STARTTLS and implicit TLS: the configured one, or a self-signed one made once
// into the data dir so a first run offers TLS without any setup.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import selfsigned from "selfsigned";
import type { Config } from "../config/schema.js";

export interface TlsMaterial {
  key: string;
  cert: string;
  selfSigned: boolean;
}

export async function loadTls(config: Config): Promise<TlsMaterial> {
  const { cert, key } = config.smtp.tls;
  if (cert && key) {
    return { cert: await readFile(cert, "utf8"), key: await readFile(key, "utf8"), selfSigned: false };
  }
  const dir = join(config.dataDir, "tls");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  try {
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8"), selfSigned: true };
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pems = await selfsigned.generate([{ name: "commonName", value: config.smtp.hostname }], {
      keySize: 2048,
      algorithm: "sha256",
      notAfterDate: new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000),
    });
    await writeFile(keyFile, pems.private, { mode: 0o600 });
    await writeFile(certFile, pems.cert);
    return { cert: pems.cert, key: pems.private, selfSigned: true };
  }
}
