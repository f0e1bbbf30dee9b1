// Task hub schedules, the pure part: what a schedule is, the checks a new one must pass, when its
// occurrences fall (cron in a time zone, or a fixed interval; within optional start and end times),
// which occurrence to start when one or more are due, and the instance id each occurrence gets.
// Every answer takes the time it is asked about; the engine (scheduler/hub-schedules.ts) keeps the
// clock and the due times.
import { isTimeZone, ncrontab, parseTimeSpan } from "./cron";
import { invalid } from "./errors";

/** What happens to occurrences missed while the scheduler was down: one instance for them all, or none. */
export type CatchUp = "once" | "skip";
export const CATCH_UP_POLICIES: readonly CatchUp[] = ["once", "skip"];

/** A schedule as a user defines it. Times are epoch milliseconds. */
export interface ScheduleDefinition {
  scheduleId: string;
  orchestrationName: string;
  /** The orchestration's input, JSON text. */
  input?: string;
  /** Six-field NCRONTAB (seconds first), as timer triggers read it; or intervalMs. */
  cron?: string;
  /** The IANA time zone the cron expression is read in (UTC when absent). */
  timeZone?: string;
  intervalMs?: number;
  /** No occurrence before this time; an interval schedule counts from it. */
  startAt?: number;
  /** No occurrence after this time. */
  endAt?: number;
  catchUp: CatchUp;
}

/** A schedule as the store keeps it: its definition and where it stands. */
export interface ScheduleRecord extends ScheduleDefinition {
  createdAt: number;
  paused: boolean;
  /** The next occurrence to start; undefined once the schedule has ended. */
  nextRunAt?: number;
  /** The last occurrence started (or found already started), and its instance. */
  lastRunAt?: number;
  lastInstanceId?: string;
}

export const MAX_SCHEDULE_ID_LENGTH = 64;
export const MIN_INTERVAL_MS = 1000;
const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * An occurrence's instance id: the schedule id, '@' and the occurrence time (ISO 8601 UTC). The same
 * occurrence always gets the same id, so it can never be started twice; and every instance of a
 * schedule shares the prefix `<scheduleId>@`, which schedule ids cannot contain.
 */
export function occurrenceInstanceId(scheduleId: string, at: number): string {
  return `${scheduleId}@${new Date(at).toISOString()}`;
}

export function scheduleInstancePrefix(scheduleId: string): string {
  return `${scheduleId}@`;
}

/**
 * An interval: a .NET TimeSpan ("00:00:30", "1.00:00:00"), an ISO 8601 duration ("PT1H", "P1DT30M")
 * or units ("30s", "5m", "1h30m", "2d", "500ms"), at least a second. Throws INVALID_ARGUMENT saying
 * what it accepts.
 */
export function parseInterval(text: string): number {
  const t = text.trim();
  let ms = parseTimeSpan(t);
  const duration = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(t);
  if (ms === undefined && duration && t.length > 1 && !/T$/i.test(t)) {
    const [, d, h, m, sec] = duration;
    ms = ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Number(sec ?? 0) * 1000;
  }
  if (ms === undefined && /^(\d+(\.\d+)?(ms|[smhd]))+$/i.test(t)) {
    ms = 0;
    for (const [, n, unit] of t.toLowerCase().matchAll(/(\d+(?:\.\d+)?)(ms|[smhd])/g)) {
      ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as "ms" | "s" | "m" | "h" | "d"];
    }
  }
  if (ms === undefined || !Number.isFinite(ms)) throw invalid(`interval '${text}' is not an interval: write e.g. 30s, 5m, 1h30m, 2d, a TimeSpan such as 00:00:30 or an ISO 8601 duration such as PT30S`);
  if (ms < MIN_INTERVAL_MS) throw invalid(`interval '${text}' is shorter than the shortest allowed, 1s`);
  return Math.round(ms);
}

/**
 * Checks a definition and returns it normalized (trimmed; a five-field cron expression gets second
 * 0). Throws INVALID_ARGUMENT naming the field and what it must hold.
 */
