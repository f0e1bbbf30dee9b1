// Behavioural tests for the persistence layer: one suite run against both stores, plus what only
// the SQLite store has (durability across re-open, schema versioning, pragmas).
import Database from "better-sqlite3";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ActivityRecord, HistoryEvent, InstanceRecord, MessageRecord, Status } from "../../src/core/model";
import { ScheduleRecord } from "../../src/core/schedule";
import { pb } from "../../src/proto";
import { SCHEMA_VERSION } from "../../src/store/sqlite-schema";
import { WRITER_THREAD_NAME } from "../../src/store/sqlite-writer-client";
import {
  InstanceFilter,
  InvalidContinuationTokenError,
  MemoryStore,
  SQLITE_FILE,
  SqliteStore,
  Store,
  StoreOp,
  openStore,
  AsyncStore,
} from "../../src/store";
import { PostgresStore } from "../../src/store/postgres-store";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-store-test-"));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

// ---- fixtures -------------------------------------------------------------------------------------

const H = "hub";
const { ORCHESTRATION_STATUS_RUNNING: RUNNING, ORCHESTRATION_STATUS_COMPLETED: COMPLETED } = Status;
const { ORCHESTRATION_STATUS_FAILED: FAILED, ORCHESTRATION_STATUS_PENDING: PENDING } = Status;
const { ORCHESTRATION_STATUS_TERMINATED: TERMINATED, ORCHESTRATION_STATUS_SUSPENDED: SUSPENDED } = Status;

function inst(instanceId: string, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  return { instanceId, executionId: `exec-${instanceId}`, name: "Orch", status: RUNNING, createdAt: 1000, lastUpdatedAt: 1000, ...extra };
}

function ev(eventId: number, name = `task-${eventId}`): HistoryEvent {
  return { eventId, timestamp: { seconds: 1_700_000_000 + eventId, nanos: 5 }, taskScheduled: { name, input: { value: `"in-${eventId}"` } } };
}

function events(from: number, count: number): HistoryEvent[] {
  return Array.from({ length: count }, (_, i) => ev(from + i));
}

function msg(seq: number, instanceId: string, extra: Partial<MessageRecord> = {}): MessageRecord {
  return { seq, instanceId, visibleAt: 500 + seq, event: { eventId: -1, eventRaised: { name: `ev-${seq}`, input: { value: "1" } } }, ...extra };
}

function act(seq: number, instanceId: string, extra: Partial<ActivityRecord> = {}): ActivityRecord {
  return { seq, instanceId, executionId: `exec-${instanceId}`, taskId: seq, name: "Act", visibleAt: 700 + seq, ...extra };
}

/** Events as protobuf bytes: the stores may return decoded message objects rather than the plain ones put in. */
function bytes(list: HistoryEvent[]): string[] {
  return list.map((e) => Buffer.from(pb.HistoryEvent.encode(e).finish()).toString("base64"));
}

function comparableMessages(list: MessageRecord[]) {
  return list.map((m) => ({ ...m, event: bytes([m.event])[0] }));
}

function sched(scheduleId: string, extra: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return { scheduleId, orchestrationName: "Orch", intervalMs: 5000, catchUp: "once", createdAt: 1000, paused: false, nextRunAt: 6000, input: "\"x\"", ...extra };
}

const put = (instance: InstanceRecord): StoreOp => ({ op: "putInstance", hub: H, instance });
const append = (instanceId: string, from: number, evs: HistoryEvent[]): StoreOp => ({ op: "appendHistory", hub: H, instanceId, from, events: evs });

/** A synchronous store through the asynchronous shape, so one suite runs against every store. */
function awaitable(store: Store): AsyncStore {
  const call = <A extends unknown[], R>(f: (...args: A) => R) => async (...args: A) => f.apply(store, args);
  return {
    kind: store.kind,
    close: async () => { await store.close(); },
    listHubs: call(store.listHubs), createHub: call(store.createHub), deleteHub: call(store.deleteHub), load: call(store.load), readInbox: call(store.readInbox),
    commit: call(store.commit), getInstance: call(store.getInstance), getHistory: call(store.getHistory),
    queryInstances: call(store.queryInstances), listInstanceIds: call(store.listInstanceIds), listInstances: call(store.listInstances),
    countByStatus: call(store.countByStatus), findInstanceIds: call(store.findInstanceIds),
  };
}

/** Everything observable about one hub, in a comparable form. */
async function dump(store: AsyncStore, hub = H) {
  const snap = await store.load(hub);
  const ids = (await store.findInstanceIds(hub, {}, 0)).sort();
  const all = [];
  for (const id of ids) all.push({ instance: await store.getInstance(hub, id), history: bytes(await store.getHistory(hub, id)) });
  return {
    loaded: snap.instances
      .map(({ instance, history }) => ({ instance, history: bytes(history) }))
      .sort((a, b) => (a.instance.instanceId < b.instance.instanceId ? -1 : 1)),
    messages: comparableMessages(snap.messages),
    activities: snap.activities,
    schedules: snap.schedules,
    maxSeq: snap.maxSeq,
    all,
  };
}

async function allPages(store: AsyncStore, filter: InstanceFilter, pageSize: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.queryInstances(H, filter, pageSize, token);
    ids.push(...page.instances.map((r) => r.instanceId));
    token = page.continuationToken;
    pages++;
    expect(pages).toBeLessThan(1000);
  } while (token);
  return { ids, pages };
}

async function allIdPages(store: AsyncStore, filter: InstanceFilter, pageSize: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await store.listInstanceIds(H, filter, pageSize, after);
    ids.push(...page.ids);
    after = page.last;
    pages++;
    expect(pages).toBeLessThan(1000);
  } while (after !== undefined);
  return { ids, pages };
}

// ---- the shared suite -----------------------------------------------------------------------------

// One PostgreSQL server for the file; each test starts from an empty database (its hubs deleted).
let postgres: PostgresServer | undefined;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());

async function emptyPostgresStore(): Promise<AsyncStore> {
  const store = await PostgresStore.open(postgres!.url);
  for (const hub of await store.listHubs()) await store.deleteHub(hub);
  return store;
}

const kinds: [string, () => Promise<AsyncStore>][] = [
  ["memory", async () => awaitable(new MemoryStore())],
  ["sqlite", async () => awaitable(new SqliteStore(tmpDir()))],
  ["postgres", emptyPostgresStore],
];

