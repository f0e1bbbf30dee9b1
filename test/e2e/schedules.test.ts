// End-to-end: schedules on a real `dts serve` (SQLite) with the official SDK's worker running what
// they start. Occurrences start instances with deterministic ids; across a SIGKILL and a restart on
// the same data, no occurrence is started twice and none is lost (the missed window is started once
// or skipped, as each schedule says); pause, resume and delete; bad definitions refused; an
// occurrence whose instance already exists is left alone.
import * as fs from "fs";
import { OrchestrationContext, OrchestrationState, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { deadPort, DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { pollUntil, sleep } from "../helpers/poll";
import { client, completed, worker } from "../helpers/sdk";

const servers: DtsProcess[] = [];
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.kill()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}, 30_000);

/** A server on `dataDir` (SQLite) with an SDK worker for the `scheduled` orchestration and a client. */
async function serve(dataDir: string, port?: number): Promise<{ dts: DtsProcess; c: TaskHubGrpcClient }> {
  const dts = await startDts(["--store", "sqlite", ...(port === undefined ? [] : ["--port", String(port)])], { dataDir });
  servers.push(dts);
  const w = worker(dts.address);
  // eslint-disable-next-line require-yield
  w.addNamedOrchestrator("scheduled", async function* (_ctx: OrchestrationContext, input: unknown): AsyncGenerator<never, unknown, unknown> {
    return input;
  });
  await w.start();
  workers.push(w);
  const c = client(dts.address);
  clients.push(c);
  return { dts, c };
}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function api(dts: DtsProcess, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`http://localhost:${dts.dashboardPort}/api/v1/taskhubs/${path}`, {
    method, headers: { "x-taskhub": "default", ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function instancesOf(c: TaskHubGrpcClient, scheduleId: string): Promise<OrchestrationState[]> {
  const out: OrchestrationState[] = [];
  for await (const s of c.getAllInstances({ instanceIdPrefix: `${scheduleId}@` })) out.push(s);
  return out.sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
}

/** The occurrence time an instance id names (`<scheduleId>@<ISO time>`). */
const occurrence = (id: string) => Date.parse(id.slice(id.indexOf("@") + 1));

/** The occurrence times of a 1 s interval schedule from `from` to `to`, inclusive. */
const everySecond = (from: number, to: number) => Array.from({ length: Math.round((to - from) / 1000) + 1 }, (_, i) => from + i * 1000);

const untilInstances = (c: TaskHubGrpcClient, id: string, done: (times: number[]) => boolean, what: string) =>
  pollUntil(async () => (await instancesOf(c, id)).map((s) => occurrence(s.instanceId)), done, what);

describe("schedules across a SIGKILL restart", () => {
  test("occurrences start once each with deterministic ids; the missed window is started once ('once') or skipped ('skip'), nothing else is lost", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const port = await deadPort();
    let { dts, c } = await serve(dir, port);
    for (const [id, catchUp] of [["every-once", "once"], ["every-skip", "skip"]]) {
      const created = await api(dts, "POST", "schedules", { scheduleId: id, orchestrationName: "scheduled", interval: "1s", input: { from: id }, catchUp });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ scheduleId: id, state: "active", intervalSeconds: 1, catchUp, lastRunAt: null });
    }
    for (const id of ["every-once", "every-skip"]) await untilInstances(c, id, (t) => t.length >= 3, `three occurrences of ${id}`);
    const first = await instancesOf(c, "every-once");
    expect((await completed(c, first[0].instanceId)).serializedOutput).toBe(JSON.stringify({ from: "every-once" }));

    const before = new Map<string, number>();
    for (const id of ["every-once", "every-skip"]) for (const s of await instancesOf(c, id)) before.set(s.instanceId, s.createdAt.getTime());
    await dts.kill();
    const killedAt = Date.now();
    // The downtime must span at least two occurrences: this waits on the clock, not on an event.
    await sleep(2500);
    ({ dts, c } = await serve(dir, port));
    const restartedAt = Date.now();
    expect(restartedAt - killedAt).toBeGreaterThanOrEqual(2500);

    for (const [id, catchUp] of [["every-once", "once"], ["every-skip", "skip"]]) {
      // What the restarted server says it missed: from A (the first occurrence it had not started) to B.
      const line = new RegExp(`schedule '${id}' in task hub 'default' missed its occurrences from (\\S+) to (\\S+) while the scheduler was down; ([^;]+); next run (\\S+)`).exec(dts.output());
      expect(line).not.toBeNull();
      const [, a, b, what, next] = line!;
      const missedFrom = Date.parse(a);
      const missedTo = Date.parse(b);
      expect(missedTo - missedFrom).toBeGreaterThanOrEqual(1000);
      expect(Date.parse(next)).toBe(missedTo + 1000);
      expect(what).toBe(catchUp === "once" ? `starting the latest, ${id}@${b} (catch-up: once)` : "none is started (catch-up: skip)");

      const times = await untilInstances(c, id, (t) => t.filter((x) => x > restartedAt).length >= 2, `two occurrences of ${id} after the restart`);
      const expected = everySecond(times[0], times[times.length - 1]).filter((t) => t < missedFrom || (catchUp === "once" ? t >= missedTo : t > missedTo));
      // No occurrence lost while running, before the kill or after the restart; the missed window as the policy says.
      expect(times).toEqual(expected);
      expect(missedFrom).toBe(Math.max(...times.filter((t) => t < missedFrom)) + 1000);
      expect(missedFrom).toBeLessThanOrEqual(killedAt + 1000);
    }
    // No duplicate: every instance started before the kill is the same one (a second start would have replaced it).
    for (const [instanceId, createdAt] of before) {
      const s = await c.getOrchestrationState(instanceId);
      expect(s?.createdAt.getTime()).toBe(createdAt);
    }
    const listed = await api(dts, "GET", "schedules");
    const once = listed.body.schedules.find((s: { scheduleId: string }) => s.scheduleId === "every-once");
    expect(Date.parse(once.nextRunAt)).toBeGreaterThan(Date.parse(once.lastRunAt));
    expect(once.lastInstanceId).toBe(`every-once@${once.lastRunAt}`);
  }, 60_000);
});