export function checkSchedule(d: ScheduleDefinition, now: number): ScheduleDefinition {
  const scheduleId = (d.scheduleId ?? "").trim();
  if (!scheduleId) throw invalid("scheduleId must not be empty");
  if (scheduleId.length > MAX_SCHEDULE_ID_LENGTH) throw invalid(`scheduleId is ${scheduleId.length} characters long; the limit is ${MAX_SCHEDULE_ID_LENGTH}`);
  if (!SCHEDULE_ID.test(scheduleId)) throw invalid(`scheduleId '${scheduleId}' may hold only letters, digits, '.', '_' and '-', starting with a letter or digit`);
  const orchestrationName = (d.orchestrationName ?? "").trim();
  if (!orchestrationName) throw invalid("orchestrationName (the orchestration each occurrence starts) must not be empty");
  if (!CATCH_UP_POLICIES.includes(d.catchUp)) throw invalid(`catchUp must be ${CATCH_UP_POLICIES.join(" or ")}, not '${d.catchUp}'`);
  const out: ScheduleDefinition = { scheduleId, orchestrationName, catchUp: d.catchUp };
  if (d.input !== undefined) out.input = d.input;
  if ((d.cron === undefined) === (d.intervalMs === undefined)) throw invalid("give a schedule either a cron expression or an interval (one of the two)");
  if (d.cron !== undefined) {
    const fields = d.cron.trim().split(/\s+/);
    out.cron = fields.length === 5 ? `0 ${fields.join(" ")}` : fields.join(" ");
    if (d.timeZone !== undefined) {
      if (!isTimeZone(d.timeZone)) throw invalid(`timeZone '${d.timeZone}' is not a time zone this scheduler knows: use an IANA name such as Europe/Paris or America/New_York, or UTC`);
      out.timeZone = d.timeZone;
    }
    try {
      ncrontab(out.cron, out.timeZone ?? "UTC");
    } catch (err) {
      throw invalid(`cron: ${(err as Error).message}`);
    }
  } else {
    if (d.timeZone !== undefined) throw invalid("timeZone applies to cron schedules only; an interval counts from the start time whatever the zone");
    if (!Number.isFinite(d.intervalMs) || d.intervalMs! < MIN_INTERVAL_MS) throw invalid("intervalMs must be at least 1000 (one second)");
    out.intervalMs = Math.round(d.intervalMs!);
  }
  for (const field of ["startAt", "endAt"] as const) {
    const v = d[field];
    if (v === undefined) continue;
    if (!Number.isFinite(v)) throw invalid(`${field} must be a date and time`);
    out[field] = v;
  }
  if (out.startAt !== undefined && out.endAt !== undefined && out.endAt <= out.startAt) {
    throw invalid(`endAt (${iso(out.endAt)}) must be after startAt (${iso(out.startAt)})`);
  }
  if (out.endAt !== undefined && out.endAt <= now) throw invalid(`endAt (${iso(out.endAt)}) is already past: the schedule would never run`);
  if (firstOccurrence(out, now, now) === undefined) throw invalid(`the schedule has no occurrence between now and its end (${iso(out.endAt!)})`);
  return out;
}

/** The first occurrence strictly after `after`, within the start and end times; undefined when none is left. */
export function nextOccurrence(s: ScheduleDefinition, createdAt: number, after: number): number | undefined {
  let t: number | undefined;
  if (s.intervalMs !== undefined) {
    // Without a start time the first occurrence is one interval after creation (in whole seconds).
    const anchor = intervalAnchor(s, createdAt);
    const first = s.startAt !== undefined ? anchor : anchor + s.intervalMs;
    t = after < first ? first : anchor + (Math.floor((after - anchor) / s.intervalMs) + 1) * s.intervalMs;
  } else {
    // croner's next run is strictly after the time given; a run exactly at the start time counts.
    const from = s.startAt !== undefined && s.startAt - 1 > after ? s.startAt - 1 : after;
    t = ncrontab(s.cron!, s.timeZone ?? "UTC").next(new Date(from))?.getTime();
  }
  return t === undefined || (s.endAt !== undefined && t > s.endAt) ? undefined : t;
}

/** The first occurrence of a schedule created (or resumed) at `now`. */
export function firstOccurrence(s: ScheduleDefinition, createdAt: number, now: number): number | undefined {
  return nextOccurrence(s, createdAt, now - 1);
}

/**
 * The occurrence to start when the next one is due: the latest at or before `now` (occurrences that
 * fell due together, after a stall, start once), with the one after it. Undefined when nothing is due.
 */
export function dueOccurrence(r: ScheduleRecord, now: number): { at: number; next?: number } | undefined {
  if (r.nextRunAt === undefined || r.nextRunAt > now) return undefined;
  const until = r.endAt !== undefined ? Math.min(now, r.endAt) : now;
  let at: number;
  if (r.intervalMs !== undefined) {
    const anchor = intervalAnchor(r, r.createdAt);
    at = anchor + Math.floor((until - anchor) / r.intervalMs) * r.intervalMs;
  } else {
    at = ncrontab(r.cron!, r.timeZone ?? "UTC").latest(new Date(until))?.getTime() ?? r.nextRunAt;
  }
  at = Math.max(at, r.nextRunAt);
  return { at, next: nextOccurrence(r, r.createdAt, Math.max(at, now)) };
}

/**
 * Where a schedule stands after its scheduler was down: the latest occurrence it missed, which it
 * starts (catch-up "once") or not ("skip"), and the next one. Undefined when it missed none.
 */
export function afterDowntime(r: ScheduleRecord, now: number): { latest: number; start?: number; next?: number } | undefined {
  const due = dueOccurrence(r, now);
  if (!due) return undefined;
  return r.catchUp === "once" ? { latest: due.at, start: due.at, next: due.next } : { latest: due.at, next: due.next };
}

/** Where an interval schedule's occurrences are counted from: its start time, else its creation's whole second. */
function intervalAnchor(s: ScheduleDefinition, createdAt: number): number {
  return s.startAt ?? Math.floor(createdAt / 1000) * 1000;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
