// Retention (autopurge) on the engine, with a clock the test controls: finished instances are purged
// per status after their period, counted from completion; unfinished ones and entities are kept;
// sub-orchestrations go with their parents; a hub's own policy wins and survives a restart.
import * as fs from "fs";
import { DAY_MS, RetentionPolicy } from "../../src/core/retention";
import { HistoryEvent, Status } from "../../src/core/model";
import { parseArchiveLine } from "../../src/core/instance-archive";
import { pb } from "../../src/proto";
import { retentionArchive } from "../../src/cli/retention-archive";
import { SchedulerError } from "../../src/core/errors";
import { RetentionOptions } from "../../src/scheduler/retention-purger";
import { Scheduler } from "../../src/scheduler/scheduler";
import { MemoryStore, SqliteStore, Store, StoreOp } from "../../src/store";
import { tempDir } from "../helpers/dts-process";
import { finishedInstance } from "../helpers/finished-instances";
import { pollUntil } from "../helpers/poll";

const S = Status;
const T0 = Date.UTC(2026, 0, 1);
const HUB = "default";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A record that is not finished (with a completion time all the same: the status alone must protect it). */
function unfinished(id: string, status: Status): StoreOp[] {
  const [put, history] = finishedInstance(HUB, id, status, T0 - 100 * DAY_MS);
  return [put, history];
}

/** A scheduler over `store` whose purger runs only when asked, at the time `clock.now` says. */
function schedulerAt(store: Store, policy: RetentionPolicy, extra: Partial<RetentionOptions> = {}) {
  const clock = { now: T0 };
  const lines: string[] = [];
  const scheduler = new Scheduler(store, { retention: { policy, clock: () => clock.now, intervalMs: 0, log: (l) => lines.push(l), ...extra } });
  return { scheduler, clock, lines, hub: scheduler.hub(HUB) };
}

function seeded(ops: StoreOp[][]): MemoryStore {
  const store = new MemoryStore();
  store.createHub(HUB);
  store.commit(ops.flat());
  return store;
}

const present = (store: Store, ids: string[]) => ids.filter((id) => store.getInstance(HUB, id) !== undefined);

test("each finished status is purged its own period after it finished; running, pending, suspended and continued-as-new are kept", async () => {
  const store = seeded([
    finishedInstance(HUB, "completed", S.ORCHESTRATION_STATUS_COMPLETED, T0),
    finishedInstance(HUB, "failed", S.ORCHESTRATION_STATUS_FAILED, T0),
    finishedInstance(HUB, "canceled", S.ORCHESTRATION_STATUS_CANCELED, T0),
    finishedInstance(HUB, "terminated", S.ORCHESTRATION_STATUS_TERMINATED, T0),
    finishedInstance(HUB, "completed-later", S.ORCHESTRATION_STATUS_COMPLETED, T0 + 2 * DAY_MS),
    unfinished("running", S.ORCHESTRATION_STATUS_RUNNING), unfinished("pending", S.ORCHESTRATION_STATUS_PENDING),
    unfinished("suspended", S.ORCHESTRATION_STATUS_SUSPENDED), unfinished("continued", S.ORCHESTRATION_STATUS_CONTINUED_AS_NEW),
  ]);
  const all = ["completed", "failed", "canceled", "terminated", "completed-later", "running", "pending", "suspended", "continued"];
  const { scheduler, clock } = schedulerAt(store, { days: 0, completedDays: 1, failedDays: 3, canceledDays: 5 });
  const at = async (days: number) => {
    clock.now = T0 + days * DAY_MS;
    await scheduler.retention.sweep();
    return present(store, all);
  };
  expect(await at(0.99)).toEqual(all);
  expect(await at(1)).toEqual(all.filter((id) => id !== "completed"));
  // Counted from each one's completion: the one completed two days later is still kept.
  expect(await at(2.99)).toEqual(all.filter((id) => id !== "completed"));
  expect(await at(3)).toEqual(["canceled", "terminated", "running", "pending", "suspended", "continued"]);
  expect(await at(5)).toEqual(["terminated", "running", "pending", "suspended", "continued"]);
  // Terminated falls back to days 0: kept forever.
  expect(await at(3000)).toEqual(["terminated", "running", "pending", "suspended", "continued"]);
  expect(store.getHistory(HUB, "completed")).toEqual([]);
  await scheduler.close();
});

