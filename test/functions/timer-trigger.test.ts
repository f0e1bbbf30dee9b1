// TimerTriggers (src/host/timer-trigger.ts) on jest's fake clock: when each timer fires, what Timer
// it passes, what the monitor records, and that a slow run is never overlapped. The end-to-end
// suite (timer-triggers.test.ts) runs the same code in the real host.
import * as fs from "fs";
import * as path from "path";
import { FunctionApp, RegisteredFunction, TypedData } from "../../src/provider/function-app";
import { TimerTriggers } from "../../src/host/timer-trigger";
import { tempDir } from "../helpers/dts-process";

function timerFunction(name: string, trigger: Record<string, unknown>): RegisteredFunction {
  return { name, triggerType: "timerTrigger", triggerBindingName: "t", bindings: { t: { name: "t", type: "timerTrigger", direction: "in", ...trigger } } };
}

/** Just what TimerTriggers reads of an app: its directory and functions. */
function appWith(dir: string, ...fns: RegisteredFunction[]): FunctionApp {
  return { dir, functions: new Map(fns.map((f) => [f.name, f])), invoke: async () => ({ returnValue: undefined, outputs: {} }), close: async () => undefined };
}

interface Run { name: string; timer: { IsPastDue: boolean; ScheduleStatus: { Last: string; Next: string; LastUpdated: string } }; at: string }

let dir: string;
let runs: Run[];
let triggers: TimerTriggers | undefined;
const logs: string[] = [];

function start(app: FunctionApp, settings: Record<string, string> = {}, runMs = 0): TimerTriggers {
  triggers = new TimerTriggers({
    app, settings: { WEBSITE_TIME_ZONE: "UTC", DTS_TIMERS_DIR: dir, ...settings },
    log: (_level, message) => logs.push(message),
    invoke: async (name: string, data: TypedData) => {
      runs.push({ name, timer: JSON.parse(data.json!), at: new Date().toISOString() });
      if (runMs) await new Promise((resolve) => setTimeout(resolve, runMs));
    },
  });
  triggers.start();
  return triggers;
}

beforeEach(() => {
  dir = tempDir("dts-timer-unit-");
  runs = [];
  logs.length = 0;
});
afterEach(async () => {
  await triggers?.stop();
  triggers = undefined;
  jest.useRealTimers();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a monitored daily timer fires at its occurrence with the updated status, and records it", async () => {
  jest.useFakeTimers({ now: new Date("2026-03-05T02:59:59.000Z") });
  start(appWith(dir, timerFunction("Daily", { schedule: "0 0 3 * * *" })));
  expect(JSON.parse(fs.readFileSync(path.join(dir, "daily.json"), "utf8"))).toMatchObject({ Next: "2026-03-05T03:00:00.000Z" });
  await jest.advanceTimersByTimeAsync(999);
  expect(runs).toEqual([]);
  await jest.advanceTimersByTimeAsync(1);
  expect(runs).toEqual([{
    name: "Daily", at: "2026-03-05T03:00:00.000Z",
    timer: { Schedule: { AdjustForDST: true }, IsPastDue: false, ScheduleStatus: { Last: "2026-03-05T03:00:00.000Z", Next: "2026-03-06T03:00:00.000Z", LastUpdated: "2026-03-05T03:00:00.000Z" } },
  }]);
  expect(JSON.parse(fs.readFileSync(path.join(dir, "daily.json"), "utf8"))).toEqual(runs[0].timer.ScheduleStatus);
});

test("a run slower than the schedule is not overlapped: occurrences passed meanwhile are skipped", async () => {
  jest.useFakeTimers({ now: new Date("2026-03-05T10:00:00.500Z") });
  start(appWith(dir, timerFunction("Fast", { schedule: "*/1 * * * * *" })), {}, 2_500);
  await jest.advanceTimersByTimeAsync(6_000);
  expect(runs.map((r) => r.at)).toEqual(["2026-03-05T10:00:01.000Z", "2026-03-05T10:00:04.000Z"]);
  expect(fs.existsSync(path.join(dir, "fast.json"))).toBe(false); // more than once a minute: not monitored
  const stopped = triggers!.stop(); // waits for the run under way
  await jest.advanceTimersByTimeAsync(2_500);
  await stopped;
});

test("a TimeSpan schedule from a setting; useMonitor false keeps no record; a bad schedule puts the function in error", async () => {
  jest.useFakeTimers({ now: new Date("2026-03-05T10:00:00.000Z") });
  start(appWith(dir,
    timerFunction("Every5", { schedule: "%INTERVAL%", useMonitor: false }),
    timerFunction("Broken", { schedule: "* * * * *" })), { INTERVAL: "00:05:00" });
  await jest.advanceTimersByTimeAsync(10 * 60_000);
  expect(runs.map((r) => `${r.name} ${r.at}`)).toEqual(["Every5 2026-03-05T10:05:00.000Z", "Every5 2026-03-05T10:10:00.000Z"]);
  expect(fs.readdirSync(dir)).toEqual([]);
  expect(logs.join("\n")).toMatch(/The 'Broken' function is in error: The schedule expression '\* \* \* \* \*' was not recognized/);
  expect(triggers!.manualTimer("Broken")).toBeUndefined();
});

test("restart: a missed occurrence runs once, past due; runOnStartup alone is not past due", async () => {
  jest.useFakeTimers({ now: new Date("2026-03-05T02:59:59.000Z") });
  const app = appWith(dir, timerFunction("Daily", { schedule: "0 0 3 * * *", runOnStartup: true }));
  start(app);
  await jest.advanceTimersByTimeAsync(0);
  expect(runs.map((r) => r.timer.IsPastDue)).toEqual([false]); // run on startup
  await triggers!.stop();

  // Down for two days: the 03:00 occurrences of the 5th, 6th and 7th were missed; one run makes up for them.
  jest.setSystemTime(new Date("2026-03-07T12:00:00.000Z"));
  runs = [];
  start(app);
  await jest.advanceTimersByTimeAsync(0);
  expect(runs).toHaveLength(1);
  expect(runs[0].timer).toMatchObject({ IsPastDue: true, ScheduleStatus: { Last: "2026-03-05T03:00:00.000Z", Next: "2026-03-08T03:00:00.000Z" } });
  expect(logs.join("\n")).toMatch(/Timer 'Daily' is past due: its occurrence at 2026-03-05T03:00:00.000Z was missed/);
});
