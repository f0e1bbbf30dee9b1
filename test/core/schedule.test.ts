// When a schedule's occurrences fall, which one starts when some are due, and the checks a new
// schedule must pass. Pure: every call is given the time.
import { SchedulerError } from "../../src/core/errors";
import {
  afterDowntime, checkSchedule, dueOccurrence, firstOccurrence, nextOccurrence, occurrenceInstanceId, parseInterval, ScheduleDefinition, ScheduleRecord,
} from "../../src/core/schedule";

const T = (iso: string) => Date.parse(iso);
const base: ScheduleDefinition = { scheduleId: "s", orchestrationName: "Run", catchUp: "once" };

function record(d: Partial<ScheduleDefinition>, createdAt: number, extra: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return { ...base, ...d, createdAt, paused: false, ...extra };
}

describe("cron occurrences", () => {
  test("seconds field: every 15 s, strictly after the time asked about", () => {
    const s = { ...base, cron: "*/15 * * * * *" };
    expect(nextOccurrence(s, 0, T("2026-03-01T10:00:00Z"))).toBe(T("2026-03-01T10:00:15Z"));
    expect(nextOccurrence(s, 0, T("2026-03-01T10:00:14.999Z"))).toBe(T("2026-03-01T10:00:15Z"));
  });

  test("read in the schedule's time zone (UTC by default), across a daylight-saving change", () => {
    const paris = { ...base, cron: "0 30 8 * * *", timeZone: "Europe/Paris" };
    // Winter: UTC+1; summer (after 29 March 2026): UTC+2.
    expect(nextOccurrence(paris, 0, T("2026-03-01T00:00:00Z"))).toBe(T("2026-03-01T07:30:00Z"));
    expect(nextOccurrence(paris, 0, T("2026-04-01T00:00:00Z"))).toBe(T("2026-04-01T06:30:00Z"));
    expect(nextOccurrence({ ...base, cron: "0 30 8 * * *" }, 0, T("2026-03-01T00:00:00Z"))).toBe(T("2026-03-01T08:30:00Z"));
  });

  test("a start time counts when an occurrence falls exactly on it; nothing after the end time", () => {
    const s = { ...base, cron: "0 0 * * * *", startAt: T("2026-03-01T12:00:00Z"), endAt: T("2026-03-01T14:00:00Z") };
    expect(nextOccurrence(s, 0, T("2026-03-01T00:00:00Z"))).toBe(T("2026-03-01T12:00:00Z"));
    expect(nextOccurrence(s, 0, T("2026-03-01T13:00:00Z"))).toBe(T("2026-03-01T14:00:00Z"));
    expect(nextOccurrence(s, 0, T("2026-03-01T14:00:00Z"))).toBeUndefined();
  });

  test("five fields get second 0; NCRONTAB names and day-of-week rules as for timer triggers", () => {
    expect(checkSchedule({ ...base, cron: "*/5 * * * *" }, 0).cron).toBe("0 */5 * * * *");
    const weekdays = checkSchedule({ ...base, cron: "0 0 9 * * mon-fri" }, 0);
    // 2026-03-07 is a Saturday: the next weekday at 09:00 is Monday the 9th.
    expect(nextOccurrence(weekdays, 0, T("2026-03-07T00:00:00Z"))).toBe(T("2026-03-09T09:00:00Z"));
  });
});

