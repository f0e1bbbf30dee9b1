// Timer triggers on the local host, as the Functions host runs them: each timer function's schedule
// (schedule.ts) fires it at each occurrence, one invocation at a time; `runOnStartup` runs it once
// at start; with the schedule monitor (`useMonitor`) the last occurrence is persisted, so an
// occurrence missed while the host was down runs once at the next start with `isPastDue: true`.
import * as fs from "fs";
import * as path from "path";
import { FunctionApp, RegisteredFunction, TypedData } from "../provider/function-app";
import { errorText, HostLog } from "./log";
import { checkPastDue, defaultUseMonitor, parseSchedule, resolveSettings, ScheduleStatus, TimerSchedule } from "./schedule";

/** The app setting naming where monitor records are kept; default `<app>/.dts/timers`. */
export const TIMERS_DIR_SETTING = "DTS_TIMERS_DIR";

export const isTimerTrigger = (type: string) => type.toLowerCase() === "timertrigger";

/** .NET's DateTime.MinValue: what the Functions host reports as `last` before any occurrence ran. */
const NEVER = "0001-01-01T00:00:00.000Z";
// setTimeout takes at most 2^31-1 ms; a longer wait is taken in steps.
const MAX_DELAY = 2 ** 31 - 1;

export interface TimerTriggersOptions {
  app: FunctionApp;
  /** App settings: `%Setting%` schedules, WEBSITE_TIME_ZONE, DTS_TIMERS_DIR. */
  settings: Record<string, string | undefined>;
  /** Runs the function with the Timer as trigger data; resolves when the invocation is over. */
  invoke(name: string, timer: TypedData, reason: string): Promise<unknown>;
  log: HostLog;
  now?: () => Date;
}

interface Timer {
  fn: RegisteredFunction;
  schedule: TimerSchedule;
  runOnStartup: boolean;
  /** The record file, when the schedule monitor is on. */
  statusFile?: string;
  status: ScheduleStatus;
  handle?: NodeJS.Timeout;
}

export class TimerTriggers {
  private readonly timers = new Map<string, Timer>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly now: () => Date;

  /** Reads each timer function's schedule; a bad one is reported (the function is in error) and skipped, as the host does. */
  constructor(private readonly options: TimerTriggersOptions) {
    this.now = options.now ?? (() => new Date());
    const { app, settings, log } = options;
    const timezone = timeZoneSetting(settings.WEBSITE_TIME_ZONE, log);
    const dir = settings[TIMERS_DIR_SETTING] || path.join(app.dir, ".dts", "timers");
    const now = this.now();
    for (const fn of app.functions.values()) {
      if (!isTimerTrigger(fn.triggerType)) continue;
      const trigger = fn.bindings[fn.triggerBindingName];
      let schedule: TimerSchedule;
      try {
        schedule = parseSchedule(resolveSettings(String(trigger.schedule ?? ""), settings), { timezone });
      } catch (err) {
        log("error", `The '${fn.name}' function is in error: ${(err as Error).message}`);
        continue;
      }
      const useMonitor = typeof trigger.useMonitor === "boolean" ? trigger.useMonitor : defaultUseMonitor(schedule, now);
      this.timers.set(fn.name, {
        fn, schedule, runOnStartup: trigger.runOnStartup === true,
        // Function names are case-insensitive and safe as file names ([A-Za-z][A-Za-z0-9_-]*).
        statusFile: useMonitor ? path.join(dir, `${fn.name.toLowerCase()}.json`) : undefined,
        status: { next: schedule.next(now), lastUpdated: now },
      });
    }
  }

  /** The timer functions that will run, with their schedules (for the start-up listing). */
  describe(name: string): string | undefined {
    const t = this.timers.get(name);
    return t && `timerTrigger (${t.schedule.expression}${t.statusFile ? "" : ", not monitored"}${t.runOnStartup ? ", runOnStartup" : ""})`;
  }

  /** Starts every timer: past-due occurrences and runOnStartup first, then the schedules. */
  start(): void {
    for (const t of this.timers.values()) {
      const now = this.now();
      const recorded = t.statusFile ? readStatus(t.statusFile, this.options.log) : undefined;
      const check = checkPastDue(t.schedule, recorded, now);
      t.status = { last: recorded?.last, next: check.next, lastUpdated: now };
      if (check.isPastDue) {
        this.options.log("information", `Timer '${t.fn.name}' is past due: its occurrence at ${check.due!.toISOString()} was missed; running it now`);
        this.track(this.fire(t, check.due!, check.next, true, `Timer fired at ${now.toISOString()}`).then(() => this.arm(t)));
      } else if (t.runOnStartup) {
        this.persist(t);
        this.track(this.options.invoke(t.fn.name, this.timerData(t, false), `Timer fired at ${now.toISOString()} (run on startup)`).then(() => this.arm(t)));
      } else {
        this.persist(t);
        this.arm(t);
      }
    }
  }

