// Local time formatting with the UTC offset, and countdowns (shared/src/time/format.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatCountdown, formatLocalTime, isValidTimeZone, utcOffset } from "../src/index.js";

describe("formatLocalTime and utcOffset", () => {
  const cases: [utc: string, zone: string, formatted: string, why: string][] = [
    ["2026-11-27T01:05:00Z", "Asia/Tokyo", "2026-11-27 10:05 (+09:00)", "the documented example"],
    [
      "2026-11-27T15:00:00Z",
      "Asia/Tokyo",
      "2026-11-28 00:00 (+09:00)",
      "midnight is 00, not 24, and the date rolls over",
    ],
    ["2026-12-31T14:59:59Z", "Asia/Tokyo", "2026-12-31 23:59 (+09:00)", "seconds are cut, not rounded"],
    [
      "2026-12-31T15:00:00Z",
      "Asia/Tokyo",
      "2027-01-01 00:00 (+09:00)",
      "the year rolls over in Tokyo before UTC",
    ],
    ["2026-07-01T12:00:00Z", "Asia/Tokyo", "2026-07-01 21:00 (+09:00)", "Tokyo has no summer time"],
    ["2026-01-01T00:00:00Z", "UTC", "2026-01-01 00:00 (+00:00)", "UTC shows +00:00"],
    ["2026-06-15T23:59:00Z", "Etc/UTC", "2026-06-15 23:59 (+00:00)", "Etc/UTC shows +00:00"],
    [
      "2026-03-08T06:59:00Z",
      "America/New_York",
      "2026-03-08 01:59 (-05:00)",
      "New York one minute before spring forward (EST)",
    ],
    [
      "2026-03-08T07:00:00Z",
      "America/New_York",
      "2026-03-08 03:00 (-04:00)",
      "New York at spring forward (EDT, 02:xx skipped)",
    ],
    [
      "2026-11-01T05:59:00Z",
      "America/New_York",
      "2026-11-01 01:59 (-04:00)",
      "New York one minute before fall back (EDT)",
    ],
    [
      "2026-11-01T06:00:00Z",
      "America/New_York",
      "2026-11-01 01:00 (-05:00)",
      "New York after fall back: 01:00 again, told apart by the offset",
    ],
    ["2026-03-29T00:59:00Z", "Europe/London", "2026-03-29 00:59 (+00:00)", "London before BST"],
    ["2026-03-29T01:00:00Z", "Europe/London", "2026-03-29 02:00 (+01:00)", "London at BST"],
    ["2026-01-15T12:00:00Z", "Asia/Kolkata", "2026-01-15 17:30 (+05:30)", "half-hour offset"],
    ["2026-01-15T12:00:00Z", "Asia/Kathmandu", "2026-01-15 17:45 (+05:45)", "quarter-hour offset"],
    ["2026-01-15T12:00:00Z", "America/St_Johns", "2026-01-15 08:30 (-03:30)", "negative half-hour offset"],
    ["2026-01-15T12:00:00Z", "Pacific/Kiritimati", "2026-01-16 02:00 (+14:00)", "largest positive offset"],
  ];
  for (const [utc, zone, formatted, why] of cases) {
    test(`${why}: ${utc} in ${zone} → ${formatted}`, () => {
      const date = new Date(utc);
      assert.equal(formatLocalTime(date, zone), formatted);
      assert.equal(utcOffset(date, zone), /\(([+-]\d\d:\d\d)\)$/.exec(formatted)?.[1]);
    });
  }

  test("the output always has the shape YYYY-MM-DD HH:MM (±HH:MM)", () => {
    for (const zone of ["Asia/Tokyo", "UTC", "America/New_York", "Australia/Adelaide"]) {
      for (let h = 0; h < 48; h += 5) {
        const s = formatLocalTime(new Date(Date.UTC(2026, 2, 7, h, 7)), zone);
        assert.match(s, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \([+-]\d{2}:\d{2}\)$/, `${zone} ${s}`);
      }
    }
  });

  test("an invalid zone throws instead of silently formatting in another zone", () => {
    assert.throws(() => formatLocalTime(new Date(), "Mars/Olympus_Mons"), RangeError);
  });
});

describe("isValidTimeZone", () => {
  const cases: [zone: string, expected: boolean][] = [
    ["Asia/Tokyo", true],
    ["UTC", true],
    ["America/New_York", true],
    ["Etc/GMT-9", true],
    ["asia/tokyo", true], // IANA names are matched case-insensitively by Intl
    ["Asia/Tokio", false],
    ["Mars/Olympus_Mons", false],
    ["", false],
    ["Tokyo", false],
  ];
  for (const [zone, expected] of cases) {
    test(`${JSON.stringify(zone)} → ${expected}`, () => {
      assert.equal(isValidTimeZone(zone), expected);
    });
  }
});

describe("formatCountdown", () => {
  const cases: [ms: number, expected: string, why: string][] = [
    [272_000, "4:32", "minutes and zero-padded seconds"],
    [5_000, "0:05", "under a minute keeps the 0: prefix"],
    [3_723_000, "1:02:03", "an hour or more adds hours, minutes padded"],
    [36_000_000, "10:00:00", "hours are not padded or capped"],
    [59_999, "1:00", "a partial second rounds up: 0:00 only when the time has come"],
    [1, "0:01", "one millisecond left is still a second to go"],
    [0, "0:00", "due"],
    [-5_000, "0:00", "past the time is never negative"],
    [Number.NaN, "0:00", "an unparsable time reads as due"],
  ];
  for (const [ms, expected, why] of cases) {
    test(`${why}: ${ms} ms → ${expected}`, () => {
      assert.equal(formatCountdown(ms), expected);
    });
  }
});