test("a sub-orchestration goes with its parent, as the purge RPC does; entities are never purged by retention", async () => {
  const store = seeded([
    finishedInstance(HUB, "parent", S.ORCHESTRATION_STATUS_COMPLETED, T0, { children: ["child"] }),
    // The child's own period (Failed: 90 days) has not passed, but it goes with its parent.
    finishedInstance(HUB, "child", S.ORCHESTRATION_STATUS_FAILED, T0, { parentInstanceId: "parent" }),
    finishedInstance(HUB, "other-child-of-running", S.ORCHESTRATION_STATUS_COMPLETED, T0, { parentInstanceId: "running" }),
    unfinished("running", S.ORCHESTRATION_STATUS_RUNNING),
  ]);
  const { scheduler, clock, hub } = schedulerAt(store, { days: 30, completedDays: 1, failedDays: 90 });
  await hub.entities.signal({ instanceId: "@counter@a", name: "add", input: { value: "1" } });
  clock.now = T0 + 2 * DAY_MS;
  const purged = await scheduler.retention.sweep();
  expect(purged.get(HUB)).toBe(3);
  expect(present(store, ["parent", "child", "other-child-of-running", "running"])).toEqual(["running"]);
  clock.now = T0 + 3000 * DAY_MS;
  await scheduler.retention.sweep();
  expect(hub.entities.get("@counter@a")).toBeDefined();
  expect(store.getInstance(HUB, "@counter@a")).toBeDefined();
  await scheduler.close();
});

test("a hub's own policy wins over the scheduler's, per status and by its default; clearing it goes back; bad periods are refused", async () => {
  const store = seeded([]);
  store.createHub("other");
  store.commit([
    ...finishedInstance(HUB, "c", S.ORCHESTRATION_STATUS_COMPLETED, T0), ...finishedInstance(HUB, "f", S.ORCHESTRATION_STATUS_FAILED, T0),
    ...finishedInstance("other", "c", S.ORCHESTRATION_STATUS_COMPLETED, T0), ...finishedInstance("other", "f", S.ORCHESTRATION_STATUS_FAILED, T0),
  ]);
  const clock = { now: T0 + 3 * DAY_MS };
  const scheduler = new Scheduler(store, { hubs: [HUB, "other"], retention: { policy: { days: 10, failedDays: 2 }, clock: () => clock.now, intervalMs: 0 } });
  const hub = scheduler.hub(HUB);
  await hub.retention.set({ days: 5, completedDays: 1 });
  expect(hub.retention.get()).toEqual({ days: 5, completedDays: 1 });
  // HUB: Completed 1 (its own), Failed 5 (its own default wins over the scheduler's Failed 2). other: Failed 2, Completed 10.
  await scheduler.retention.sweep();
  expect(present(store, ["c", "f"])).toEqual(["f"]);
  expect(["c", "f"].filter((id) => store.getInstance("other", id))).toEqual(["c"]);

  for (const bad of [{ days: -1 }, { failedDays: 1.5 }, { days: 100_000 }, { weeks: 2 } as RetentionPolicy, { days: "7" as unknown as number }]) {
    let err: unknown;
    try {
      await hub.retention.set(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).code).toBe("INVALID_ARGUMENT");
    expect((err as Error).message).toMatch(/days|field/);
  }
  expect(hub.retention.get()).toEqual({ days: 5, completedDays: 1 });

  await hub.retention.set(undefined);
  expect(hub.retention.get()).toBeUndefined();
  await scheduler.close();
});

test("a sweep purges in batches of batchSize, one commit each, and logs the count per hub", async () => {
  const store = seeded(Array.from({ length: 35 }, (_, i) => finishedInstance(HUB, `i${i}`, S.ORCHESTRATION_STATUS_COMPLETED, T0)));
  let commits = 0;
  const commit = store.commit.bind(store);
  store.commit = (ops) => {
    if (ops.some((op) => op.op === "deleteInstance")) commits++;
    commit(ops);
  };
  const { scheduler, clock, lines } = schedulerAt(store, { days: 1 }, { batchSize: 10 });
  clock.now = T0 + 2 * DAY_MS;
  expect((await scheduler.retention.sweep()).get(HUB)).toBe(35);
  expect(commits).toBe(4);
  expect(lines).toEqual(["retention: purged 35 from task hub 'default' (finished longer ago than their retention period)"]);
  expect((await scheduler.retention.sweep()).size).toBe(0);
  await scheduler.close();
});

