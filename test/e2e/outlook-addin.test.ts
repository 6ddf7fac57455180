// The Outlook add-in served by a real gateway over its HTTPS listener (the certificate it made
// itself, verified as Outlook would verify a real one): the manifests name this gateway and the
// admin's send mode, every file they point at is there with its type, and nothing else is served.
import { DOMParser } from "@xmldom/xmldom";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OUTLOOK_PLACEHOLDER_ORIGIN } from "@sendguard/shared";
import { schemaErrors } from "../../addin-outlook/test/schemas.js";
import { outlookAddinDir } from "../../server/src/web/outlook-addin.js";
import { TestGateway } from "../helpers/gateway.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const DIST = outlookAddinDir();

describe("Outlook add-in files over HTTPS", () => {
  const gw = new TestGateway({ config: { http: { httpsPort: 0 }, outlook: { sendMode: "block" } } });
  let ca: string;
  let publicUrl: string;

  /** A request on the HTTPS port, the path on the wire exactly as given, the certificate checked. */
  const get = (path: string, headers: Record<string, string> = {}, method = "GET", servername = "gw.test") =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: gw.ports.https,
          servername,
          ca,
          path,
          method,
          headers,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });

  before(async () => {
    assert.ok(existsSync(join(DIST, "manifest.xml")), "the add-in is built (npm run build)");
    await gw.start();
    assert.equal(typeof gw.ports.https, "number");
    ca = readFileSync(join(gw.dataDir, "tls", "cert.pem"), "utf8");
    publicUrl = gw.logLines.find((l) => l.event === "listening")?.publicUrl as string;
  });
  after(() => gw.stop());

  test("the certificate is checked: a client expecting another host refuses it", async () => {
    await assert.rejects(
      get("/addin/outlook/manifest.xml", {}, "GET", "other.test"),
      /altnames|does not match|Hostname/i,
    );
  });

  test("without publicUrl the gateway names its HTTPS address", () => {
    assert.equal(publicUrl, `https://localhost:${gw.ports.https}`);
  });

  test("manifest.xml names this gateway everywhere and the configured send mode", async () => {
    const answer = await get("/addin/outlook/manifest.xml");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], "application/xml; charset=utf-8");
    const xml = answer.body.toString("utf8");
    assert.ok(!xml.includes(OUTLOOK_PLACEHOLDER_ORIGIN));
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    assert.equal(doc.documentElement?.tagName, "OfficeApp");
    const sendModes = Array.from(doc.getElementsByTagName("LaunchEvent")).map((e) =>
      e.getAttribute("SendMode"),
    );
    assert.deepEqual(sendModes.filter(Boolean), ["Block", "Block"]);
  });

  test("manifest.json still validates, with this gateway's URLs and host", async () => {
    const answer = await get("/addin/outlook/manifest.json");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], "application/json; charset=utf-8");
    const manifest = JSON.parse(answer.body.toString("utf8")) as {
      manifestVersion: string;
      validDomains: string[];
    };
    assert.deepEqual(schemaErrors(manifest, manifest.manifestVersion, "manifest"), []);
    assert.deepEqual(manifest.validDomains, [`localhost:${gw.ports.https}`]);
    assert.ok(!answer.body.toString("utf8").includes(OUTLOOK_PLACEHOLDER_ORIGIN));
    assert.match(answer.body.toString("utf8"), /"sendMode": "block"/);
  });

  test("every file the manifests point at is served as built, with its type; one not built yet is a 404", async () => {
    const texts = ["manifest.xml", "manifest.json"].map(async (name) =>
      (await get(`/addin/outlook/${name}`)).body.toString(),
    );
    const urls = new Set(
      (await Promise.all(texts)).flatMap((text) => text.match(/https:\/\/[^"<\s]+/g) ?? []),
    );
    const ours = [...urls].filter((u) => u.startsWith(`${publicUrl}/addin/outlook/`));
    assert.ok(ours.length >= 8, ours.join(" "));
    const types: Record<string, string> = { png: "image/png", html: "text/html", js: "text/javascript" };
    for (const url of ours) {
      const name = url.slice(`${publicUrl}/addin/outlook/`.length);
      const answer = await get(new URL(url).pathname);
      if (!existsSync(join(DIST, name))) {
        assert.equal(answer.status, 404, `${name} is not built in this checkout`);
        continue;
      }
      assert.equal(answer.status, 200, name);
      assert.ok(
        String(answer.headers["content-type"]).startsWith(types[name.split(".").pop() as string] ?? "?"),
        `${name}: ${answer.headers["content-type"]}`,
      );
      assert.deepEqual(answer.body, readFileSync(join(DIST, name)), `${name} byte for byte`);
    }
  });

  test("the app package for the admin centre opens with Info-ZIP unzip and holds a valid manifest and its files", async () => {
    const answer = await get("/addin/outlook/sendguard-outlook.zip");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], "application/zip");
    const dir = mkdtempSync(join(tmpdir(), "sendguard-package-"));
    try {
      writeFileSync(join(dir, "package.zip"), answer.body);
      const unzip = spawnSync("unzip", ["-o", "package.zip", "-d", "out"], { cwd: dir, encoding: "utf8" });
      assert.equal(unzip.status, 0, unzip.stderr);
      const listed = spawnSync("unzip", ["-Z1", "package.zip"], { cwd: dir, encoding: "utf8" }).stdout;
      assert.deepEqual(listed.trim().split("\n").sort(), [
        "icon-color.png",
        "icon-outline.png",
        "ja-jp.json",
        "manifest.json",
      ]);
      const manifest = JSON.parse(readFileSync(join(dir, "out", "manifest.json"), "utf8")) as {
        manifestVersion: string;
      };
      assert.deepEqual(schemaErrors(manifest, manifest.manifestVersion, "manifest"), []);
      assert.match(
        JSON.stringify(manifest),
        new RegExp(`https://localhost:${gw.ports.https}/addin/outlook/launchevent.js`),
      );
      for (const name of ["icon-color.png", "icon-outline.png", "ja-jp.json"]) {
        assert.deepEqual(readFileSync(join(dir, "out", name)), readFileSync(join(DIST, name)), name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("revalidated on every load, 304 when unchanged, and allowed in Outlook's frames", async () => {
    for (const name of ["manifest.xml", "icon-32.png", "ja-jp.json"]) {
      const first = await get(`/addin/outlook/${name}`);
      assert.equal(first.headers["cache-control"], "no-cache", name);
      assert.equal(first.headers["x-frame-options"], undefined, name);
      assert.equal(first.headers["x-content-type-options"], "nosniff", name);
      const etag = first.headers.etag as string;
      assert.ok(etag, `${name} has an ETag`);
      const again = await get(`/addin/outlook/${name}`, { "if-none-match": etag });
      assert.equal(again.status, 304, name);
      assert.equal(again.body.length, 0);
    }
    const head = await get("/addin/outlook/icon-16.png", {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers["content-length"]), readFileSync(join(DIST, "icon-16.png")).length);
  });

  test("nothing outside the built files: traversal, hidden, unknown and other methods are a JSON 404", async () => {
    for (const [path, method] of [
      ["/addin/outlook/../../package.json", "GET"],
      ["/addin/outlook/..%2f..%2fpackage.json", "GET"],
      ["/addin/outlook/%2e%2e%2fmanifest.xml", "GET"],
      ["/addin/outlook/..%5c..%5cpackage.json", "GET"],
      ["/addin/outlook/%2fetc%2fpasswd", "GET"],
      ["/addin/outlook/.gitignore", "GET"],
      ["/addin/outlook/manifest.xml%00.png", "GET"],
      ["/addin/outlook/manifest.xml/x", "GET"],
      ["/addin/outlook/nothing.png", "GET"],
      ["/addin/outlook/build.ts", "GET"],
      ["/addin/outlook/", "GET"],
      ["/addin/outlook/manifest.xml", "POST"],
      ["/addin/outlook/manifest.xml", "DELETE"],
    ] as const) {
      const answer = await get(path, { "accept-language": "en" }, method);
      assert.equal(answer.status, 404, `${method} ${path}`);
      const error = (JSON.parse(answer.body.toString()) as { error: { code: string; message: string } })
        .error;
      assert.equal(error.code, "not_found", `${method} ${path}`);
    }
  });

  test("the plain HTTP listener serves the same app", async () => {
    const res = await fetch(`${gw.httpUrl}/addin/outlook/manifest.json`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(`https://localhost:${gw.ports.https}/addin/outlook/`));
  });
});
