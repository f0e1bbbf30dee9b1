// Timer trigger schedules as the Functions host reads them, kept pure (every answer takes the time
// it is asked about) so they can be tested without waiting: six-field NCRONTAB expressions
// (`{second} {minute} {hour} {day} {month} {day-of-week}`), .NET TimeSpan intervals ("hh:mm:ss"),
// `%Setting%` references, and the schedule monitor's past-due rule.
import { ncrontab, parseTimeSpan } from "../core/cron";

export { parseTimeSpan };

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
  if (fields.length === 6) return cronSchedule(text, options.timezone);
  const interval = parseTimeSpan(text);
  if (interval !== undefined) {
    if (interval <= 0) throw new Error(`The schedule interval '${expression}' must be greater than zero`);
    return { expression: text, kind: "interval", next: (after) => new Date(after.getTime() + interval) };
  }
  const hint = fields.length === 5 ? " (NCRONTAB has six fields, seconds first: add a leading '0 ')" : "";
  throw new Error(`The schedule expression '${expression}' was not recognized as a valid cron expression or timespan string${hint}`);
}

function cronSchedule(text: string, timezone: string | undefined): TimerSchedule {
  const cron = ncrontab(text, timezone);
  return {
    expression: text, kind: "cron",
    next: (after) => {
      const n = cron.next(after);
      if (!n) throw new Error(`The schedule '${text}' has no occurrence after ${after.toISOString()}`);
      return n;
    },
  };
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
