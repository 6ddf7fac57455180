// localMinute (server/src/local-time.ts): the remembered release time is the one formatLocalTime writes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLocalTime } from "@sendguard/shared";
import { localMinute } from "../src/local-time.js";

test("localMinute equals formatLocalTime, also across a change of UTC offset", () => {
  // Europe/Berlin moves to summer time at 01:00 UTC on 29 March 2026.
  const change = Date.UTC(2026, 2, 29, 1, 0, 0);
  for (const ms of [change - 1, change, change + 59_999, Date.UTC(2026, 10, 27, 12, 34, 56, 789)]) {
    for (const zone of ["Europe/Berlin", "Asia/Tokyo", "America/St_Johns"]) {
      assert.equal(localMinute(ms, zone), formatLocalTime(new Date(ms), zone), `${ms} ${zone}`);
      assert.equal(localMinute(ms, zone), formatLocalTime(new Date(ms), zone), "again, remembered");
    }
  }
});