describe.each(kinds)("%s store", (kind, open) => {
  let store: AsyncStore;
  beforeEach(async () => {
    store = await open();
    await store.createHub(H);
  });
  afterEach(async () => await store.close());

  test("kind", async () => {
    expect(store.kind).toBe(kind);
  });

  describe("hubs", () => {
    test("create is idempotent and list is sorted", async () => {
      await store.createHub("b");
      await store.createHub("a");
      await store.createHub("b");
      expect(await store.listHubs()).toEqual(["a", "b", H]);
    });

    test("delete removes the hub's data and leaves other hubs alone", async () => {
      await store.createHub("other");
      const fill = (hub: string): StoreOp[] => [
        { op: "putInstance", hub, instance: inst("x") },
        { op: "appendHistory", hub, instanceId: "x", from: 0, events: events(1, 3) },
        { op: "putMessage", hub, message: msg(1, "x") },
        { op: "putActivity", hub, activity: act(2, "x") },
        { op: "putSchedule", hub, schedule: sched("s") },
      ];
      await store.commit([...fill(H), ...fill("other")]);
      const before = await dump(store, "other");

      await store.deleteHub(H);
      expect(await store.listHubs()).toEqual(["other"]);
      expect(await store.getInstance(H, "x")).toBeUndefined();
      expect(await store.getHistory(H, "x")).toEqual([]);
      expect(await store.load(H)).toEqual({ instances: [], messages: [], activities: [], schedules: [], maxSeq: 0 });
      expect(await dump(store, "other")).toEqual(before);

      await store.createHub(H); // a re-created hub starts empty
      expect(await store.load(H)).toEqual({ instances: [], messages: [], activities: [], schedules: [], maxSeq: 0 });
      expect((await store.queryInstances(H, {}, 10)).instances).toEqual([]);
    });

    test("a hub's retention policy: set, replaced and cleared through commits, loaded with the hub, gone with it, undone with a failed batch", async () => {
      await store.createHub("other");
      await store.commit([{ op: "setRetention", hub: H, policy: { days: 7, failedDays: 0 } }]);
      expect((await store.load(H)).retention).toEqual({ days: 7, failedDays: 0 });
      expect((await store.load("other")).retention).toBeUndefined();
      await store.commit([{ op: "setRetention", hub: H, policy: { completedDays: 1 } }]);
      expect((await store.load(H)).retention).toEqual({ completedDays: 1 });
      await expect(store.commit([{ op: "setRetention", hub: H, policy: { days: 3 } }, { op: "putInstance", hub: "nope", instance: inst("x") }])).rejects.toThrow();
      expect((await store.load(H)).retention).toEqual({ completedDays: 1 });
      await store.commit([{ op: "setRetention", hub: H }]);
      expect((await store.load(H)).retention).toBeUndefined();
      await store.commit([{ op: "setRetention", hub: H, policy: { days: 2 } }]);
      await store.deleteHub(H);
      await store.createHub(H);
      expect((await store.load(H)).retention).toBeUndefined();
    });

    test("schedules: put replaces, delete removes, load returns them by id, with the instance they start in one batch", async () => {
      await store.commit([{ op: "putSchedule", hub: H, schedule: sched("b") }, { op: "putSchedule", hub: H, schedule: sched("a", { cron: "0 0 * * * *", intervalMs: undefined, timeZone: "Europe/Paris" }) }]);
      await store.commit([put(inst("b@1")), { op: "putSchedule", hub: H, schedule: sched("b", { lastRunAt: 6000, lastInstanceId: "b@1", nextRunAt: 11000, paused: true }) }]);
      expect((await store.load(H)).schedules).toEqual([
        sched("a", { cron: "0 0 * * * *", intervalMs: undefined, timeZone: "Europe/Paris" }),
        sched("b", { lastRunAt: 6000, lastInstanceId: "b@1", nextRunAt: 11000, paused: true }),
      ].map((r) => JSON.parse(JSON.stringify(r))));
      // A failing batch leaves the schedule as it was.
      await expect(async () => store.commit([{ op: "deleteSchedule", hub: H, scheduleId: "a" }, append("nope", 5, events(1, 1))])).rejects.toThrow();
      expect((await store.load(H)).schedules.map((r) => r.scheduleId)).toEqual(["a", "b"]);
      await store.commit([{ op: "deleteSchedule", hub: H, scheduleId: "a" }]);
      expect((await store.load(H)).schedules.map((r) => r.scheduleId)).toEqual(["b"]);
    });

    test("deleting a missing hub is a no-op", async () => {
      await store.deleteHub("nope");
      expect(await store.listHubs()).toEqual([H]);
    });

    test("a commit touching an unknown hub throws and applies nothing", async () => {
      await expect(async () => store.commit([put(inst("a")), { op: "putInstance", hub: "nope", instance: inst("b") }])).rejects.toThrow(Error);
      expect(await store.getInstance(H, "a")).toBeUndefined();
      expect(await store.listHubs()).toEqual([H]);
    });
  });

  describe("commit and load", () => {
    test("every op kind; load returns live instances with histories, all messages and activities, maxSeq", async () => {
      await store.commit([
        put(inst("a")),
        put(inst("b", { status: COMPLETED, completedAt: 2000 })),
        put(inst("c", { status: FAILED, completedAt: 2000 })),
        put(inst("d", { status: PENDING, scheduledStartAt: 9000 })),
        put(inst("e", { status: SUSPENDED })),
        append("a", 0, events(0, 3)),
        append("b", 0, events(0, 2)),
        append("c", 0, events(0, 1)),
        { op: "putMessage", hub: H, message: msg(1, "a") },
        { op: "putMessage", hub: H, message: msg(2, "c", { executionId: "exec-c" }) },
        { op: "putMessage", hub: H, message: msg(6, "a") },
        { op: "putActivity", hub: H, activity: act(3, "a") },
        { op: "putActivity", hub: H, activity: act(4, "a", { abandonCount: 2 }) },
      ]);
      await store.commit([
        append("a", 3, events(3, 9)), // 12 events: idx 10 and 11 must sort after 2
        { op: "deleteMessages", hub: H, seqs: [6, 42] },
        { op: "deleteActivity", hub: H, seq: 4 },
        { op: "deleteActivity", hub: H, seq: 99 },
        { op: "replaceHistory", hub: H, instanceId: "e", events: events(0, 2) },
      ]);

      const snap = await store.load(H);
      const byId = new Map(snap.instances.map((x) => [x.instance.instanceId, x]));
      // b is terminal without messages; c is terminal but has a message waiting.
      expect([...byId.keys()].sort()).toEqual(["a", "c", "d", "e"]);
      expect(byId.get("a")!.instance).toEqual(inst("a"));
      expect(byId.get("c")!.instance).toEqual(inst("c", { status: FAILED, completedAt: 2000 }));
      expect(byId.get("d")!.instance).toEqual(inst("d", { status: PENDING, scheduledStartAt: 9000 }));
      expect(bytes(byId.get("a")!.history)).toEqual(bytes(events(0, 12)));
      expect(bytes(byId.get("c")!.history)).toEqual(bytes(events(0, 1)));
      expect(byId.get("d")!.history).toEqual([]);
      expect(bytes(byId.get("e")!.history)).toEqual(bytes(events(0, 2)));
      expect(comparableMessages(snap.messages)).toEqual(comparableMessages([msg(1, "a"), msg(2, "c", { executionId: "exec-c" })]));
      expect(snap.activities).toEqual([act(3, "a")]);
      // The high-water mark: seq 6 was deleted, but is never to be handed out again.
      expect(snap.maxSeq).toBe(6);

      expect(await store.getInstance(H, "b")).toEqual(inst("b", { status: COMPLETED, completedAt: 2000 }));
      expect(bytes(await store.getHistory(H, "b"))).toEqual(bytes(events(0, 2)));
    });

    test("maxSeq is 0 for an empty or unknown hub and covers activities", async () => {
      expect((await store.load(H)).maxSeq).toBe(0);
      expect(await store.load("unknown")).toEqual({ instances: [], messages: [], activities: [], schedules: [], maxSeq: 0 });
      await store.commit([{ op: "putActivity", hub: H, activity: act(17, "a") }, { op: "putMessage", hub: H, message: msg(5, "a") }]);
      expect((await store.load(H)).maxSeq).toBe(17);
      await store.commit([{ op: "deleteActivity", hub: H, seq: 17 }, { op: "deleteMessages", hub: H, seqs: [5] }]);
      expect((await store.load(H)).maxSeq).toBe(17);
    });

    test("putInstance, putMessage and putActivity overwrite; removed optional fields stay absent", async () => {
      await store.commit([put(inst("a", { output: "x", customStatus: "s", tags: { t: "1" } }))]);
      await store.commit([put(inst("a", { status: COMPLETED, completedAt: 3000, lastUpdatedAt: 3000 }))]);
      const r = (await store.getInstance(H, "a"))!;
      expect(r).toEqual(inst("a", { status: COMPLETED, completedAt: 3000, lastUpdatedAt: 3000 }));
      expect(Object.keys(r).sort()).toEqual(Object.keys(inst("a", { completedAt: 1 })).sort());

      await store.commit([{ op: "putMessage", hub: H, message: msg(1, "a") }, { op: "putActivity", hub: H, activity: act(2, "a") }]);
      await store.commit([
        { op: "putMessage", hub: H, message: msg(1, "a", { visibleAt: 1 }) },
        { op: "putActivity", hub: H, activity: act(2, "a", { abandonCount: 1, visibleAt: 9 }) },
      ]);
      const snap = await store.load(H);
      expect(comparableMessages(snap.messages)).toEqual(comparableMessages([msg(1, "a", { visibleAt: 1 })]));
      expect(snap.activities).toEqual([act(2, "a", { abandonCount: 1, visibleAt: 9 })]);
    });

    test("ops apply in order within one commit", async () => {
      await store.commit([
        put(inst("a")),
        append("a", 0, events(0, 2)),
        append("a", 2, events(2, 1)),
        { op: "replaceHistory", hub: H, instanceId: "a", events: events(10, 1) },
        append("a", 1, events(11, 2)),
        { op: "putMessage", hub: H, message: msg(1, "a") },
        { op: "deleteMessages", hub: H, seqs: [1] },
        put(inst("a", { name: "Second" })),
      ]);
      expect(bytes(await store.getHistory(H, "a"))).toEqual(bytes(events(10, 3)));
      expect((await store.getInstance(H, "a"))!.name).toBe("Second");
      expect((await store.load(H)).messages).toEqual([]);
    });

    test("an empty commit is fine", async () => {
      await store.commit([]);
      expect((await store.load(H)).instances).toEqual([]);
    });
  });

  describe("atomicity", () => {
    async function seed() {
      await store.commit([
        put(inst("a")),
        append("a", 0, events(0, 3)),
        put(inst("b", { status: COMPLETED, completedAt: 5 })),
        append("b", 0, events(0, 2)),
        { op: "putMessage", hub: H, message: msg(1, "a") },
        { op: "putActivity", hub: H, activity: act(2, "a") },
      ]);
    }

    test("a batch whose last op is invalid leaves nothing applied", async () => {
      await seed();
      const before = await dump(store);
      const batch: StoreOp[] = [
        put(inst("new")),
        append("new", 0, events(0, 2)),
        put(inst("a", { status: FAILED, completedAt: 9 })),
        append("a", 3, events(3, 2)),
        { op: "replaceHistory", hub: H, instanceId: "b", events: events(7, 1) },
        { op: "putMessage", hub: H, message: msg(10, "a") },
        { op: "deleteMessages", hub: H, seqs: [1] },
        { op: "putActivity", hub: H, activity: act(11, "new") },
        { op: "deleteActivity", hub: H, seq: 2 },
        { op: "deleteInstance", hub: H, instanceId: "b" },
        append("a", 3, events(5, 1)), // stale: the history is 5 long by now
      ];
      await expect(async () => store.commit(batch)).rejects.toThrow(Error);
      expect(await dump(store)).toEqual(before);
      expect(await store.getInstance(H, "new")).toBeUndefined();

      // The same batch without the bad op goes through.
      await store.commit(batch.slice(0, -1));
      expect(await store.getInstance(H, "new")).toEqual(inst("new"));
      expect(await store.getInstance(H, "b")).toBeUndefined();
      expect((await store.load(H)).maxSeq).toBe(11);
    });

    test("appendHistory rejects a from that is not the history length", async () => {
      await seed();
      await expect(async () => store.commit([append("a", 2, events(2, 1))])).rejects.toThrow(Error);
      await expect(async () => store.commit([append("a", 4, events(4, 1))])).rejects.toThrow(Error);
      await expect(async () => store.commit([append("fresh", 1, events(1, 1))])).rejects.toThrow(Error);
      await store.commit([append("fresh", 0, [])]);
      expect(bytes(await store.getHistory(H, "a"))).toEqual(bytes(events(0, 3)));
      expect(await store.getHistory(H, "fresh")).toEqual([]);
    });

    test("a failed batch does not affect the next one", async () => {
      await seed();
      await expect(async () => store.commit([append("a", 3, events(3, 1)), append("a", 0, events(0, 1))])).rejects.toThrow(Error);
      await store.commit([append("a", 3, events(3, 1))]);
      expect(bytes(await store.getHistory(H, "a"))).toEqual(bytes(events(0, 4)));
    });
  });

  test("replaceHistory replaces the whole history, and appends continue from its length", async () => {
    await store.commit([put(inst("a")), append("a", 0, events(0, 5))]);
    await store.commit([{ op: "replaceHistory", hub: H, instanceId: "a", events: events(100, 2) }]);
    expect(bytes(await store.getHistory(H, "a"))).toEqual(bytes(events(100, 2)));
    await expect(async () => store.commit([append("a", 5, events(5, 1))])).rejects.toThrow(Error);
    await store.commit([append("a", 2, events(102, 1))]);
    expect(bytes(await store.getHistory(H, "a"))).toEqual(bytes(events(100, 3)));
    expect(bytes((await store.load(H)).instances[0].history)).toEqual(bytes(events(100, 3)));
    await store.commit([{ op: "replaceHistory", hub: H, instanceId: "a", events: [] }]);
    expect(await store.getHistory(H, "a")).toEqual([]);
    await store.commit([append("a", 0, events(0, 1))]);
    expect(await store.getHistory(H, "a")).toHaveLength(1);
  });

  test("deleteInstance removes its history, messages and activities only", async () => {
    await store.commit([
      put(inst("a")),
      put(inst("b")),
      append("a", 0, events(0, 3)),
      append("b", 0, events(0, 1)),
      { op: "putMessage", hub: H, message: msg(1, "a") },
      { op: "putMessage", hub: H, message: msg(2, "b") },
      { op: "putMessage", hub: H, message: msg(3, "a") },
      { op: "putActivity", hub: H, activity: act(4, "a") },
      { op: "putActivity", hub: H, activity: act(5, "b") },
    ]);
    await store.commit([{ op: "deleteInstance", hub: H, instanceId: "a" }, { op: "deleteInstance", hub: H, instanceId: "missing" }]);
    expect(await store.getInstance(H, "a")).toBeUndefined();
    expect(await store.getHistory(H, "a")).toEqual([]);
    const snap = await store.load(H);
    expect(snap.instances.map((x) => x.instance.instanceId)).toEqual(["b"]);
    expect(snap.messages.map((m) => m.seq)).toEqual([2]);
    expect(snap.activities.map((a) => a.seq)).toEqual([5]);
    expect(await store.findInstanceIds(H, {}, 0)).toEqual(["b"]);
    // The id can be reused from scratch.
    await store.commit([put(inst("a")), append("a", 0, events(0, 1))]);
    expect(await store.getHistory(H, "a")).toHaveLength(1);
  });

  test("one batch that writes, deletes and writes again the same rows ends as its ops applied in order", async () => {
    await store.commit([put(inst("a")), put(inst("b")), append("a", 0, events(0, 2)), append("b", 0, events(0, 1)), { op: "putMessage", hub: H, message: msg(1, "a") }]);
    await store.commit([
      // a: more history and a message, then deleted, then created again with a history of its own.
      append("a", 2, events(2, 1)),
      { op: "putMessage", hub: H, message: msg(2, "a") },
      { op: "putActivity", hub: H, activity: act(3, "a") },
      { op: "deleteInstance", hub: H, instanceId: "a" },
      put(inst("a", { executionId: "second" })),
      append("a", 0, events(10, 1)),
      append("a", 1, events(11, 2)),
      { op: "putMessage", hub: H, message: msg(4, "a") },
      // b: two appends in a row, a message put and deleted, an activity put and updated.
      append("b", 1, events(1, 1)),
      append("b", 2, events(2, 2)),
      { op: "putMessage", hub: H, message: msg(5, "b") },
      { op: "deleteMessages", hub: H, seqs: [5] },
      { op: "putActivity", hub: H, activity: act(6, "b") },
      { op: "putActivity", hub: H, activity: act(6, "b", { abandonCount: 2 }) },
      put(inst("b", { status: COMPLETED, output: "done" })),
    ]);
    expect((await store.getInstance(H, "a"))?.executionId).toBe("second");
    expect(bytes(await store.getHistory(H, "a"))).toEqual(bytes(events(10, 3)));
    expect(bytes(await store.getHistory(H, "b"))).toEqual(bytes(events(0, 4)));
    expect((await store.getInstance(H, "b"))?.output).toBe("done");
    const snap = await store.load(H);
    expect(snap.messages.map((m) => m.seq)).toEqual([4]);
    expect(snap.activities.map((a) => [a.seq, a.abandonCount])).toEqual([[6, 2]]);
    expect(snap.maxSeq).toBe(6);
    // An append that does not continue the stored history refuses the whole batch.
    await expect(async () => store.commit([put(inst("c")), append("b", 3, events(3, 1))])).rejects.toThrow(/starts at 3, but the history has 4 events/);
    expect(await store.getInstance(H, "c")).toBeUndefined();
  });

  test("getInstance and getHistory of unknown instances or hubs", async () => {
    expect(await store.getInstance(H, "nope")).toBeUndefined();
    expect(await store.getHistory(H, "nope")).toEqual([]);
    expect(await store.getInstance("nohub", "nope")).toBeUndefined();
    expect(await store.getHistory("nohub", "nope")).toEqual([]);
  });

  test("records round-trip exactly", async () => {
    const full = inst("full", {
      version: "1.2",
      status: FAILED,
      input: '{"a":[1,2,"\\u00e9"]}',
      output: "out",
      customStatus: '"busy"',
      failureDetails: {
        errorType: "Outer",
        errorMessage: "it broke",
        stackTrace: { value: "at x\nat y" },
        isNonRetriable: true,
        innerFailure: { errorType: "Inner", errorMessage: "root cause", innerFailure: { errorType: "Innermost", errorMessage: "" } },
      },
      createdAt: 1_700_000_000_123,
      lastUpdatedAt: 1_700_000_000_456,
      completedAt: 1_700_000_000_789,
      scheduledStartAt: 1_700_000_000_100,
      parentInstanceId: "parent",
      tags: { team: "α", empty: "" },
      runRequested: true,
    });
    const minimal: InstanceRecord = { instanceId: "min", executionId: "", name: "", status: RUNNING, createdAt: 0, lastUpdatedAt: 0 };
    const fullAct = act(1, "full", { version: "v", input: "", tags: { k: "v" }, abandonCount: 0 });
    const minAct = act(2, "min");
    const fullMsg = msg(3, "full", { executionId: "exec-full" });
    const minMsg = msg(4, "min");
    const richEvent: HistoryEvent = {
      eventId: 0,
      timestamp: { seconds: 1_700_000_000, nanos: 999_999_999 },
      executionStarted: {
        name: "Orch",
        version: { value: "1" },
        input: { value: "null" },
        orchestrationInstance: { instanceId: "full", executionId: { value: "exec-full" } },
        tags: { a: "b" },
      },
    };
    await store.commit([
      put(full),
      put(minimal),
      append("full", 0, [richEvent, ev(1)]),
      { op: "putActivity", hub: H, activity: fullAct },
      { op: "putActivity", hub: H, activity: minAct },
      { op: "putMessage", hub: H, message: fullMsg },
      { op: "putMessage", hub: H, message: minMsg },
    ]);
    for (const [got, want] of [
      [(await store.getInstance(H, "full"))!, full],
      [(await store.getInstance(H, "min"))!, minimal],
    ] as const) {
      expect(got).toEqual(want);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    }
    const snap = await store.load(H);
    expect(snap.activities).toEqual([fullAct, minAct]);
    expect(Object.keys(snap.activities[1]).sort()).toEqual(Object.keys(minAct).sort());
    expect(snap.activities[0].abandonCount).toBe(0);
    expect(comparableMessages(snap.messages)).toEqual(comparableMessages([fullMsg, minMsg]));
    expect(Object.keys(snap.messages[1]).sort()).toEqual(Object.keys(minMsg).sort());
    const history = await store.getHistory(H, "full");
    expect(bytes(history)).toEqual(bytes([richEvent, ev(1)]));
    expect(history[0].timestamp!.seconds).toBe(1_700_000_000); // a number, not a Long
    expect(history[0].executionStarted!.tags).toEqual({ a: "b" });
    // FAILED, but loaded because a message waits for it.
    expect(snap.instances.find((x) => x.instance.instanceId === "full")?.instance).toEqual(full);
  });

  test("the store never aliases the caller's objects", async () => {
    const r = inst("a", { tags: { t: "1" } });
    const evs = events(0, 2);
    const a = act(1, "a", { tags: { k: "v" } });
    const m = msg(2, "a");
    await store.commit([put(r), append("a", 0, evs), { op: "putActivity", hub: H, activity: a }, { op: "putMessage", hub: H, message: m }]);
    r.name = "changed";
    r.tags!.t = "changed";
    evs.push(ev(9));
    a.tags!.k = "changed";
    m.visibleAt = -1;

    const got = (await store.getInstance(H, "a"))!;
    expect(got).toEqual(inst("a", { tags: { t: "1" } }));
    got.name = "mutated";
    got.tags!.t = "mutated";
    (await store.getHistory(H, "a")).push(ev(10));
    const snap = await store.load(H);
    snap.instances[0].history.push(ev(11));
    snap.instances[0].instance.status = COMPLETED;
    snap.activities[0].tags!.k = "mutated";
    snap.messages[0].visibleAt = -2;

    expect(await store.getInstance(H, "a")).toEqual(inst("a", { tags: { t: "1" } }));
    expect(await store.getHistory(H, "a")).toHaveLength(2);
    const again = await store.load(H);
    expect(again.instances[0].instance.status).toBe(RUNNING);
    expect(again.instances[0].history).toHaveLength(2);
    expect(again.activities).toEqual([act(1, "a", { tags: { k: "v" } })]);
    expect(again.messages[0].visibleAt).toBe(msg(2, "a").visibleAt);
  });

  describe("queries", () => {
    // 30 instances: createdAt in steps of 10 with ties, three id families, mixed statuses.
    const statuses = [RUNNING, COMPLETED, FAILED, TERMINATED, PENDING];
    const seeded = Array.from({ length: 30 }, (_, i) =>
      inst(`${["order", "user", "misc"][i % 3]}-${String(29 - i).padStart(2, "0")}`, {
        createdAt: 1000 + 10 * Math.floor(i / 2),
        status: statuses[i % 5],
        completedAt: i % 5 === 0 || i % 5 === 4 ? undefined : 5000 + i,
      }),
    );
    const byCreated = (a: InstanceRecord, b: InstanceRecord) =>
      a.createdAt - b.createdAt || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0);
    const expected = (pred: (r: InstanceRecord) => boolean) => seeded.filter(pred).sort(byCreated).map((r) => r.instanceId);

    beforeEach(async () => {
      await store.createHub("other");
      await store.commit([
        ...seeded.map(put),
        { op: "putInstance", hub: "other", instance: inst("order-other") }, // other hubs never show up
      ]);
    });

    test("queryInstances pages through everything exactly once, in (createdAt, instanceId) order", async () => {
      for (const size of [1, 7, 10, 29, 30, 31, 0]) {
        const { ids, pages } = await allPages(store, {}, size);
        expect(ids).toEqual(expected(() => true));
        expect(pages).toBe(size === 0 ? 1 : Math.max(1, Math.ceil(30 / size)));
      }
      const first = await store.queryInstances(H, {}, 3);
      expect(first.instances).toEqual([...seeded].sort(byCreated).slice(0, 3));
    });

    test("queryInstances filters by status, created range and prefix", async () => {
      const cases: [InstanceFilter, (r: InstanceRecord) => boolean][] = [
        [{ statuses: [COMPLETED, FAILED] }, (r) => r.status === COMPLETED || r.status === FAILED],
        [{ statuses: [] }, () => true],
        [{ createdFrom: 1030, createdTo: 1080 }, (r) => r.createdAt >= 1030 && r.createdAt <= 1080],
        [{ createdFrom: 1100 }, (r) => r.createdAt >= 1100],
        [{ createdTo: 1000 }, (r) => r.createdAt <= 1000],
        [{ instanceIdPrefix: "order-" }, (r) => r.instanceId.startsWith("order-")],
        [{ instanceIdPrefix: "" }, () => true],
        [{ instanceIdPrefix: "user-1" }, (r) => r.instanceId.startsWith("user-1")],
        [
          { statuses: [RUNNING, PENDING], createdFrom: 1020, instanceIdPrefix: "misc" },
          (r) => [RUNNING, PENDING].includes(r.status) && r.createdAt >= 1020 && r.instanceId.startsWith("misc"),
        ],
        [{ statuses: [SUSPENDED] }, () => false],
      ];
      for (const [filter, pred] of cases) {
        const want = expected(pred);
        expect({ filter, ids: (await allPages(store, filter, 4)).ids }).toEqual({ filter, ids: want });
      }
    });

    test("listInstances pages by position, newest or oldest first, without payloads; countByStatus counts what a filter matches", async () => {
      const newest = expected(() => true).reverse();
      for (const [offset, limit] of [[0, 7], [7, 7], [28, 7], [30, 5], [0, 100]]) {
        expect((await store.listInstances(H, {}, { newestFirst: true, offset, limit })).map((r) => r.instanceId)).toEqual(newest.slice(offset, offset + limit));
      }
      expect((await store.listInstances(H, {}, { newestFirst: false, offset: 3, limit: 4 })).map((r) => r.instanceId)).toEqual(expected(() => true).slice(3, 7));
      await store.commit([put(inst("with-payloads", { input: '"in"', output: '"out"', customStatus: '"cs"', createdAt: 9999 }))]);
      const [top] = await store.listInstances(H, {}, { newestFirst: true, offset: 0, limit: 1 });
      expect(top).toEqual(inst("with-payloads", { createdAt: 9999 }));
      const filter: InstanceFilter = { statuses: [RUNNING, COMPLETED], instanceIdPrefix: "order" };
      expect((await store.listInstances(H, filter, { newestFirst: true, offset: 0, limit: 100 })).map((r) => r.instanceId))
        .toEqual(expected((r) => [RUNNING, COMPLETED].includes(r.status) && r.instanceId.startsWith("order")).reverse());
      const counts = await store.countByStatus(H, { instanceIdPrefix: "order" });
      const want = new Map<number, number>();
      for (const r of seeded.filter((x) => x.instanceId.startsWith("order"))) want.set(r.status, (want.get(r.status) ?? 0) + 1);
      expect(counts).toEqual(want);
      expect(await store.countByStatus(H, { statuses: [SUSPENDED] })).toEqual(new Map());
    });

    test("filters by name, by parent, and to top-level instances only", async () => {
      await store.commit([
        put(inst("p-1", { name: "Parent", createdAt: 5000 })),
        put(inst("c-1", { name: "Child", parentInstanceId: "p-1", createdAt: 5001 })),
        put(inst("c-2", { name: "Child", parentInstanceId: "p-1", createdAt: 5002 })),
        put(inst("c-3", { name: "Child", parentInstanceId: "other", createdAt: 5003 })),
      ]);
      const ids = async (f: InstanceFilter) => (await store.listInstances(H, f, { newestFirst: false, offset: 0, limit: 1000 })).map((r) => r.instanceId);
      expect(await ids({ name: "Child" })).toEqual(["c-1", "c-2", "c-3"]);
      expect(await ids({ name: "child" })).toEqual([]);
      expect(await ids({ parentInstanceId: "p-1" })).toEqual(["c-1", "c-2"]);
      expect(await ids({ topLevelOnly: true, createdFrom: 5000 })).toEqual(["p-1"]);
      expect((await allPages(store, { name: "Parent" }, 10)).ids).toEqual(["p-1"]);
      expect(await store.countByStatus(H, { name: "Child" })).toEqual(new Map([[RUNNING, 3]]));
    });

    test("filters by a tag's value, any key matching literally", async () => {
      await store.commit([
        put(inst("t-1", { tags: { team: "core", "a.b\"c": "x" } })),
        put(inst("t-2", { tags: { team: "edge" } })),
        put(inst("t-3", { tags: { team: "core" } })),
      ]);
      const ids = async (f: InstanceFilter) => (await store.listInstances(H, f, { newestFirst: false, offset: 0, limit: 1000 })).map((r) => r.instanceId).sort();
      expect(await ids({ tag: { key: "team", value: "core" } })).toEqual(["t-1", "t-3"]);
      expect(await ids({ tag: { key: "team", value: "Core" } })).toEqual([]);
      expect(await ids({ tag: { key: "a.b\"c", value: "x" } })).toEqual(["t-1"]);
      expect(await ids({ tag: { key: "missing", value: "core" } })).toEqual([]);
      expect((await allPages(store, { tag: { key: "team", value: "edge" } }, 10)).ids).toEqual(["t-2"]);
    });

    test("filters by version exactly; an empty version selects instances without one", async () => {
      await store.commit([
        put(inst("v-1", { name: "Billing", version: "1.0", createdAt: 6000 })),
        put(inst("v-2", { name: "Billing", version: "2.0", createdAt: 6001 })),
        put(inst("v-3", { name: "Billing", createdAt: 6002 })),
      ]);
      const ids = async (f: InstanceFilter) => (await store.listInstances(H, f, { newestFirst: false, offset: 0, limit: 1000 })).map((r) => r.instanceId);
      expect(await ids({ version: "2.0" })).toEqual(["v-2"]);
      expect(await ids({ version: "2" })).toEqual([]);
      expect(await ids({ version: "", name: "Billing" })).toEqual(["v-3"]);
      expect((await allPages(store, { version: "1.0" }, 10)).ids).toEqual(["v-1"]);
      expect(await store.countByStatus(H, { name: "Billing", version: "1.0" })).toEqual(new Map([[RUNNING, 1]]));
    });

    test("an instance prefix with GLOB metacharacters matches literally", async () => {
      await store.commit(["x*1", "x*[2", "xa", "x?", "x[a]"].map((id) => put(inst(id))));
      expect((await allPages(store, { instanceIdPrefix: "x*" }, 10)).ids.sort()).toEqual(["x*1", "x*[2"]);
      expect((await allPages(store, { instanceIdPrefix: "x?" }, 10)).ids).toEqual(["x?"]);
      expect((await allPages(store, { instanceIdPrefix: "x[" }, 10)).ids).toEqual(["x[a]"]);
      expect((await allPages(store, { instanceIdPrefix: "X" }, 10)).ids).toEqual([]);
    });

    test("continuation tokens are keyset positions: deleting the last seen instance does not break paging", async () => {
      const first = await store.queryInstances(H, {}, 5);
      await store.commit([{ op: "deleteInstance", hub: H, instanceId: first.instances[4].instanceId }]);
      const rest: string[] = [];
      let token = first.continuationToken;
      while (token) {
        const page = await store.queryInstances(H, {}, 5, token);
        rest.push(...page.instances.map((r) => r.instanceId));
        token = page.continuationToken;
      }
      expect([...first.instances.map((r) => r.instanceId), ...rest]).toEqual(expected(() => true));
    });

    test("an empty token is the first page; an invalid token is rejected", async () => {
      expect(await store.queryInstances(H, {}, 3, "")).toEqual(await store.queryInstances(H, {}, 3));
      const garbage = [
        "not a token!",
        Buffer.from("nope").toString("base64url"),
        Buffer.from("[2,1,\"a\"]").toString("base64url"),
        Buffer.from("[1,\"x\",\"a\"]").toString("base64url"),
        Buffer.from("{}").toString("base64url"),
      ];
      for (const token of garbage) {
        await expect(async () => store.queryInstances(H, {}, 3, token)).rejects.toThrow(InvalidContinuationTokenError);
      }
    });

    test("pageSize <= 0 means 100", async () => {
      await store.commit(Array.from({ length: 80 }, (_, i) => put(inst(`bulk-${i}`))));
      const page = await store.queryInstances(H, {}, 0);
      expect(page.instances).toHaveLength(100);
      expect(page.continuationToken).toBeDefined();
      expect((await store.queryInstances(H, {}, -5, page.continuationToken)).instances).toHaveLength(10);
      expect((await store.listInstanceIds(H, {}, 0)).ids).toHaveLength(100);
    });

    test("listInstanceIds filters by completed range and pages by instanceId via `after`", async () => {
      const inRange = (r: InstanceRecord) => r.completedAt !== undefined && r.completedAt >= 5005 && r.completedAt <= 5020;
      const want = seeded.filter(inRange).map((r) => r.instanceId).sort();
      expect(want.length).toBeGreaterThan(5);
      for (const size of [1, 4, want.length, 100]) {
        const { ids, pages } = await allIdPages(store, { completedFrom: 5005, completedTo: 5020 }, size);
        expect(ids).toEqual(want);
        expect(pages).toBe(Math.ceil(want.length / size));
      }
      const firstPage = await store.listInstanceIds(H, { completedFrom: 5005, completedTo: 5020 }, 2);
      expect(firstPage).toEqual({ ids: want.slice(0, 2), last: want[1] });
      expect(await store.listInstanceIds(H, {}, 100, "user-")).toEqual({ ids: seeded.map((r) => r.instanceId).filter((id) => id > "user-").sort() });
      // A completed-time bound excludes instances that never completed.
      expect((await allIdPages(store, { completedFrom: 0 }, 7)).ids).toEqual(
        seeded.filter((r) => r.completedAt !== undefined).map((r) => r.instanceId).sort(),
      );
      expect((await allIdPages(store, { completedTo: 5010, statuses: [FAILED], instanceIdPrefix: "misc" }, 7)).ids).toEqual(
        seeded.filter((r) => r.completedAt! <= 5010 && r.status === FAILED && r.instanceId.startsWith("misc")).map((r) => r.instanceId).sort(),
      );
    });

    test("findInstanceIds returns every match, up to the limit", async () => {
      const filter: InstanceFilter = { statuses: [COMPLETED, TERMINATED], createdTo: 1100 };
      const want = seeded.filter((r) => [COMPLETED, TERMINATED].includes(r.status) && r.createdAt <= 1100).map((r) => r.instanceId).sort();
      expect(want.length).toBeGreaterThan(3);
      expect((await store.findInstanceIds(H, filter, 0)).sort()).toEqual(want);
      expect((await store.findInstanceIds(H, filter, 1000)).sort()).toEqual(want);
      const limited = await store.findInstanceIds(H, filter, 3);
      expect(limited).toHaveLength(3);
      expect(want).toEqual(expect.arrayContaining(limited));
      expect(await store.findInstanceIds("nohub", {}, 0)).toEqual([]);
      expect(await store.findInstanceIds("other", {}, 0)).toEqual(["order-other"]);
    });

    test("ids are ordered by code point, the same in both stores", async () => {
      // UTF-16 order would put the astral character (a surrogate pair) before U+E000 and U+FFFD.
      const ids = ["u-\u{1F600}", "u-\uFFFD", "u-\uE000", "u-z", "u-\u00e9"];
      await store.commit(ids.map((id) => put(inst(id, { createdAt: 1 }))));
      const want = ["u-z", "u-\u00e9", "u-\uE000", "u-\uFFFD", "u-\u{1F600}"];
      expect((await allIdPages(store, { instanceIdPrefix: "u-" }, 2)).ids).toEqual(want);
      expect((await allPages(store, { instanceIdPrefix: "u-" }, 2)).ids).toEqual(want);
    });

    test("queries on an unknown hub are empty", async () => {
      expect(await store.queryInstances("nohub", {}, 10)).toEqual({ instances: [] });
      expect(await store.listInstanceIds("nohub", {}, 10)).toEqual({ ids: [] });
    });
  });
});

