// The stores' side of partitioned hubs, run against the memory store and a real PostgreSQL server:
// each row lands in its instance's partition and one partition loads alone; messages between
// partitions go through an inbox written and consumed in ordinary commits, each row consumed once;
// PostgreSQL wakes the receiver with NOTIFY. SQLite keeps a hub in one partition and says so.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HistoryEvent, InstanceRecord, Status } from "../../src/core/model";
import { partitionOf } from "../../src/core/partition";
import { pb } from "../../src/proto";
import { MemoryStore, PartitionMessage, SqliteStore, StoreOp } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres-store";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

const H = "parts";
const P = 4;

/** The memory store through the PostgreSQL store's asynchronous shape, so one suite runs on both. */
interface Subject {
  createHub(hub: string, partitions?: number): Promise<void>;
  deleteHub(hub: string): Promise<void>;
  load: PostgresStore["load"];
  readInbox: PostgresStore["readInbox"];
  commit(ops: StoreOp[]): Promise<void>;
  close(): Promise<void>;
}

function memory(): Subject {
  const m = new MemoryStore();
  return {
    createHub: async (hub, partitions) => m.createHub(hub, partitions),
    deleteHub: async (hub) => m.deleteHub(hub),
    load: async (hub, part) => m.load(hub, part),
    readInbox: async (hub, part, limit) => m.readInbox(hub, part, limit),
    commit: async (ops) => m.commit(ops),
    close: async () => m.close(),
  };
}

let postgres: PostgresServer | undefined;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());

async function emptyPostgres(): Promise<PostgresStore> {
  const store = await PostgresStore.open(postgres!.url);
  for (const hub of await store.listHubs()) await store.deleteHub(hub);
  return store;
}

function inst(instanceId: string): InstanceRecord {
  return { instanceId, executionId: `e-${instanceId}`, name: "Orch", status: Status.ORCHESTRATION_STATUS_RUNNING, createdAt: 1, lastUpdatedAt: 1 };
}

function raised(name: string): HistoryEvent {
  return { eventId: -1, timestamp: { seconds: 1_700_000_000, nanos: 0 }, eventRaised: { name, input: { value: `"${name}"` } } };
}

function note(to: string, name: string): PartitionMessage {
  return { body: { kind: "send", instanceId: to, tags: ["x", 1] }, events: [raised(name)] };
}

const eventBytes = (e: HistoryEvent) => Buffer.from(pb.HistoryEvent.encode(e).finish()).toString("base64");
const IDS = Array.from({ length: 24 }, (_, i) => `order-${i}`).concat(["@counter@a", "@counter@b"]);

