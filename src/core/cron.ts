// Six-field NCRONTAB expressions (`{second} {minute} {hour} {day} {month} {day-of-week}`, the
// dialect of Functions timer triggers) and .NET TimeSpan intervals, read through croner and kept
// pure: every answer takes the time it is asked about. Timer triggers (host/) and task hub schedules
// (scheduler/) share them, so one expression means the same thing in both.
import { Cron } from "croner";

export interface CronExpression {
  readonly text: string;
  /** The first occurrence strictly after `after`; undefined when there is none. */
  next(after: Date): Date | undefined;
  /** The last occurrence at or before `atOrBefore`; undefined when there is none. */
  latest(atOrBefore: Date): Date | undefined;
}

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const FIELD_NAMES = ["second", "minute", "hour", "day", "month", "day-of-week"];

/**
 * A six-field NCRONTAB expression in `timezone` (an IANA name; by default the process's local time
 * zone). Throws an Error saying what is wrong with it.
 */
export function ncrontab(text: string, timezone?: string): CronExpression {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`The cron expression '${text}' has ${fields.length} fields; NCRONTAB has six, seconds first ({second} {minute} {hour} {day} {month} {day-of-week})`);
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
    text: text.trim(),
    next: (after) => cron.nextRun(after) ?? undefined,
    // croner's previous runs are strictly before the reference, but include one earlier in its second.
    latest: (atOrBefore) => cron.previousRuns(1, new Date(atOrBefore.getTime() + 1))[0],
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

/** Is `name` a time zone this runtime knows (an IANA name such as Europe/Paris, or UTC)? */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
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
