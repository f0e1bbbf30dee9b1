// End-to-end: durable entities across crashes, on `dts serve` with sqlite on a real data directory.
// An entity worker process SIGKILLed in the middle of a batch: the batch runs again on another worker
// and its operations apply exactly once. The server SIGKILLed and restarted on the same --data:
// entity state, a lock held by a running orchestration and the requests queued behind it survive,
// and the holder then releases and the others proceed. A lock whose holder is gone from the store is
// released by cleanEntityStorage.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import {
  EntityInstanceId, EntityMetadata, OrchestrationContext, OrchestrationStatus, Task, TaskEntity, TaskHubGrpcClient, TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { SQLITE_FILE } from "../../src/store";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { isOrchestration, RawClient } from "../helpers/raw";
import { client, completed, lockAndAdd, worker } from "../helpers/sdk";
import { pollUntil } from "../helpers/poll";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Gen = AsyncGenerator<Task<any>, any, any>;
const S = OrchestrationStatus;
const FIXTURE = path.resolve(__dirname, "../fixtures/hanging-entity-worker.js");
const dataDir = tempDir("dts-entities-durability-");
const servers: DtsProcess[] = [];
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const children: ChildProcess[] = [];
let dts: DtsProcess;

async function serve(): Promise<DtsProcess> {
  dts = await startDts(["--store", "sqlite", "--hubs", "default,raw"], { dataDir });
  servers.push(dts);
  return dts;
}

beforeAll(serve);

afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.stop()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function sdkClient(hub?: string): TaskHubGrpcClient {
  const c = client(dts.address, hub);
  clients.push(c);
  return c;
}

/** Operations each worker of this file ran, in order: "add 1", ... */
class Counter extends TaskEntity<number> {
  constructor(private readonly log: string[] = []) {
    super();
  }

  add(n: number): number {
    this.log.push(`add ${n}`);
    this.state += n;
    return this.state;
  }

  set(n: number): void {
    this.state = n;
  }

  get(): number {
    return this.state;
  }

  protected initializeState(): number {
    return 0;
  }
}

async function startWorker(log: string[] = [], hub?: string): Promise<TaskHubGrpcWorker> {
  const w = worker(dts.address, hub);
  workers.push(w);
  w.addNamedEntity("counter", () => new Counter(log));
  w.addNamedOrchestrator("HoldUntilGo", async function* (ctx: OrchestrationContext): Gen {
    const a = new EntityInstanceId("counter", "a");
    const b = new EntityInstanceId("counter", "b");
    const lock = yield ctx.entities.lockEntities(a, b);
    const first = yield ctx.entities.callEntity(a, "add", 1);
    yield ctx.waitForExternalEvent("go");
    const second = yield ctx.entities.callEntity(b, "add", 1);
    lock.release();
    return [first, second];
  });
  w.addNamedOrchestrator("LockAndAdd", lockAndAdd);
  await w.start();
  return w;
}

const until = pollUntil;

function drained<T>(c: TaskHubGrpcClient, id: EntityInstanceId): Promise<EntityMetadata<T>> {
  return until(() => c.getEntity<T>(id), (e) => e !== undefined && e.backlogQueueSize === 0, `${id} to drain`) as Promise<EntityMetadata<T>>;
}

/**
 * Returns once every change the server made in memory so far is on disk: commits are written in
 * order, and an acknowledged signal is durable.
 */
async function durable(c: TaskHubGrpcClient): Promise<void> {
  await c.signalEntity(new EntityInstanceId("counter", "barrier"), "add", 0);
}

async function transient(c: TaskHubGrpcClient, id: EntityInstanceId): Promise<EntityMetadata | undefined> {
  for await (const e of c.getEntities({ instanceIdStartsWith: id.toString(), includeTransient: true, includeState: false })) {
    if (e.id.toString() === id.toString()) return e;
  }
  return undefined;
}

/** Starts the hanging entity worker process; resolves once its batch has started. */
function startHangingWorker(): Promise<{ child: ChildProcess; output: () => string; exited: Promise<void> }> {
  const child = spawn(process.execPath, [FIXTURE, dts.address], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/batch started/.test(out)) resolve({ child, output: () => out, exited });
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    exited.then(() => reject(new Error(`the hanging entity worker exited early:\n${out}`)));
  });
}

test("an entity worker SIGKILLed mid-batch: another worker runs the batch again and each operation applies once", async () => {
  const c = sdkClient();
  const id = new EntityInstanceId("counter", "crash");
  for (let i = 0; i < 5; i++) await c.signalEntity(id, "add", 1);

  const hanging = await startHangingWorker();
  expect(hanging.output()).toContain("batch started add 1");
  // The batch is in flight: nothing applied, all five operations still queued.
  expect(await c.getEntity(id)).toBeUndefined();
  expect((await transient(c, id))?.backlogQueueSize).toBe(5);

  // A healthy worker joins; the batch stays with the hung process until that process dies.
  const ranHere: string[] = [];
  await startWorker(ranHere);
  hanging.child.kill("SIGKILL");
  await hanging.exited;

  const e = await drained<number>(c, id);
  expect(e.state).toBe(5);
  expect(ranHere).toEqual(["add 1", "add 1", "add 1", "add 1", "add 1"]);
  // Nothing of the dead worker's batch comes back later.
  await c.signalEntity(id, "add", 10);
  expect((await drained<number>(c, id)).state).toBe(15);
  expect(ranHere).toHaveLength(6);
});