describe.each([
  ["memory", async () => memory()],
  ["postgres", emptyPostgres],
] as [string, () => Promise<Subject>][])("%s store", (_kind, open) => {
  let store: Subject;
  beforeEach(async () => {
    store = await open();
    await store.createHub(H, P);
  });
  afterEach(async () => await store.close());

  test("a hub keeps its partition count; a 1-partition hub's snapshot does not mention it", async () => {
    expect((await store.load(H)).partitions).toBe(P);
    await store.createHub(H, 8); // exists: keeps 4
    expect((await store.load(H)).partitions).toBe(P);
    await store.createHub("single");
    expect((await store.load("single")).partitions).toBeUndefined();
    expect((await store.load("single", 0)).instances).toEqual([]);
    await expect(store.load(H, P)).rejects.toThrow(`task hub "${H}" has 4 partition(s); there is no partition 4`);
    await expect(store.load("single", 1)).rejects.toThrow(/has 1 partition\(s\); there is no partition 1/);
  });

  test("each partition loads exactly its instances, messages and activities; seqs are the hub's", async () => {
    const ops: StoreOp[] = [];
    IDS.forEach((id, i) => {
      ops.push({ op: "putInstance", hub: H, instance: inst(id) });
      ops.push({ op: "putMessage", hub: H, message: { seq: 2 * i + 1, instanceId: id, visibleAt: 1, event: raised(id) } });
      if (!id.startsWith("@")) ops.push({ op: "putActivity", hub: H, activity: { seq: 2 * i + 2, instanceId: id, executionId: `e-${id}`, taskId: 1, name: "A", visibleAt: 1 } });
    });
    await store.commit(ops);
    const whole = await store.load(H);
    const seen: string[] = [];
    for (let part = 0; part < P; part++) {
      const snap = await store.load(H, part);
      const ids = snap.instances.map((r) => r.instance.instanceId);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(partitionOf(id, P)).toBe(part);
      for (const m of snap.messages) expect(partitionOf(m.instanceId, P)).toBe(part);
      for (const a of snap.activities) expect(partitionOf(a.instanceId, P)).toBe(part);
      expect(snap.messages.map((m) => m.instanceId).sort()).toEqual([...ids].sort());
      expect(snap.maxSeq).toBe(whole.maxSeq);
      seen.push(...ids);
    }
    expect(seen.sort()).toEqual([...IDS].sort());
    expect(whole.maxSeq).toBe(2 * IDS.length - 1); // the last id is an entity's: a message, no activity
  });

  test("inbox rows: written with other changes, read per partition in order, consumed exactly once", async () => {
    await store.commit([
      { op: "putInstance", hub: H, instance: inst("sender") },
      { op: "putInbox", hub: H, part: 2, message: note("a", "first") },
      { op: "putInbox", hub: H, part: 1, message: note("b", "other") },
      { op: "putInbox", hub: H, part: 2, message: note("c", "second") },
    ]);
    const rows = await store.readInbox(H, 2, 10);
    expect(rows.map((r) => r.message.body)).toEqual([note("a", "first").body, note("c", "second").body]);
    expect(rows.map((r) => r.message.events.map(eventBytes))).toEqual([[eventBytes(raised("first"))], [eventBytes(raised("second"))]]);
    expect(rows[0].id).toBeLessThan(rows[1].id);
    expect((await store.readInbox(H, 2, 1)).map((r) => r.id)).toEqual([rows[0].id]);
    expect(await store.readInbox(H, 3, 10)).toEqual([]);

    // The receiver applies the first row and deletes it in the same commit.
    await store.commit([{ op: "putInstance", hub: H, instance: inst("a") }, { op: "deleteInbox", hub: H, part: 2, ids: [rows[0].id] }]);
    expect((await store.readInbox(H, 2, 10)).map((r) => r.id)).toEqual([rows[1].id]);
    // Applying it again is refused, with the rest of its batch.
    await expect(store.commit([{ op: "putInstance", hub: H, instance: inst("twice") }, { op: "deleteInbox", hub: H, part: 2, ids: [rows[0].id, rows[1].id] }]))
      .rejects.toThrow(/already consumed/);
    expect((await store.load(H)).instances.map((r) => r.instance.instanceId)).not.toContain("twice");
    expect((await store.readInbox(H, 2, 10)).map((r) => r.id)).toEqual([rows[1].id]);
    // A row of another partition is not this partition's to consume.
    const other = (await store.readInbox(H, 1, 10))[0].id;
    await expect(store.commit([{ op: "deleteInbox", hub: H, part: 2, ids: [other] }])).rejects.toThrow(/already consumed/);
    // Op by op (a batch with a hub-level op) behaves the same.
    await store.commit([{ op: "setRetention", hub: H, policy: { days: 1 } }, { op: "deleteInbox", hub: H, part: 2, ids: [rows[1].id] }, { op: "putInbox", hub: H, part: 0, message: note("z", "z") }]);
    expect(await store.readInbox(H, 2, 10)).toEqual([]);
    await expect(store.commit([{ op: "setRetention", hub: H }, { op: "deleteInbox", hub: H, part: 2, ids: [rows[1].id] }])).rejects.toThrow(/already consumed/);
    expect((await store.load(H)).retention).toEqual({ days: 1 });
    expect((await store.readInbox(H, 0, 10)).map((r) => r.message.body)).toEqual([note("z", "z").body]);
  });

  test("a failed batch leaves no inbox row; a deleted hub takes its inbox with it", async () => {
    await expect(store.commit([{ op: "putInbox", hub: H, part: 3, message: note("a", "lost") }, { op: "appendHistory", hub: H, instanceId: "nope", from: 7, events: [] }]))
      .rejects.toThrow();
    expect(await store.readInbox(H, 3, 10)).toEqual([]);
    await expect(store.commit([{ op: "putInbox", hub: H, part: 4, message: note("a", "nowhere") }])).rejects.toThrow();
    await store.commit([{ op: "putInbox", hub: H, part: 3, message: note("a", "kept") }]);
    await store.deleteHub(H);
    await store.createHub(H, P);
    expect(await store.readInbox(H, 3, 10)).toEqual([]);
  });
});

test("postgres: a committed inbox write notifies listeners (LISTEN/NOTIFY), after the commit only", async () => {
  const store = await emptyPostgres();
  const heard: string[] = [];
  let wake: () => void = () => {};
  const stop = await store.onInbox((hub, part) => {
    heard.push(`${hub}/${part}`);
    wake();
  });
  try {
    await store.createHub(H, P);
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    let heardOne = next();
    await store.commit([{ op: "putInstance", hub: H, instance: inst("x") }, { op: "putInbox", hub: H, part: 3, message: note("y", "y") }]);
    await heardOne;
    expect(heard).toEqual([`${H}/3`]);
    // A refused batch notifies no one: the next notification is the later good one.
    await expect(store.commit([{ op: "putInbox", hub: H, part: 1, message: note("y", "y") }, { op: "appendHistory", hub: H, instanceId: "x", from: 9, events: [] }])).rejects.toThrow();
    heardOne = next();
    await store.commit([{ op: "setRetention", hub: H, policy: { days: 2 } }, { op: "putInbox", hub: H, part: 2, message: note("y", "y") }]);
    await heardOne;
    expect(heard).toEqual([`${H}/3`, `${H}/2`]);
  } finally {
    await stop();
    await store.close();
  }
});

test("sqlite keeps a hub in one partition and says how to get more", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-parts-"));
  const store = new SqliteStore(dir);
  try {
    expect(() => store.createHub("h", 4)).toThrow('task hub "h": the SQLite store keeps a hub in one partition; 4 partitions need --store postgres');
    expect(() => store.commit([{ op: "createHub", hub: "h", partitions: 2 }])).toThrow(/2 partitions need --store postgres/);
    store.createHub("h");
    expect(store.load("h", 0).instances).toEqual([]);
    expect(() => store.load("h", 1)).toThrow(/no partition 1/);
    expect(store.readInbox("h", 0, 10)).toEqual([]);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
