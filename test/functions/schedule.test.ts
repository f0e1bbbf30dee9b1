// Timer schedules (src/host/schedule.ts) with the time given, never waited for: NCRONTAB with
// seconds, names and its day rules, TimeSpan intervals, %Setting% references, the monitor default
// and the past-due rule the host applies at start-up.
import { checkPastDue, defaultUseMonitor, parseSchedule, parseTimeSpan, resolveSettings } from "../../src/host/schedule";

const at = (iso: string) => new Date(iso);
const utc = (expression: string) => parseSchedule(expression, { timezone: "UTC" });

/** The next `n` occurrences after `from`, as ISO strings. */
function nextN(expression: string, from: string, n: number): string[] {
  const s = utc(expression);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) out.push((t = s.next(t)).toISOString());
  return out;
}

describe("NCRONTAB", () => {
  test("six fields, seconds first; each occurrence strictly after the time given", () => {
    expect(nextN("*/15 * * * * *", "2026-03-01T10:00:00.000Z", 3)).toEqual(["2026-03-01T10:00:15.000Z", "2026-03-01T10:00:30.000Z", "2026-03-01T10:00:45.000Z"]);
    expect(nextN("*/1 * * * * *", "2026-03-01T10:00:00.400Z", 2)).toEqual(["2026-03-01T10:00:01.000Z", "2026-03-01T10:00:02.000Z"]);
    expect(nextN("0 */5 * * * *", "2026-03-01T10:02:00Z", 2)).toEqual(["2026-03-01T10:05:00.000Z", "2026-03-01T10:10:00.000Z"]);
    expect(nextN("0 30 9 * * 1-5", "2026-03-06T10:00:00Z", 2)).toEqual(["2026-03-09T09:30:00.000Z", "2026-03-10T09:30:00.000Z"]); // Friday -> Monday
    expect(nextN("5/20 0 0 1 * *", "2026-03-01T00:00:06Z", 2)).toEqual(["2026-03-01T00:00:25.000Z", "2026-03-01T00:00:45.000Z"]);
  });

  test("month and day-of-week names, abbreviated or whole, any case", () => {
    expect(nextN("0 30 9 * Jan Mon", "2026-01-06T00:00:00Z", 2)).toEqual(["2026-01-12T09:30:00.000Z", "2026-01-19T09:30:00.000Z"]);
    expect(nextN("0 0 8 * * SATURDAY,sun", "2026-03-02T00:00:00Z", 2)).toEqual(["2026-03-07T08:00:00.000Z", "2026-03-08T08:00:00.000Z"]);
    expect(nextN("0 0 0 1 december *", "2026-03-02T00:00:00Z", 1)).toEqual(["2026-12-01T00:00:00.000Z"]);
  });

  test("a day and a day of week must both match (Friday the 13th), unlike Vixie cron", () => {
    expect(nextN("0 0 12 13 * Fri", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-02-13T12:00:00.000Z", "2026-03-13T12:00:00.000Z"]);
  });

  test("the time zone given (WEBSITE_TIME_ZONE) applies", () => {
    expect(parseSchedule("0 0 9 * * *", { timezone: "Europe/Paris" }).next(at("2026-01-15T00:00:00Z")).toISOString()).toBe("2026-01-15T08:00:00.000Z");
  });

  test.each([
    ["* * * * *", /six fields, seconds first/],
    ["0 0 0 ? * *", /not valid NCRONTAB/],
    ["0 0 0 L * *", /not valid NCRONTAB/],
    ["0 0 0 * * 1#2", /not valid NCRONTAB/],
    ["0 0 0 * * 7", /day of week is 0-6/],
    ["0 0 0 * * Funday", /unknown name 'Funday'/],
    ["0 60 * * * *", /not recognized as a valid cron expression/],
    ["every minute", /not recognized as a valid cron expression or timespan string/],
  ])("refuses %s", (expression, message) => {
    expect(() => parseSchedule(expression)).toThrow(message);
  });
});

describe("TimeSpan", () => {
  test("the .NET forms", () => {
    expect(parseTimeSpan("00:00:05")).toBe(5_000);
    expect(parseTimeSpan("01:30:00")).toBe(5_400_000);
    expect(parseTimeSpan("00:05")).toBe(300_000); // hh:mm
    expect(parseTimeSpan("1.02:00:00")).toBe(93_600_000);
    expect(parseTimeSpan("1:02:00:00")).toBe(93_600_000);
    expect(parseTimeSpan("00:00:00.250")).toBe(250);
    expect(parseTimeSpan("2")).toBe(2 * 86_400_000); // whole days
    expect(parseTimeSpan("24:00:00")).toBeUndefined();
    expect(parseTimeSpan("00:60:00")).toBeUndefined();
    expect(parseTimeSpan("*/5 * * * * *")).toBeUndefined();
  });

  test("an interval schedule runs every interval from the time given", () => {
    const s = utc("00:00:30");
    expect(s.kind).toBe("interval");
    expect(s.next(at("2026-03-01T10:00:07.250Z")).toISOString()).toBe("2026-03-01T10:00:37.250Z");
    expect(() => parseSchedule("00:00:00")).toThrow(/greater than zero/);
  });
});

test("%Setting% references are replaced from app settings; a missing one is an error", () => {
  expect(resolveSettings("%SCHEDULE%", { SCHEDULE: "0 */5 * * * *" })).toBe("0 */5 * * * *");
  expect(resolveSettings("0 %MIN% * * * *", { MIN: "15" })).toBe("0 15 * * * *");
  expect(() => resolveSettings("%NOPE%", {})).toThrow(/'%NOPE%' does not resolve to a value/);
});

test("the monitor is on by default for schedules recurring at most once a minute", () => {
  const now = at("2026-03-01T10:00:00Z");
  expect(defaultUseMonitor(utc("*/1 * * * * *"), now)).toBe(false);
  expect(defaultUseMonitor(utc("*/30 * * * * *"), now)).toBe(false);
  expect(defaultUseMonitor(utc("0 * * * * *"), now)).toBe(true);
  expect(defaultUseMonitor(utc("0 0 3 * * *"), now)).toBe(true);
  expect(defaultUseMonitor(utc("00:00:59"), now)).toBe(false);
  expect(defaultUseMonitor(utc("00:01:00"), now)).toBe(true);
});

describe("past due at start-up", () => {
  const daily = utc("0 0 3 * * *");
  const now = at("2026-03-05T10:00:00Z");

  test("no record: not past due, the next occurrence after now", () => {
    expect(checkPastDue(daily, undefined, now)).toEqual({ isPastDue: false, next: at("2026-03-06T03:00:00Z") });
  });

  test("the recorded next occurrence passed while the host was down: past due once, then on schedule from now", () => {
    const recorded = { last: at("2026-03-02T03:00:00Z"), next: at("2026-03-03T03:00:00Z"), lastUpdated: at("2026-03-02T03:00:00.120Z") };
    expect(checkPastDue(daily, recorded, now)).toEqual({ isPastDue: true, due: at("2026-03-03T03:00:00Z"), next: at("2026-03-06T03:00:00Z") });
  });

  test("the recorded next occurrence is still ahead: not past due, and it is kept", () => {
    const recorded = { last: at("2026-03-05T03:00:00Z"), next: at("2026-03-06T03:00:00Z"), lastUpdated: at("2026-03-05T03:00:00.050Z") };
    expect(checkPastDue(daily, recorded, now)).toEqual({ isPastDue: false, next: at("2026-03-06T03:00:00Z") });
  });

  test("a record written before any occurrence ran counts from when it was written", () => {
    const recorded = { next: at("2026-03-05T03:00:00Z"), lastUpdated: at("2026-03-04T12:00:00Z") };
    expect(checkPastDue(daily, recorded, now)).toMatchObject({ isPastDue: true, due: at("2026-03-05T03:00:00Z") });
  });

  test("the schedule changed since the record: the due time is recomputed from the record's time", () => {
    // Recorded for an hourly schedule; now daily at 03:00. From 2026-03-05T09:30 the next 03:00 is tomorrow.
    const recorded = { last: at("2026-03-05T09:00:00Z"), next: at("2026-03-05T09:59:00Z"), lastUpdated: at("2026-03-05T09:30:00Z") };
    expect(checkPastDue(daily, recorded, now)).toEqual({ isPastDue: false, next: at("2026-03-06T03:00:00Z") });
  });

  test("interval schedules: due one interval after the last run", () => {
    const every10 = utc("00:10:00");
    const recorded = { last: at("2026-03-05T09:40:00Z"), next: at("2026-03-05T09:50:00Z"), lastUpdated: at("2026-03-05T09:40:00Z") };
    expect(checkPastDue(every10, recorded, now)).toEqual({ isPastDue: true, due: at("2026-03-05T09:50:00Z"), next: at("2026-03-05T10:10:00Z") });
  });
});