describe("interval occurrences", () => {
  test("without a start time, one interval after creation (counted in whole seconds) and every interval after that", () => {
    const s = { ...base, intervalMs: 2000 };
    const created = T("2026-03-01T10:00:00.250Z");
    expect(firstOccurrence(s, created, created)).toBe(T("2026-03-01T10:00:02Z"));
    expect(nextOccurrence(s, created, T("2026-03-01T10:00:02Z"))).toBe(T("2026-03-01T10:00:04Z"));
    expect(nextOccurrence(s, created, T("2026-03-01T10:00:05Z"))).toBe(T("2026-03-01T10:00:06Z"));
  });

  test("with a start time, counted from it (the start itself is the first)", () => {
    const s = { ...base, intervalMs: 60_000, startAt: T("2026-03-01T10:00:00Z"), endAt: T("2026-03-01T10:02:00Z") };
    expect(firstOccurrence(s, 0, T("2026-03-01T09:00:00Z"))).toBe(T("2026-03-01T10:00:00Z"));
    expect(firstOccurrence(s, 0, T("2026-03-01T10:00:30Z"))).toBe(T("2026-03-01T10:01:00Z"));
    expect(nextOccurrence(s, 0, T("2026-03-01T10:01:00Z"))).toBe(T("2026-03-01T10:02:00Z"));
    expect(nextOccurrence(s, 0, T("2026-03-01T10:02:00Z"))).toBeUndefined();
  });

  test.each([["30s", 30_000], ["1h30m", 5_400_000], ["2d", 172_800_000], ["00:00:05", 5000], ["1.00:00:00", 86_400_000], ["1500ms", 1500], ["PT1H", 3_600_000], ["P1DT30M", 88_200_000], ["PT1.5S", 1500]])("interval %p is %p ms", (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  test.each([["soon", /not an interval/], ["P", /not an interval/], ["PT", /not an interval/], ["500ms", /shorter than the shortest allowed, 1s/], ["00:00:00", /shorter/]])("interval %p is refused", (text, message) => {
    expect(() => parseInterval(text)).toThrow(message);
  });
});

describe("due occurrences and catch-up", () => {
  const created = T("2026-03-01T10:00:00Z");
  const every2s = (nextRunAt: number, catchUp: "once" | "skip" = "once") => record({ intervalMs: 2000, catchUp }, created, { nextRunAt });

  test("nothing is due before the next occurrence; on time, that one starts and the one after is next", () => {
    expect(dueOccurrence(every2s(T("2026-03-01T10:00:02Z")), T("2026-03-01T10:00:01.999Z"))).toBeUndefined();
    expect(dueOccurrence(every2s(T("2026-03-01T10:00:02Z")), T("2026-03-01T10:00:02.010Z"))).toEqual({ at: T("2026-03-01T10:00:02Z"), next: T("2026-03-01T10:00:04Z") });
  });

  test("occurrences due together start once, as the latest of them", () => {
    expect(dueOccurrence(every2s(T("2026-03-01T10:00:02Z")), T("2026-03-01T10:00:07Z"))).toEqual({ at: T("2026-03-01T10:00:06Z"), next: T("2026-03-01T10:00:08Z") });
    const hourly = record({ cron: "0 0 * * * *" }, created, { nextRunAt: T("2026-03-01T11:00:00Z") });
    expect(dueOccurrence(hourly, T("2026-03-01T14:30:00Z"))).toEqual({ at: T("2026-03-01T14:00:00Z"), next: T("2026-03-01T15:00:00Z") });
  });

  test("after downtime: 'once' starts the latest missed occurrence, 'skip' none; both go on with the next", () => {
    const now = T("2026-03-01T10:00:09Z");
    expect(afterDowntime(every2s(T("2026-03-01T10:00:02Z"), "once"), now)).toEqual({ latest: T("2026-03-01T10:00:08Z"), start: T("2026-03-01T10:00:08Z"), next: T("2026-03-01T10:00:10Z") });
    expect(afterDowntime(every2s(T("2026-03-01T10:00:02Z"), "skip"), now)).toEqual({ latest: T("2026-03-01T10:00:08Z"), next: T("2026-03-01T10:00:10Z") });
    expect(afterDowntime(every2s(T("2026-03-01T10:00:10Z"), "skip"), now)).toBeUndefined();
  });

  test("a missed window that reaches past the end time starts the last occurrence within it, and nothing follows", () => {
    const r = record({ intervalMs: 2000, endAt: T("2026-03-01T10:00:05Z") }, created, { nextRunAt: T("2026-03-01T10:00:02Z") });
    expect(dueOccurrence(r, T("2026-03-01T10:00:09Z"))).toEqual({ at: T("2026-03-01T10:00:04Z"), next: undefined });
  });

  test("an occurrence's instance id is the schedule id and the occurrence time", () => {
    expect(occurrenceInstanceId("nightly", T("2026-03-01T02:00:00Z"))).toBe("nightly@2026-03-01T02:00:00.000Z");
  });
});

describe("what a new schedule must be", () => {
  const now = T("2026-03-01T10:00:00Z");
  test.each<[Partial<ScheduleDefinition>, RegExp]>([
    [{ cron: "0 0 * * * *", timeZone: "Mars/Olympus" }, /timeZone 'Mars\/Olympus' is not a time zone .*IANA name/],
    [{ cron: "0 0 * * *  * *" }, /cron: .*has 7 fields; NCRONTAB has six/],
    [{ cron: "0 61 * * * *" }, /cron: .*not recognized as a valid cron expression/],
    [{ cron: "0 0 0 L * *" }, /cron: .*not valid NCRONTAB/],
    [{ intervalMs: 1000, startAt: T("2026-03-02T00:00:00Z"), endAt: T("2026-03-01T12:00:00Z") }, /endAt \(2026-03-01T12:00:00.000Z\) must be after startAt \(2026-03-02T00:00:00.000Z\)/],
    [{ intervalMs: 1000, endAt: T("2026-03-01T09:00:00Z") }, /endAt .* is already past/],
    [{ cron: "0 0 0 1 1 *", endAt: T("2026-06-01T00:00:00Z") }, /no occurrence between now and its end/],
    [{}, /either a cron expression or an interval/],
    [{ cron: "0 0 * * * *", intervalMs: 1000 }, /either a cron expression or an interval/],
    [{ intervalMs: 1000, timeZone: "UTC" }, /timeZone applies to cron schedules only/],
    [{ intervalMs: 1000, scheduleId: "a@b" }, /scheduleId 'a@b' may hold only letters/],
    [{ intervalMs: 1000, scheduleId: " " }, /scheduleId must not be empty/],
    [{ intervalMs: 1000, orchestrationName: "" }, /orchestrationName .* must not be empty/],
    [{ intervalMs: 1000, catchUp: "all" as never }, /catchUp must be once or skip/],
  ])("%p is refused", (d, message) => {
    let err: unknown;
    try {
      checkSchedule({ ...base, ...d }, now);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).code).toBe("INVALID_ARGUMENT");
    expect((err as Error).message).toMatch(message);
  });

  test("a good one comes back trimmed", () => {
    expect(checkSchedule({ ...base, scheduleId: " nightly ", orchestrationName: " Report ", cron: " 0  0 2 * * * ", timeZone: "America/New_York" }, now))
      .toEqual({ scheduleId: "nightly", orchestrationName: "Report", cron: "0 0 2 * * *", timeZone: "America/New_York", catchUp: "once" });
  });
});