test("a hub being reloaded after a failed commit is left to the next sweep", async () => {
  const store = seeded([finishedInstance(HUB, "old", S.ORCHESTRATION_STATUS_COMPLETED, T0)]);
  const { scheduler, clock, hub } = schedulerAt(store, { days: 1 });
  clock.now = T0 + 2 * DAY_MS;
  hub.loading = true;
  expect((await scheduler.retention.sweep()).size).toBe(0);
  expect(present(store, ["old"])).toEqual(["old"]);
  hub.loading = false;
  expect((await scheduler.retention.sweep()).get(HUB)).toBe(1);
  expect(present(store, ["old"])).toEqual([]);
  await scheduler.close();
});

test("background sweeps purge without being asked, on a real SQLite file; a hub's own policy survives a restart", async () => {
  const dir = tempDir();
  dirs.push(dir);
  let store = new SqliteStore(dir, { writerThread: true });
  await store.ready!();
  store.createHub(HUB);
  store.commit([...finishedInstance(HUB, "old", S.ORCHESTRATION_STATUS_COMPLETED, T0), ...finishedInstance(HUB, "new", S.ORCHESTRATION_STATUS_COMPLETED, T0 + 9 * DAY_MS)]);
  const clock = { now: T0 + 10 * DAY_MS };
  let scheduler = new Scheduler(store, { retention: { policy: { days: 30 }, clock: () => clock.now, intervalMs: 20, startDelayMs: 0 } });
  await scheduler.hub(HUB).retention.set({ completedDays: 7 });
  await pollUntil(async () => store.getInstance(HUB, "old"), (r) => r === undefined, "the background sweep to purge 'old'");
  expect(store.getHistory(HUB, "old")).toEqual([]);
  expect(store.getInstance(HUB, "new")).toBeDefined();
  await scheduler.close();

  store = new SqliteStore(dir, { writerThread: true });
  await store.ready!();
  scheduler = new Scheduler(store, { retention: { policy: { days: 30 }, clock: () => clock.now, intervalMs: 0 } });
  expect(scheduler.hub(HUB).retention.get()).toEqual({ completedDays: 7 });
  clock.now = T0 + 17 * DAY_MS;
  await scheduler.retention.sweep();
  expect(store.getInstance(HUB, "new")).toBeUndefined();
  await scheduler.hub(HUB).retention.set(undefined);
  await scheduler.close();

  store = new SqliteStore(dir);
  scheduler = new Scheduler(store, { retention: { intervalMs: 0 } });
  expect(scheduler.hub(HUB).retention.get()).toBeUndefined();
  await scheduler.close();
});

test("--retention-export-dir: a batch is appended to <dir>/<hub>/<day>.jsonl with its sub-orchestrations and synced before it is purged; a failed write purges nothing", async () => {
  const store = seeded([
    finishedInstance(HUB, "parent", S.ORCHESTRATION_STATUS_COMPLETED, T0, { children: ["child"] }),
    finishedInstance(HUB, "child", S.ORCHESTRATION_STATUS_FAILED, T0, { parentInstanceId: "parent" }),
    finishedInstance(HUB, "recent", S.ORCHESTRATION_STATUS_COMPLETED, T0 + 10 * DAY_MS),
  ]);
  const dir = tempDir("dts-retention-export-");
  dirs.push(dir);
  let failWrites = true;
  const write = retentionArchive(dir, () => T0 + 2 * DAY_MS);
  const { scheduler, clock, lines } = schedulerAt(store, { days: 1 }, {
    archive: (hub, items) => (failWrites ? Promise.reject(new Error("disk full")) : write(hub, items)),
  });
  clock.now = T0 + 2 * DAY_MS;
  await scheduler.retention.sweep();
  expect(present(store, ["parent", "child", "recent"])).toEqual(["parent", "child", "recent"]);
  expect(lines.join("\n")).toMatch(/purging task hub 'default' failed \(disk full\); the next sweep tries again/);

  failWrites = false;
  const history = { parent: store.getHistory(HUB, "parent"), child: store.getHistory(HUB, "child") };
  await scheduler.retention.sweep();
  expect(present(store, ["parent", "child", "recent"])).toEqual(["recent"]);
  const file = `${dir}/default/${new Date(T0 + 2 * DAY_MS).toISOString().slice(0, 10)}.jsonl`;
  const archived = fs.readFileSync(file, "utf8").trim().split("\n").map((l, i) => parseArchiveLine(l, `line ${i + 1}`));
  expect(archived.map((a) => a.instance.instanceId)).toEqual(["parent", "child"]);
  const bytes = (events: HistoryEvent[]) => events.map((e) => Buffer.from(pb.HistoryEvent.encode(e).finish()).toString("base64"));
  expect(bytes(archived[0].history)).toEqual(bytes(history.parent));
  expect(bytes(archived[1].history)).toEqual(bytes(history.child));
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  await scheduler.close();
});