test("the server SIGKILLed and restarted: entity state, a held lock and the requests queued behind it survive", async () => {
  const c1 = sdkClient();
  const w1 = await startWorker();
  const a = new EntityInstanceId("counter", "a");
  const b = new EntityInstanceId("counter", "b");
  const free = new EntityInstanceId("counter", "free");
  await c1.signalEntity(a, "set", 10);
  await c1.signalEntity(b, "set", 20);
  await c1.signalEntity(free, "set", 30);
  for (const id of [a, b, free]) await drained(c1, id);

  const holder = await c1.scheduleNewOrchestration("HoldUntilGo", undefined, "holder");
  await until(() => c1.getEntity<number>(a), (e) => e?.lockedBy === holder && e.state === 11, "the holder to lock a and call it");
  // Queued behind the lock: another orchestration's lock request and a client signal.
  const waiter = await c1.scheduleNewOrchestration("LockAndAdd", "a", "waiter");
  await c1.signalEntity(a, "add", 100);
  await until(() => c1.getEntity(a), (e) => (e?.backlogQueueSize ?? 0) >= 2, "the lock request and the signal to queue");
  await durable(c1);

  await dts.kill();
  await w1.stop().catch(() => undefined);

  await serve();
  const c2 = sdkClient();
  const [ea, eb, ef] = await Promise.all([c2.getEntity<number>(a), c2.getEntity<number>(b), c2.getEntity<number>(free)]);
  expect(ea).toMatchObject({ state: 11, lockedBy: holder });
  expect(ea!.backlogQueueSize).toBeGreaterThanOrEqual(2);
  expect(eb).toMatchObject({ state: 20, lockedBy: holder });
  expect(ef?.state).toBe(30);
  expect(ef?.lockedBy).toBeUndefined();
  expect((await c2.getOrchestrationState(holder))?.runtimeStatus).toBe(S.RUNNING);
  expect((await c2.getOrchestrationState(waiter))?.runtimeStatus).toBe(S.RUNNING);

  await startWorker();
  // The unlocked entity takes operations straight away; the locked ones wait for the holder.
  await c2.signalEntity(free, "add", 1);
  expect((await drained<number>(c2, free)).state).toBe(31);
  await c2.raiseOrchestrationEvent(holder, "go");
  const h = await completed(c2, holder);
  expect(h.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(h.serializedOutput!)).toEqual([11, 21]);
  const w = await completed(c2, waiter);
  expect(w.runtimeStatus).toBe(S.COMPLETED);
  expect([12, 112]).toContain(JSON.parse(w.serializedOutput!));
  const [fa, fb] = await Promise.all([drained<number>(c2, a), drained<number>(c2, b)]);
  expect(fa.state).toBe(112);
  expect(fa.lockedBy).toBeUndefined();
  expect(fb.state).toBe(21);
  expect(fb.lockedBy).toBeUndefined();
});

test("cleanEntityStorage releases a lock whose holder is gone, and the operations queued behind it run", async () => {
  const c1 = sdkClient();
  const id = new EntityInstanceId("counter", "orphan");
  await c1.signalEntity(id, "set", 7);
  await drained(c1, id);

  // The holder of a lock can only vanish from under it through the store: lock the entity on disk
  // for an orchestration that does not exist.
  expect(await dts.stop()).toBe(0);
  const db = new Database(path.join(dataDir, SQLITE_FILE));
  try {
    const r = db.prepare("UPDATE instances SET data = json_set(data, '$.entity.lockedBy', 'ghost', '$.entity.criticalSectionId', 'cs-ghost') WHERE instanceId = ?").run(id.toString());
    expect(r.changes).toBe(1);
  } finally {
    db.close();
  }

  await serve();
  const c = sdkClient();
  await startWorker();
  expect(await c.getEntity<number>(id)).toMatchObject({ state: 7, lockedBy: "ghost" });
  await c.signalEntity(id, "add", 1);
  await until(() => c.getEntity(id), (e) => e?.backlogQueueSize === 1, "the signal to queue behind the lock");
  expect((await c.getEntity<number>(id))?.state).toBe(7);

  const result = await c.cleanEntityStorage({ removeEmptyEntities: false, releaseOrphanedLocks: true });
  expect(result.orphanedLocksReleased).toBe(1);
  const e = await drained<number>(c, id);
  expect(e.state).toBe(8);
  expect(e.lockedBy).toBeUndefined();
  expect((await c.cleanEntityStorage()).orphanedLocksReleased).toBe(0);
});

test("an entity message from an orchestration naming the entity in another case is kept across a crash", async () => {
  // A raw worker plays the orchestration (the SDK always lowercases entity names; other clients may not).
  const hub = "raw";
  const raw = new RawClient(dts.address, hub);
  try {
    const stream = raw.workItems();
    await raw.call("StartInstance", { instanceId: "raw-signaller", name: "Raw" });
    const item = await stream.next(isOrchestration);
    await raw.call("CompleteOrchestratorTask", {
      instanceId: "raw-signaller", completionToken: item.completionToken,
      actions: [
        { id: 1, sendEntityMessage: { entityOperationSignaled: { requestId: "raw-1", operation: "add", input: { value: "5" }, targetInstanceId: { value: "@Counter@Raw" } } } },
        { id: 2, completeOrchestration: { orchestrationStatus: S.COMPLETED, result: { value: '"sent"' } } },
      ],
    });
  } finally {
    raw.close();
  }
  // Nobody has run the signal yet (no entity worker is on this hub) when the server dies.
  const c1 = sdkClient(hub);
  const id = new EntityInstanceId("counter", "Raw");
  expect((await transient(c1, id))?.backlogQueueSize).toBe(1);
  await dts.kill();

  await serve();
  const c2 = sdkClient(hub);
  await startWorker([], hub);
  expect((await drained<number>(c2, id)).state).toBe(5);
});

