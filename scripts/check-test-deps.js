// Fails early, with the fix, when a tool the tests drive for real is missing.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

const missing = [];
if (spawnSync("swaks", ["--version"]).error) missing.push("swaks");
else if (spawnSync("perl", ["-MNet::SSLeay", "-MIO::Socket::SSL", "-e", "1"]).status !== 0)
  missing.push("TLS for swaks (libnet-ssleay-perl, libio-socket-ssl-perl)");
if (!existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium")) missing.push("chromium");
if (spawnSync(process.env.THUNDERBIRD_PATH ?? "thunderbird", ["--version"]).error)
  missing.push("thunderbird");
if (spawnSync("sh", ["-c", "command -v xvfb-run"]).status !== 0) missing.push("xvfb");
if (spawnSync("sh", ["-c", "command -v xauth"]).status !== 0) missing.push("xauth");
if (spawnSync("7z", ["i"]).error) missing.push("7z (p7zip-full)");
if (spawnSync("unzip", ["-v"]).error) missing.push("unzip");
if (spawnSync("tnef", ["--version"]).error) missing.push("tnef");
if (missing.length) {
  console.error(`Missing test tools: ${missing.join(", ")}. Install them with: scripts/install-test-deps.sh`);
  process.exit(1);
}