describe("managing schedules over the dashboard port's JSON API", () => {
  let dts: DtsProcess;
  let c: TaskHubGrpcClient;

  beforeAll(async () => {
    const dir = tempDir();
    dirs.push(dir);
    ({ dts, c } = await serve(dir));
  });

  test("pause stops occurrences, resume goes on from the next one after now, delete removes the schedule and keeps its instances", async () => {
    for (const id of ["to-pause", "to-delete"]) expect((await api(dts, "POST", "schedules", { scheduleId: id, orchestrationName: "scheduled", interval: 1 })).status).toBe(201);
    await untilInstances(c, "to-pause", (t) => t.length >= 1, "an occurrence of to-pause");
    await untilInstances(c, "to-delete", (t) => t.length >= 1, "an occurrence of to-delete");

    const paused = await api(dts, "POST", "schedules/to-pause/pause");
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ state: "paused", nextRunAt: null });
    const pausedAt = Date.now();
    expect((await api(dts, "DELETE", "schedules/to-delete")).status).toBe(204);
    const deletedAt = Date.now();
    expect((await api(dts, "GET", "schedules/to-delete")).status).toBe(404);
    expect((await api(dts, "POST", "schedules/to-delete/pause")).body.error).toMatch(/Schedule 'to-delete' not found in task hub 'default'/);
    // Two occurrences' worth of time in which neither may start anything: a wait on the clock.
    await sleep(2200);
    const whilePaused = (await instancesOf(c, "to-pause")).map((s) => occurrence(s.instanceId));
    expect(whilePaused.filter((t) => t > pausedAt)).toEqual([]);
    const kept = (await instancesOf(c, "to-delete")).map((s) => occurrence(s.instanceId));
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.filter((t) => t > deletedAt)).toEqual([]);

    const resumed = await api(dts, "POST", "schedules/to-pause/resume");
    const resumedAt = Date.now();
    expect(resumed.body.state).toBe("active");
    expect(Date.parse(resumed.body.nextRunAt)).toBeGreaterThan(pausedAt + 2000);
    const after = await untilInstances(c, "to-pause", (t) => t.some((x) => x > resumedAt - 1000), "an occurrence after resuming");
    // Occurrences that fell while paused are not started.
    expect(after.filter((t) => t > pausedAt + 1000 && t < Date.parse(resumed.body.nextRunAt))).toEqual([]);
    const list = (await api(dts, "GET", "schedules")).body.schedules.map((s: { scheduleId: string }) => s.scheduleId);
    expect(list).toContain("to-pause");
    expect(list).not.toContain("to-delete");
  }, 30_000);

  test("an occurrence whose instance id already exists is not started again; the schedule goes on", async () => {
    const startAt = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    const taken = `taken@${new Date(startAt).toISOString()}`;
    await c.scheduleNewOrchestration("scheduled", "by hand", taken);
    const byHand = await completed(c, taken);
    expect((await api(dts, "POST", "schedules", { scheduleId: "taken", orchestrationName: "scheduled", interval: "00:00:01", startAt: new Date(startAt).toISOString(), input: "\"scheduled\"" })).status).toBe(201);
    await untilInstances(c, "taken", (t) => t.includes(startAt + 1000), "the occurrence after the taken one");
    const again = await c.getOrchestrationState(taken, true);
    expect(again?.serializedInput).toBe(JSON.stringify("by hand"));
    expect(again?.createdAt.getTime()).toBe(byHand.createdAt.getTime());
    expect((await completed(c, `taken@${new Date(startAt + 1000).toISOString()}`)).serializedOutput).toBe(JSON.stringify("scheduled"));
    expect((await c.getOrchestrationState(taken))?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  }, 30_000);

  test.each<[string, object, number, RegExp]>([
    ["an unknown time zone", { cron: "0 0 * * * *", timeZone: "Mars/Olympus" }, 400, /timeZone 'Mars\/Olympus' is not a time zone this scheduler knows: use an IANA name/],
    ["a bad cron expression", { cron: "0 99 * * * *" }, 400, /cron: The schedule expression '0 99 \* \* \* \*' was not recognized as a valid cron expression/],
    ["an end before the start", { interval: "5m", startAt: "2030-01-02T00:00:00Z", endAt: "2030-01-01T00:00:00Z" }, 400, /endAt \(2030-01-01T00:00:00.000Z\) must be after startAt \(2030-01-02T00:00:00.000Z\)/],
    ["a bad interval", { interval: "every now and then" }, 400, /interval 'every now and then' is not an interval: write e.g. 30s/],
    ["an interval under a second", { interval: 0.5 }, 400, /interval is 0.5 seconds; the shortest allowed is 1/],
    ["both cron and interval", { cron: "0 0 * * * *", interval: "5m" }, 400, /either a cron expression or an interval/],
    ["input that is not JSON text", { interval: "5m", input: "{oops" }, 400, /input is a string but not JSON text/],
    ["a bad start time", { interval: "5m", startAt: "tomorrow" }, 400, /startAt must be an RFC 3339 date and time/],
  ])("%s is refused with a message and nothing is created", async (_what, fields, status, message) => {
    const r = await api(dts, "POST", "schedules", { scheduleId: "bad-one", orchestrationName: "scheduled", ...fields });
    expect(r.status).toBe(status);
    expect(r.body.error).toMatch(message);
    expect((await api(dts, "GET", "schedules/bad-one")).status).toBe(404);
  });

  test("the Go CLI's calls: the .NET SDK's names in, the list under `entities` with ScheduleConfiguration and Status", async () => {
    const created = await api(dts, "POST", "schedules", {
      ScheduleId: "go-cli", OrchestrationName: "scheduled", Interval: "PT1H", OrchestrationInput: "{\"a\":1}", StartImmediatelyIfLate: false, Options: {},
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scheduleId: "go-cli", intervalSeconds: 3600, catchUp: "skip", input: "{\"a\":1}" });
    const fixedId = await api(dts, "POST", "schedules", { ScheduleId: "go-cli-2", OrchestrationName: "scheduled", Interval: "PT1H", OrchestrationInstanceId: "mine" });
    expect(fixedId.status).toBe(400);
    expect(fixedId.body.error).toMatch(/OrchestrationInstanceId is not supported: each occurrence gets its own instance id/);
    const find = async () => (await api(dts, "GET", "schedules?continuationToken=")).body.entities.find((s: { scheduleId: string }) => s.scheduleId === "go-cli");
    expect(await find()).toMatchObject({
      ScheduleConfiguration: { ScheduleId: "go-cli", OrchestrationName: "scheduled", OrchestrationInput: "{\"a\":1}", Interval: "01:00:00", StartImmediatelyIfLate: false },
      Status: 0, LastRunAt: null,
    });
    expect((await api(dts, "POST", "schedules/go-cli/pause")).status).toBe(200);
    expect((await find()).Status).toBe(1);
    expect((await api(dts, "POST", "schedules/go-cli/resume")).status).toBe(200);
    expect((await find()).Status).toBe(0);
    expect((await api(dts, "DELETE", "schedules/go-cli")).status).toBe(204);
  });

  test("a second schedule with the same id is refused with 409, the first left as it was", async () => {
    expect((await api(dts, "POST", "schedules", { scheduleId: "twice", orchestrationName: "scheduled", cron: "0 0 3 * * *" })).status).toBe(201);
    const again = await api(dts, "POST", "schedules", { scheduleId: "twice", orchestrationName: "other", interval: "1m" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/A schedule with id 'twice' already exists in task hub 'default'; delete it first or choose another id/);
    expect((await api(dts, "GET", "schedules/twice")).body).toMatchObject({ orchestrationName: "scheduled", cron: "0 0 3 * * *", timeZone: "UTC", intervalSeconds: null });
  });
});
