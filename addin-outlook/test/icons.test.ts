// The icons the manifests name are drawn by real Chromium from icon.svg at the sizes they claim.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ICONS, writeIcons } from "../manifest/icons.js";

test("every icon is a PNG with transparency at its size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-icons-"));
  try {
    await writeIcons(dir);
    for (const icon of ICONS) {
      const png = readFileSync(join(dir, icon.file));
      assert.equal(png.subarray(1, 4).toString("latin1"), "PNG", icon.file);
      // IHDR: width and height (big-endian) at 16 and 20, colour type at 25 (6: RGB with alpha).
      assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [icon.size, icon.size], icon.file);
      assert.equal(png[25], 6, `${icon.file} keeps its transparent background`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
