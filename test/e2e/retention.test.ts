// Retention end to end: a real `dts serve` on a SQLite data directory holding instances that
// finished 40 days ago purges them in the background (default policy, 30 days) and keeps recent
// ones; `dts retention show|set` read and change a hub's policy through the dashboard's JSON API,
// the policy survives a restart, and bad input gets a clear message and the right exit code.
import * as fs from "fs";
import { DAY_MS } from "../../src/core/retention";
import { SqliteStore } from "../../src/store";
import { DtsProcess, runCli, startDts, tempDir } from "../helpers/dts-process";
import { seedFinished } from "../helpers/finished-instances";
import { pollUntil } from "../helpers/poll";

const dirs: string[] = [];
let dts: DtsProcess | undefined;
afterEach(async () => {
  await dts?.stop();
  dts = undefined;
});
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function dataDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

const retention = (args: string[]) => runCli(["retention", ...args, "--dashboard-url", `http://localhost:${dts!.dashboardPort}`]);

test("dts serve purges instances finished longer ago than the policy, in the background, and keeps the rest", async () => {
  const dir = dataDir();
  seedFinished(dir, "default", 250, Date.now() - 40 * DAY_MS, "old-");
  seedFinished(dir, "default", 3, Date.now() - 1 * DAY_MS, "recent-");
  dts = await startDts(["--store", "sqlite"], { dataDir: dir });
  expect(dts.output()).toMatch(/retention: finished instances purged after Completed 30 days, Failed 30 days, Canceled 30 days, Terminated 30 days/);
  await pollUntil(async () => dts!.output(), (out) => /retention: purged 250 from task hub 'default'/.test(out), "the purge of the 250 old instances to be logged");
  await dts.stop();
  dts = undefined;
  const store = new SqliteStore(dir);
  try {
    expect(store.findInstanceIds("default", {}, 0).sort()).toEqual(["recent-0", "recent-1", "recent-2"]);
    expect(store.getHistory("default", "old-7")).toEqual([]);
  } finally {
    store.close();
  }
});

test("dts retention show and set, through a real dts serve; the hub's policy survives a restart; bad input is refused clearly", async () => {
  const dir = dataDir();
  dts = await startDts(["--hubs", "default,billing", "--retention-days", "20", "--retention-failed-days", "60"], { dataDir: dir });

  let r = await retention(["show", "--hub", "billing"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/task hub 'billing'/);
  expect(r.stdout).toMatch(/Completed\s+20 days\s+set by the scheduler/);
  expect(r.stdout).toMatch(/Failed\s+60 days\s+set by the scheduler/);
  expect(r.stdout).toMatch(/own policy: none/);

  r = await retention(["set", "--hub", "billing", "--days", "7", "--terminated-days", "0"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Completed\s+7 days\s+set by the task hub/);
  expect(r.stdout).toMatch(/Failed\s+7 days\s+set by the task hub/);
  expect(r.stdout).toMatch(/Terminated\s+kept forever\s+set by the task hub/);

  // The other hub still follows the scheduler.
  r = await retention(["show", "--hub", "default", "--json"]);
  expect(JSON.parse(r.stdout)).toMatchObject({ taskHub: "default", policy: null, schedulerPolicy: { days: 20, failedDays: 60 } });

  await dts.stop();
  dts = await startDts(["--hubs", "default,billing"], { dataDir: dir });
  r = await retention(["show", "--hub", "billing", "--json"]);
  expect(JSON.parse(r.stdout)).toMatchObject({ taskHub: "billing", policy: { days: 7, terminatedDays: 0 } });
  expect(JSON.parse(r.stdout).periods).toContainEqual({ status: "Completed", days: 7, from: "hub" });

  // Bad input: the flag checked by the command (exit 2), the value checked by the server (exit 1), nothing changed.
  r = await retention(["set", "--hub", "billing", "--days=-1"]);
  expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--days must be a whole number >= 0, got '-1'/)]);
  r = await retention(["set", "--hub", "billing", "--failed-days", "99999"]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 400: failedDays must be a whole number of days from 0 \(keep forever\) to 3650/)]);
  r = await retention(["set", "--hub", "billing"]);
  expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/needs at least one of --days/)]);
  r = await retention(["show", "--hub", "nope"]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 404: Task hub 'nope' is not served here; served: billing, default/)]);
  r = await retention(["show", "--hub", "billing", "--json"]);
  expect(JSON.parse(r.stdout).policy).toEqual({ days: 7, terminatedDays: 0 });

  r = await retention(["set", "--hub", "billing", "--clear"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Completed\s+30 days\s+set by the scheduler/);
  expect(r.stdout).toMatch(/own policy: none/);
});

test("dts serve refuses a bad retention flag with exit code 2", async () => {
  for (const [args, message] of [[["--retention-days=-3"], /--retention-days must be a whole number >= 0/], [["--retention-completed-days", "5000"], /--retention-completed-days must be at most 3650 days/]] as const) {
    const r = await runCli(["serve", "--port", "0", "--no-dashboard", "--store", "memory", ...args]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
  }
  const env = await runCli(["serve", "--port", "0", "--no-dashboard", "--store", "memory"], { DTS_RETENTION_FAILED_DAYS: "x" });
  expect([env.code, env.stderr]).toEqual([2, expect.stringMatching(/--retention-failed-days must be a whole number >= 0, got 'x'/)]);
});
