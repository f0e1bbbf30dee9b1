// Timer triggers on `dts func start`, end to end: the fixture app's timers start orchestrations
// through their durable clients with the Timer they received as input, so each instance's output
// (the Record orchestration returns its input) shows what the handler got. Every-second and
// run-on-startup schedules, and a monitor record left with a missed occurrence, keep it quick.
import * as fs from "fs";
import * as path from "path";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { connectionString, FIXTURES, FuncHostProcess, http, pollStatus, pollUntil, startFuncHost } from "../helpers/func-process";
import { stopAll } from "../helpers/teardown";

let dts: DtsProcess;
let host: FuncHostProcess;
let timersDir: string;

// A daily 03:00 occurrence the host "missed": the record says it was due on 2 January 2026.
const MISSED = { Last: "2026-01-01T03:00:00.000Z", Next: "2026-01-02T03:00:00.000Z", LastUpdated: "2026-01-01T03:00:00.120Z" };

beforeAll(async () => {
  timersDir = tempDir("dts-timers-");
  fs.writeFileSync(path.join(timersDir, "daily.json"), JSON.stringify(MISSED));
  dts = await startDts(["--store", "memory"]);
  host = await startFuncHost(path.join(FIXTURES, "timer-app"), {
    DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port),
    DTS_TIMERS_DIR: timersDir,
    WEBSITE_TIME_ZONE: "UTC",
  });
});
afterAll(async () => {
  const code = await host?.stop();
  await stopAll({ servers: [dts] });
  fs.rmSync(timersDir, { recursive: true, force: true });
  expect(code).toBe(0);
});

const instanceUrl = (id: string) => `${host.origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}`;

/** The Timer (or other input) the function that started `id` was given. */
async function recorded(id: string) {
  const r = await pollStatus(instanceUrl(id));
  expect(r.body.runtimeStatus).toBe("Completed");
  return r.body.output;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test("an every-second schedule from an app setting fires each second, one run at a time, not monitored", async () => {
  const list = await pollUntil(`${host.origin}/runtime/webhooks/durabletask/instances?instanceIdPrefix=tick-`,
    (r) => Array.isArray(r.body) && r.body.filter((i: { runtimeStatus: string }) => i.runtimeStatus === "Completed").length >= 2);
  expect(list.status).toBe(200);
  const first = await recorded("tick-1");
  const second = await recorded("tick-2");
  for (const t of [first, second]) {
    expect(t.isPastDue).toBe(false);
    expect(t.schedule).toEqual({ adjustForDST: true });
    expect(t.scheduleStatus.last).toMatch(ISO);
    expect(t.scheduleStatus.lastUpdated).toMatch(ISO);
    // The status is updated before the run: `last` is this occurrence, `next` the following one.
    expect(Date.parse(t.scheduleStatus.next) - Date.parse(t.scheduleStatus.last)).toBeGreaterThanOrEqual(1000); // more only if the run started over a second late
    expect(Date.parse(t.scheduleStatus.next) % 1000).toBe(0);
    expect(Date.parse(t.scheduleStatus.last) % 1000).toBe(0);
  }
  expect(Date.parse(second.scheduleStatus.last)).toBeGreaterThan(Date.parse(first.scheduleStatus.last));
  expect(host.output()).toMatch(/Executing 'EverySecond' \(Reason='Timer fired at \d{4}-[^']+', Id=[0-9a-f-]{36}\)/);
  expect(host.output()).toMatch(/Executed 'EverySecond' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)/);
  // Faster than once a minute: no monitor record.
  expect(fs.existsSync(path.join(timersDir, "everysecond.json"))).toBe(false);
});

test("runOnStartup runs the function once at start, not past due, with the schedule's next occurrence", async () => {
  const t = await recorded("startup");
  expect(t.isPastDue).toBe(false);
  const now = new Date();
  expect(t.scheduleStatus.next).toBe(`${now.getUTCFullYear() + 1}-01-01T00:00:00.000Z`);
  expect(t.scheduleStatus.last).toBe("0001-01-01T00:00:00.000Z"); // no occurrence has run (DateTime.MinValue, as the host says)
  expect(host.output()).toMatch(/Functions:[\s\S]*OnStartup: timerTrigger \(0 0 0 1 Jan \*, runOnStartup\)/);
});

test("a monitored occurrence missed while the host was down runs once at start with isPastDue, and the record moves on", async () => {
  const t = await recorded("daily-pastdue");
  expect(t.isPastDue).toBe(true);
  expect(t.scheduleStatus.last).toBe(MISSED.Next);
  expect(Date.parse(t.scheduleStatus.next)).toBeGreaterThan(Date.now());
  expect(t.scheduleStatus.next).toMatch(/T03:00:00\.000Z$/);
  const record = JSON.parse(fs.readFileSync(path.join(timersDir, "daily.json"), "utf8"));
  expect(record).toEqual({ Last: MISSED.Next, Next: t.scheduleStatus.next, LastUpdated: t.scheduleStatus.lastUpdated });
  expect(host.output()).toMatch(/Timer 'Daily' is past due/);
});

test("POST /admin/functions/{name} runs a timer function by hand (not past due) and a queue function with its input", async () => {
  const timer = await http("POST", `${host.origin}/admin/functions/Daily`, { input: "" });
  expect(timer.status).toBe(202);
  const t = await recorded("daily-manual");
  expect(t.isPastDue).toBe(false);
  expect(host.output()).toMatch(/Executing 'Daily' \(Reason='This function was programmatically called via the host APIs\.'/);

  const queue = await http("POST", `${host.origin}/admin/functions/queuework`, { input: "hello" });
  expect(queue.status).toBe(202);
  expect(await recorded("queue-hello")).toBe("hello");
});

test("POST /admin/functions/{name}: unknown 404, HTTP and Durable triggers 400, a non-JSON body 415", async () => {
  expect((await http("POST", `${host.origin}/admin/functions/Nope`, { input: "" })).status).toBe(404);
  const ping = await http("POST", `${host.origin}/admin/functions/Ping`, { input: "" });
  expect(ping.status).toBe(400);
  expect(ping.body.error).toMatch(/HTTP function/);
  expect((await http("POST", `${host.origin}/admin/functions/Record`, { input: "" })).status).toBe(400);
  expect((await http("POST", `${host.origin}/admin/functions/Daily`, '{"input":""}', { "content-type": "text/plain" })).status).toBe(415);
  expect((await http("GET", `${host.origin}/admin/functions/Daily`)).status).toBe(405);
});

test("a trigger the host cannot run is reported at start with its function and type", () => {
  expect(host.output()).toMatch(/Function 'QueueWork': trigger type 'queueTrigger' is not supported by this host; it will not run/);
});