// ---- SQLite only ----------------------------------------------------------------------------------

const failure = { errorType: "E", errorMessage: "m", innerFailure: { errorType: "I", errorMessage: "inner" } };
const sampleRecords = [inst("a", { tags: { x: "y" } }), inst("b", { status: FAILED, completedAt: 4, failureDetails: failure })];

/** One batch with every kind of op that carries data. */
function sampleBatch(hub: string): StoreOp[] {
  return [
    ...sampleRecords.map((instance): StoreOp => ({ op: "putInstance", hub, instance })),
    { op: "appendHistory", hub, instanceId: "a", from: 0, events: events(0, 4) },
    { op: "appendHistory", hub, instanceId: "b", from: 0, events: events(0, 2) },
    { op: "putMessage", hub, message: msg(1, "a", { executionId: "e" }) },
    { op: "putActivity", hub, activity: act(2, "a", { tags: { q: "r" }, version: "2" }) },
    { op: "putMessage", hub, message: msg(8, "a") },
    { op: "deleteMessages", hub, seqs: [8] },
  ];
}

describe("sqlite store on disk", () => {
  test("the writer thread writes exactly what commit() writes, and a failed batch leaves nothing", async () => {
    const direct = new SqliteStore(tmpDir());
    const threaded = new SqliteStore(tmpDir(), { writerThread: true });
    try {
      const later: StoreOp[] = [
        { op: "replaceHistory", hub: H, instanceId: "b", events: [ev(50, "rewritten")] },
        { op: "appendHistory", hub: H, instanceId: "b", from: 1, events: [] },
        { op: "deleteActivity", hub: H, seq: 2 },
        { op: "putInstance", hub: H, instance: inst("c", { entity: { state: '{"n":1}', lockedBy: "o" } }) },
      ];
      for (const store of [direct, threaded]) store.createHub(H);
      direct.commit(sampleBatch(H));
      direct.commit(later);
      await threaded.commitAsync!(sampleBatch(H));
      await threaded.commitAsync!(later);
      // The threaded store's own connection reads what its writer thread committed.
      expect(await dump(awaitable(threaded), H)).toEqual(await dump(awaitable(direct), H));
      expect(bytes(threaded.getHistory(H, "b"))).toEqual(bytes([ev(50, "rewritten")]));

      const before = await dump(awaitable(threaded), H);
      const gap = { op: "appendHistory", hub: H, instanceId: "a", from: 9, events: events(9, 1) } as const;
      await expect(threaded.commitAsync!([put(inst("d")), gap])).rejects.toThrow(/starts at 9, but the history has 4 events/);
      expect(await dump(awaitable(threaded), H)).toEqual(before);
      await threaded.commitAsync!([put(inst("d"))]);
      expect(threaded.getInstance(H, "d")).toEqual(inst("d"));
    } finally {
      direct.close();
      await threaded.close();
    }
  });

  // Linux only: elsewhere the thread keeps Node's name.
  (process.platform === "linux" ? test : test.skip)("the writer thread is named, so top -H and the benchmark can tell its CPU apart", async () => {
    const threadNames = () => fs.readdirSync("/proc/self/task").map((tid) => fs.readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim());
    const before = threadNames().filter((n) => n === WRITER_THREAD_NAME).length;
    const threaded = new SqliteStore(tmpDir(), { writerThread: true });
    try {
      await threaded.ready!();
      expect(threadNames().filter((n) => n === WRITER_THREAD_NAME)).toHaveLength(before + 1);
    } finally {
      await threaded.close();
    }
  });

  test("data survives close() and re-open of the same directory", async () => {
    const dir = path.join(tmpDir(), "nested", "data");
    const first = new SqliteStore(dir);
    expect(fs.existsSync(path.join(dir, SQLITE_FILE))).toBe(true);
    first.createHub("h1");
    first.createHub("h2");
    first.commit([...sampleBatch("h1"), ...sampleBatch("h2")]);
    first.deleteHub("h2");
    const before = await dump(awaitable(first), "h1");
    const page = first.queryInstances("h1", {}, 1);
    first.close();
    first.close(); // idempotent

    const second = new SqliteStore(dir, { synchronous: "normal" });
    try {
      expect(second.listHubs()).toEqual(["h1"]);
      expect(await dump(awaitable(second), "h1")).toEqual(before);
      expect(before.maxSeq).toBe(8);
      expect(second.getInstance("h1", "b")).toEqual(sampleRecords[1]);
      // Tokens stay valid across re-opens: they carry the position, not server state.
      expect(second.queryInstances("h1", {}, 1, page.continuationToken).instances.map((r) => r.instanceId)).toEqual(["b"]);
      second.commit([{ op: "appendHistory", hub: "h1", instanceId: "a", from: 4, events: events(4, 1) }]);
      expect(second.getHistory("h1", "a")).toHaveLength(5);
    } finally {
      second.close();
    }
  });

  test("pragmas and schema version", () => {
    const dir = tmpDir();
    for (const [synchronous, want] of [[undefined, 2], ["full", 2], ["normal", 1]] as const) {
      const store = new SqliteStore(dir, synchronous ? { synchronous } : undefined);
      const db = (store as unknown as { db: Database.Database }).db;
      expect(db.pragma("synchronous", { simple: true })).toBe(want);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("busy_timeout", { simple: true })).toBeGreaterThan(0);
      store.close();
    }
    const raw = new Database(path.join(dir, SQLITE_FILE));
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    raw.pragma("user_version = 99");
    raw.close();
    expect(() => new SqliteStore(dir)).toThrow(/newer/);
  });

  test("a database from schema 1 gets the name and parent columns, filled from its records", () => {
    const dir = tmpDir();
    const first = new SqliteStore(dir);
    first.createHub(H);
    first.commit([put(inst("a", { name: "A" })), put(inst("b", { name: "B", parentInstanceId: "a" }))]);
    first.close();
    // Back to schema 1: without the columns and their indexes, and without later migrations' tables.
    const raw = new Database(path.join(dir, SQLITE_FILE));
    raw.exec("DROP TABLE retention_policies; DROP TABLE schedules; ALTER TABLE history DROP COLUMN eventCount;");
    raw.exec("DROP INDEX instances_by_name; DROP INDEX instances_by_parent; ALTER TABLE instances DROP COLUMN name; ALTER TABLE instances DROP COLUMN parentInstanceId;");
    raw.pragma("user_version = 1");
    raw.close();
    const second = new SqliteStore(dir);
    try {
      expect(second.listInstances(H, { name: "B" }, { newestFirst: true, offset: 0, limit: 10 }).map((r) => r.instanceId)).toEqual(["b"]);
      expect(second.listInstances(H, { topLevelOnly: true }, { newestFirst: true, offset: 0, limit: 10 }).map((r) => r.instanceId)).toEqual(["a"]);
    } finally {
      second.close();
    }
  });

  test("an append is one row however many events it adds; a schema 4 database's rows of one event read on", () => {
    const dir = tmpDir();
    const first = new SqliteStore(dir);
    first.createHub(H);
    first.commit([{ op: "appendHistory", hub: H, instanceId: "a", from: 0, events: events(0, 3) }]);
    first.commit([{ op: "appendHistory", hub: H, instanceId: "a", from: 3, events: events(3, 1) }]);
    first.commit([{ op: "appendHistory", hub: H, instanceId: "a", from: 4, events: events(4, 5) }, { op: "appendHistory", hub: H, instanceId: "a", from: 9, events: [] }]);
    expect(bytes(first.getHistory(H, "a"))).toEqual(bytes(events(0, 9)));
    first.close();
    const raw = new Database(path.join(dir, SQLITE_FILE));
    expect(raw.prepare("SELECT idx, eventCount FROM history WHERE instanceId = 'a' ORDER BY idx").all()).toEqual([
      { idx: 0, eventCount: 3 }, { idx: 3, eventCount: 1 }, { idx: 4, eventCount: 5 },
    ]);
    // Back to schema 4, where every row held one event: instance "b" has three such rows.
    raw.exec("DELETE FROM history; ALTER TABLE history DROP COLUMN eventCount;");
    const insert = raw.prepare("INSERT INTO history (hub, instanceId, idx, event) VALUES (?, 'b', ?, ?)");
    events(0, 3).forEach((e, i) => insert.run(H, i, pb.HistoryEvent.encode(e).finish()));
    raw.pragma("user_version = 4");
    raw.close();
    const second = new SqliteStore(dir);
    try {
      expect(bytes(second.getHistory(H, "b"))).toEqual(bytes(events(0, 3)));
      expect(() => second.commit([{ op: "appendHistory", hub: H, instanceId: "b", from: 2, events: events(2, 2) }])).toThrow(/starts at 2, but the history has 3 events/);
      second.commit([{ op: "appendHistory", hub: H, instanceId: "b", from: 3, events: events(3, 2) }]);
      expect(bytes(second.getHistory(H, "b"))).toEqual(bytes(events(0, 5)));
    } finally {
      second.close();
    }
  });

  test("a history row holding another number of events than it says is refused, not read short", () => {
    const dir = tmpDir();
    const store = new SqliteStore(dir);
    try {
      store.createHub(H);
      store.commit([{ op: "appendHistory", hub: H, instanceId: "a", from: 0, events: events(0, 3) }]);
      const raw = new Database(path.join(dir, SQLITE_FILE));
      raw.exec("UPDATE history SET eventCount = 4");
      raw.close();
      expect(() => store.getHistory(H, "a")).toThrow("a history row says it holds 4 events, but it holds 3");
    } finally {
      store.close();
    }
  });

  test("an instance rewritten with or without its indexed columns changed is found by what it is now", () => {
    const store = new SqliteStore(tmpDir());
    try {
      store.createHub(H);
      store.commit([put(inst("a", { status: PENDING }))]);
      store.commit([put(inst("a", { customStatus: '"1"' }))]); // Pending -> Running: the indexed status changes
      store.commit([put(inst("a", { customStatus: '"2"', lastUpdatedAt: 2000 }))]); // only payloads and data change
      expect(store.getInstance(H, "a")).toEqual(inst("a", { customStatus: '"2"', lastUpdatedAt: 2000 }));
      expect(store.findInstanceIds(H, { statuses: [RUNNING] }, 10)).toEqual(["a"]);
      store.commit([put(inst("a", { status: FAILED, completedAt: 3000, output: '"o"', name: "Renamed" }))]);
      expect(store.getInstance(H, "a")).toEqual(inst("a", { status: FAILED, completedAt: 3000, output: '"o"', name: "Renamed" }));
      expect(store.findInstanceIds(H, { statuses: [RUNNING] }, 10)).toEqual([]);
      expect(store.findInstanceIds(H, { statuses: [FAILED] }, 10)).toEqual(["a"]);
      expect(store.listInstances(H, { name: "Renamed" }, { newestFirst: true, offset: 0, limit: 10 }).map((r) => r.instanceId)).toEqual(["a"]);
      expect(store.listInstances(H, { name: "Orch" }, { newestFirst: true, offset: 0, limit: 10 })).toEqual([]);
    } finally {
      store.close();
    }
  });

  test("a constraint violation inside a batch rolls the batch back", () => {
    const store = new SqliteStore(tmpDir());
    try {
      store.createHub(H);
      const bad = { ...act(2, "a"), name: undefined } as unknown as ActivityRecord; // name is NOT NULL
      expect(() => store.commit([put(inst("a")), { op: "putActivity", hub: H, activity: bad }])).toThrow();
      expect(store.getInstance(H, "a")).toBeUndefined();
      expect(store.load(H).maxSeq).toBe(0);
    } finally {
      store.close();
    }
  });
});

describe("openStore", () => {
  test("opens either kind", () => {
    const memory = openStore("memory", "/nonexistent/unused");
    expect(memory).toBeInstanceOf(MemoryStore);
    expect(memory.kind).toBe("memory");
    memory.close();
    const dir = tmpDir();
    const sqlite = openStore("sqlite", dir, { synchronous: "normal" });
    expect(sqlite).toBeInstanceOf(SqliteStore);
    expect(sqlite.kind).toBe("sqlite");
    sqlite.close();
    expect(fs.existsSync(path.join(dir, SQLITE_FILE))).toBe(true);
  });

  test("a closed memory store refuses use", () => {
    const memory = new MemoryStore();
    memory.close();
    expect(() => memory.listHubs()).toThrow(/closed/);
  });
});
