// Timer trigger schedules as the Functions host reads them, kept pure (every answer takes the time
// it is asked about) so they can be tested without waiting: six-field NCRONTAB expressions
// (`{second} {minute} {hour} {day} {month} {day-of-week}`), .NET TimeSpan intervals ("hh:mm:ss"),
// `%Setting%` references, and the schedule monitor's past-due rule.
import { Cron } from "croner";

export interface TimerSchedule {
  /** The expression after `%Setting%` resolution. */
  readonly expression: string;
  readonly kind: "cron" | "interval";
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
}

/** What the schedule monitor records per timer (the Functions host keeps the same three times). */
export interface ScheduleStatus {
  /** The last occurrence that ran; undefined before the first. */
  last?: Date;
  next: Date;
  lastUpdated: Date;
}

/** Replaces each `%NAME%` with the app setting NAME, as the host's name resolver does. */
export function resolveSettings(expression: string, settings: Record<string, string | undefined>): string {
  return expression.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = settings[name];
    if (value === undefined) throw new Error(`'%${name}%' does not resolve to a value (no app setting '${name}')`);
    return value;
  });
}

/**
 * A schedule from a timer trigger's `schedule`: NCRONTAB first, then TimeSpan, as the host tries
 * them. `timezone` (an IANA name) applies to NCRONTAB; by default the process's local time zone.
 */
export function parseSchedule(expression: string, options: { timezone?: string } = {}): TimerSchedule {
  const text = expression.trim();
  const fields = text.split(/\s+/);
  if (fields.length === 6) return cronSchedule(text, fields, options.timezone);
  const interval = parseTimeSpan(text);
  if (interval !== undefined) {
    if (interval <= 0) throw new Error(`The schedule interval '${expression}' must be greater than zero`);
    return { expression: text, kind: "interval", next: (after) => new Date(after.getTime() + interval) };
  }
  const hint = fields.length === 5 ? " (NCRONTAB has six fields, seconds first: add a leading '0 ')" : "";
  throw new Error(`The schedule expression '${expression}' was not recognized as a valid cron expression or timespan string${hint}`);
}

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const FIELD_NAMES = ["second", "minute", "hour", "day", "month", "day-of-week"];

function cronSchedule(text: string, fields: string[], timezone: string | undefined): TimerSchedule {
  const mapped = fields.map((f, i) => {
    let field = f;
    // NCRONTAB takes month and day names (three letters or whole, any case); croner only the three letters.
    if (i === 4) field = namesToNumbers(f, MONTHS, 1, text);
    if (i === 5) field = namesToNumbers(f, DAYS, 0, text);
    // NCRONTAB has no '?', 'L', 'W' or '#' (croner does): refuse what Azure would refuse.
    if (!/^[\d*,\-/]+$/.test(field)) throw new Error(`The schedule expression '${text}' is not valid NCRONTAB: the ${FIELD_NAMES[i]} field '${f}' may hold only numbers, names, '*', ',', '-' and '/'`);
    return field;
  });
  // NCRONTAB's day of week is 0-6 (croner also takes 7 for Sunday).
  for (const item of mapped[5].split(",")) {
    const [range] = item.split("/");
    if (range.split("-").some((n) => n !== "*" && Number(n) > 6)) throw new Error(`The schedule expression '${text}' is not valid NCRONTAB: day of week is 0-6 (Sunday is 0)`);
  }
  let cron: Cron;
  try {
    // NCRONTAB requires both day and day of week to match (croner's default is either, as Vixie cron).
    cron = new Cron(mapped.join(" "), { paused: true, mode: "6-part", domAndDow: true, sloppyRanges: true, timezone });
  } catch (err) {
    throw new Error(`The schedule expression '${text}' was not recognized as a valid cron expression: ${(err as Error).message}`);
  }
  return {
    expression: text, kind: "cron",
    next: (after) => {
      const n = cron.nextRun(after);
      if (!n) throw new Error(`The schedule '${text}' has no occurrence after ${after.toISOString()}`);
      return n;
    },
  };
}

function namesToNumbers(field: string, names: string[], base: number, text: string): string {
  return field.replace(/[a-z]+/gi, (word) => {
    const w = word.toLowerCase();
    const i = names.findIndex((n) => n === w || (w.length === 3 && n.startsWith(w)));
    if (i < 0) throw new Error(`The schedule expression '${text}' has an unknown name '${word}'`);
    return String(i + base);
  });
}

/**
 * Milliseconds of a .NET TimeSpan string ([-][d.]hh:mm[:ss[.fffffff]], d:hh:mm:ss, or whole days
 * "d"), or undefined when the text is not one. Components out of range are not TimeSpans either.
 */
export function parseTimeSpan(text: string): number | undefined {
  const m = /^(-)?(?:(\d+)[.:](?=\d+:\d+:))?(\d+):(\d+)(?::(\d+)(?:\.(\d{1,7}))?)?$/.exec(text) ?? /^(-)?(\d+)$/.exec(text);
  if (!m) return undefined;
  const [, minus, days, hours, minutes, seconds, fraction] = m;
  if (hours === undefined) return (minus ? -1 : 1) * Number(days) * 86_400_000;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds ?? 0) > 59) return undefined;
  const ms = ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds ?? 0) * 1000 + Math.round(Number(`0.${fraction ?? 0}`) * 1000);
  return minus ? -ms : ms;
}

/**
 * The monitor's default: on for schedules that recur at most once a minute (judged by the two
 * occurrences after `now`), off for faster ones, whose missed occurrences are not worth catching up.
 */
export function defaultUseMonitor(schedule: TimerSchedule, now: Date): boolean {
  const first = schedule.next(now);
  return schedule.next(first).getTime() - first.getTime() >= 60_000;
}

/**
 * At start-up, with the status recorded before (if any): is an occurrence past due, and when is the
 * next one? An occurrence is past due when the recorded next one is before `now`. If the schedule
 * changed since the record (its next occurrence after the recorded last is not the recorded next),
 * the due time is recomputed from when the record was written.
 */
export function checkPastDue(schedule: TimerSchedule, recorded: ScheduleStatus | undefined, now: Date): { isPastDue: boolean; due?: Date; next: Date } {
  if (!recorded) return { isPastDue: false, next: schedule.next(now) };
  let due = recorded.next;
  if (schedule.next(recorded.last ?? recorded.lastUpdated).getTime() !== due.getTime()) due = schedule.next(recorded.lastUpdated);
  if (due.getTime() < now.getTime()) return { isPastDue: true, due, next: schedule.next(now) };
  return { isPastDue: false, next: due };
}