  /** The Timer a timer function gets when run by hand (admin API): not past due, the current status. */
  manualTimer(name: string): TypedData | undefined {
    const t = this.timers.get(name);
    return t && this.timerData(t, false);
  }

  /** Cancels the schedules and waits for invocations under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.handle);
    await Promise.allSettled([...this.running]);
  }

  private track(p: Promise<unknown>): void {
    this.running.add(p);
    p.finally(() => this.running.delete(p)).catch(() => undefined);
  }

  /** Waits for the recorded next occurrence, fires it, and arms again; one invocation at a time. */
  private arm(t: Timer): void {
    if (this.stopped) return;
    const now = this.now();
    if (t.status.next.getTime() < now.getTime()) {
      // A run (or a past-due run at start) outlasted the next occurrence: as the host does, skip
      // to the first occurrence after now instead of firing late.
      t.status = { ...t.status, next: t.schedule.next(now), lastUpdated: now };
      this.persist(t);
    }
    const due = t.status.next;
    const wait = due.getTime() - now.getTime();
    t.handle = setTimeout(() => {
      if (wait > MAX_DELAY) return this.arm(t);
      // The next occurrence counts from the later of now and this one: a timer that fires a little
      // early must not fire this occurrence twice.
      const fired = this.now();
      const after = fired.getTime() > due.getTime() ? fired : due;
      this.track(this.fire(t, due, t.schedule.next(after), false, `Timer fired at ${fired.toISOString()}`).then(() => this.arm(t)));
    }, Math.max(0, Math.min(wait, MAX_DELAY)));
  }

  /** Records `occurrence` as the last one (before the run, as the host does, so the function sees the next), then runs the function. */
  private async fire(t: Timer, occurrence: Date, next: Date, isPastDue: boolean, reason: string): Promise<void> {
    t.status = { last: occurrence, next, lastUpdated: this.now() };
    this.persist(t);
    try {
      await this.options.invoke(t.fn.name, this.timerData(t, isPastDue), reason);
    } catch (err) {
      this.options.log("error", `Timer '${t.fn.name}' failed to run: ${errorText(err)}`);
    }
  }

  private persist(t: Timer): void {
    if (!t.statusFile) return;
    try {
      writeStatus(t.statusFile, t.status);
    } catch (err) {
      this.options.log("warning", `Timer '${t.fn.name}': cannot record its schedule status in ${t.statusFile}: ${(err as Error).message}`);
    }
  }

  /** The Timer as the host sends it (PascalCase; @azure/functions camel-cases it for the handler). */
  private timerData(t: Timer, isPastDue: boolean): TypedData {
    const s = t.status;
    return {
      json: JSON.stringify({
        Schedule: { AdjustForDST: true },
        ScheduleStatus: { Last: s.last?.toISOString() ?? NEVER, Next: s.next.toISOString(), LastUpdated: s.lastUpdated.toISOString() },
        IsPastDue: isPastDue,
      }),
    };
  }
}

/** WEBSITE_TIME_ZONE when it is an IANA name (as on Linux plans); otherwise the process's time zone (TZ). */
function timeZoneSetting(value: string | undefined, log: HostLog): string | undefined {
  if (!value) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return value;
  } catch {
    log("warning", `WEBSITE_TIME_ZONE '${value}' is not an IANA time zone name (e.g. Europe/Paris); timer schedules use the local time zone`);
    return undefined;
  }
}

// The record has the shape of the Functions host's status blob: {"Last", "Next", "LastUpdated"}.
function readStatus(file: string, log: HostLog): ScheduleStatus | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") log("warning", `Cannot read timer status ${file}: ${(err as Error).message}`);
    return undefined;
  }
  try {
    const j = JSON.parse(text) as { Last?: string; Next?: string; LastUpdated?: string };
    const date = (v: string | undefined) => (v && v !== NEVER && !Number.isNaN(Date.parse(v)) ? new Date(v) : undefined);
    const next = date(j.Next);
    const lastUpdated = date(j.LastUpdated);
    if (!next || !lastUpdated) throw new Error("Next and LastUpdated must be dates");
    return { last: date(j.Last), next, lastUpdated };
  } catch (err) {
    log("warning", `Ignoring timer status ${file}: ${(err as Error).message}`);
    return undefined;
  }
}

function writeStatus(file: string, s: ScheduleStatus): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ Last: s.last?.toISOString() ?? NEVER, Next: s.next.toISOString(), LastUpdated: s.lastUpdated.toISOString() }) + "\n");
  fs.renameSync(tmp, file); // a crash mid-write leaves the previous record
}
