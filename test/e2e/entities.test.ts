// End-to-end: durable entities on `dts serve` with the official SDK: many clients signalling one
// counter, orchestrations calling entities (results and failures), critical sections over two
// accounts, locks freed by termination and by completion, the client's entity APIs (get, query with
// paging and time ranges, clean storage, scheduled signals), entities signalling entities and
// starting orchestrations, and bad input. Each test uses its own task hub (--dynamic-hubs), so the
// workers of one test never see another test's work.
import * as fs from "fs";
import {
  EntityInstanceId, EntityMetadata, OrchestrationContext, OrchestrationStatus, Task, TaskEntity, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll,
} from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { RawClient } from "../helpers/raw";
import { allEntities, client, completed, grpcCode, lockAndAdd, started, worker } from "../helpers/sdk";
import { pollUntil, sleep } from "../helpers/poll";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Gen = AsyncGenerator<Task<any>, any, any>;
const S = OrchestrationStatus;
const MAX_PAYLOAD = 16 * 1024;

let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  dts = await startDts(["--dynamic-hubs", "--max-payload-bytes", String(MAX_PAYLOAD)]);
});

afterAll(async () => {
  for (const r of raws) r.close();
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all(clients.map((c) => c.stop()));
  await dts?.stop();
  if (dts) fs.rmSync(dts.dataDir, { recursive: true, force: true });
});

function sdkClient(hub: string): TaskHubGrpcClient {
  const c = client(dts.address, hub);
  clients.push(c);
  return c;
}

function rawClient(hub: string): RawClient {
  const r = new RawClient(dts.address, hub);
  raws.push(r);
  return r;
}

/** A worker for the hub with the test entities registered; `setup` adds orchestrators. */
async function startWorker(hub: string, setup: (w: TaskHubGrpcWorker) => void = () => {}): Promise<TaskHubGrpcWorker> {
  const w = worker(dts.address, hub);
  workers.push(w);
  w.addNamedEntity("counter", () => new Counter());
  w.addNamedEntity("counterx", () => new Counter());
  w.addNamedEntity("account", () => new Account());
  w.addNamedEntity("relay", () => new Relay());
  w.addNamedEntity("clock", () => new Clock());
  w.addNamedEntity("log", () => new Log());
  setup(w);
  await w.start();
  return w;
}

const until = pollUntil;

/** The entity once nothing is queued for it (every signal sent so far has been applied). */
function drained<T>(c: TaskHubGrpcClient, id: EntityInstanceId, what = `${id} to drain`): Promise<EntityMetadata<T>> {
  return until(() => c.getEntity<T>(id), (e) => e !== undefined && e.backlogQueueSize === 0, what) as Promise<EntityMetadata<T>>;
}

// ------------------------------------------------------------------ entities

class Counter extends TaskEntity<number> {
  add(n: number): number {
    this.state += n;
    return this.state;
  }

  get(): number {
    return this.state;
  }

  set(n: number): void {
    this.state = n;
  }

  /** Changes the state, then throws: the SDK rolls the change back and reports a failure. */
  fail(message: string): never {
    this.state += 1000;
    throw new Error(message);
  }

  protected initializeState(): number {
    return 0;
  }
}

class Account extends TaskEntity<number> {
  get(): number {
    return this.state;
  }

  deposit(n: number): number {
    this.state += n;
    return this.state;
  }

  withdraw(n: number): number {
    if (n > this.state) throw new Error(`insufficient funds: ${this.state} < ${n}`);
    this.state -= n;
    return this.state;
  }

  protected initializeState(): number {
    return 0;
  }
}

/** Signals other entities and starts orchestrations from its operations. */
class Relay extends TaskEntity<number> {
  forward(input: { key: string; n: number }): void {
    this.context!.signalEntity(new EntityInstanceId("counter", input.key), "add", input.n);
    this.state += 1;
  }

  start(input: { instanceId: string; value: string }): string {
    this.state += 1;
    return this.context!.scheduleNewOrchestration("Echo", input.value, { instanceId: input.instanceId });
  }

  protected initializeState(): number {
    return 0;
  }
}

/** Records when its operation ran. */
class Clock extends TaskEntity<number> {
  stamp(): void {
    this.state = Date.now();
  }

  protected initializeState(): number {
    return 0;
  }
}

/** A string that grows with every operation. */
class Log extends TaskEntity<string> {
  append(s: string): number {
    this.state += s;
    return this.state.length;
  }

  protected initializeState(): string {
    return "";
  }
}

// ------------------------------------------------------------------ tests

test("a counter signalled 1,000 times by 10 concurrent clients ends at exactly 1,000", async () => {
  const hub = "signals";
  await startWorker(hub);
  const senders = Array.from({ length: 10 }, () => sdkClient(hub));
  const id = new EntityInstanceId("counter", "many");

  await Promise.all(senders.map(async (c) => {
    for (let i = 0; i < 100; i++) await c.signalEntity(id, "add", 1);
  }));
  // Every signal is acknowledged, so all 1,000 are queued or applied; wait for the queue to empty.
  const e = await drained<number>(senders[0], id);
  expect(e.state).toBe(1000);
  expect(e.lockedBy).toBeUndefined();
  // Nothing more arrives later: a further operation sees exactly 1,000 before it.
  await senders[1].signalEntity(id, "add", 1);
  expect((await drained<number>(senders[1], id)).state).toBe(1001);
});

test("an orchestration calls an entity and gets its result; a throwing operation is a catchable task failure", async () => {
  const hub = "calls";
  const c = sdkClient(hub);
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("UseCounter", async function* (ctx: OrchestrationContext, key: string): Gen {
      const id = new EntityInstanceId("counter", key);
      const added = yield ctx.entities.callEntity(id, "add", 5);
      const again = yield ctx.entities.callEntity(id, "add", 2);
      let failure: any;
      try {
        yield ctx.entities.callEntity(id, "fail", "boom");
      } catch (e: any) {
        failure = { name: e.name, operation: e.operationName, entity: String(e.entityId), errorType: e.failureDetails?.errorType, errorMessage: e.failureDetails?.errorMessage };
      }
      const after = yield ctx.entities.callEntity(id, "get");
      let missing: any;
      try {
        yield ctx.entities.callEntity(new EntityInstanceId("nosuchentity", key), "get");
      } catch (e: any) {
        missing = { name: e.name, errorType: e.failureDetails?.errorType };
      }
      return { added, again, failure, after, missing };
    });
    w.addNamedOrchestrator("FailUncaught", async function* (ctx: OrchestrationContext, key: string): Gen {
      return yield ctx.entities.callEntity(new EntityInstanceId("counter", key), "fail", "not caught");
    });
  });

  const id = await c.scheduleNewOrchestration("UseCounter", "k1");
  const s = await completed(c, id);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(s.serializedOutput!)).toEqual({
    added: 5, again: 7,
    failure: { name: "EntityOperationFailedException", operation: "fail", entity: "@counter@k1", errorType: "Error", errorMessage: "boom" },
    // The failed operation's state change was rolled back.
    after: 7,
    missing: { name: "EntityOperationFailedException", errorType: "EntityTaskNotFound" },
  });
  expect((await c.getEntity<number>(new EntityInstanceId("counter", "k1")))?.state).toBe(7);

  const failing = await c.scheduleNewOrchestration("FailUncaught", "k2");
  const f = await completed(c, failing);
  expect(f.runtimeStatus).toBe(S.FAILED);
  expect(f.failureDetails?.message).toContain("not caught");
});

test("concurrent transfers between two accounts in critical sections conserve the total", async () => {
  const hub = "transfers";
  const c = sdkClient(hub);
  const A = new EntityInstanceId("account", "A");
  const B = new EntityInstanceId("account", "B");
  const TOTAL = 2000;
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("Transfers", async function* (ctx: OrchestrationContext, input: { forward: boolean; count: number }): Gen {
      const [from, to] = input.forward ? [A, B] : [B, A];
      let moved = 0;
      let violations = 0;
      for (let i = 0; i < input.count; i++) {
        const lock = yield ctx.entities.lockEntities(A, B);
        const [a, b]: number[] = yield whenAll([ctx.entities.callEntity<number>(A, "get"), ctx.entities.callEntity<number>(B, "get")]);
        // Inside the critical section nobody else touches the accounts: the total is always whole.
        if (a + b !== TOTAL) violations++;
        const available = input.forward ? a : b;
        const amount = Math.min(available, (i % 7) + 1);
        yield ctx.entities.callEntity(from, "withdraw", amount);
        yield ctx.entities.callEntity(to, "deposit", amount);
        lock.release();
        moved += amount;
      }
      return { moved, violations };
    });
  });

  await c.signalEntity(A, "deposit", TOTAL / 2);
  await c.signalEntity(B, "deposit", TOTAL / 2);
  await drained(c, A);
  await drained(c, B);

  const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => c.scheduleNewOrchestration("Transfers", { forward: i % 2 === 0, count: 10 })));
  const results = await Promise.all(ids.map((id) => completed(c, id, 60)));
  for (const r of results) {
    expect(r.runtimeStatus).toBe(S.COMPLETED);
    expect(JSON.parse(r.serializedOutput!).violations).toBe(0);
  }
  const moved = results.map((r) => JSON.parse(r.serializedOutput!).moved as number);
  const forward = moved.filter((_, i) => i % 2 === 0).reduce((x, y) => x + y, 0);
  const backward = moved.filter((_, i) => i % 2 === 1).reduce((x, y) => x + y, 0);
  const [a, b] = await Promise.all([drained<number>(c, A), drained<number>(c, B)]);
  expect(a.state! + b.state!).toBe(TOTAL);
  expect(a.state).toBe(TOTAL / 2 - forward + backward);
  expect(a.lockedBy).toBeUndefined();
  expect(b.lockedBy).toBeUndefined();
});

test("terminating a lock holder frees its lock for a waiting orchestration; so does completing without releasing", async () => {
  const hub = "locks";
  const c = sdkClient(hub);
  const E = new EntityInstanceId("counter", "locked");
  const F = new EntityInstanceId("counter", "forgotten");
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("HoldForever", async function* (ctx: OrchestrationContext, key: string): Gen {
      yield ctx.entities.lockEntities(new EntityInstanceId("counter", key));
      yield ctx.waitForExternalEvent("never");
      return "unreachable";
    });
    w.addNamedOrchestrator("LockAndAdd", lockAndAdd);
    w.addNamedOrchestrator("LockBoth", async function* (ctx: OrchestrationContext, keys: string[]): Gen {
      const lock = yield ctx.entities.lockEntities(...keys.map((k) => new EntityInstanceId("counter", k)));
      lock.release();
      return "both";
    });
    w.addNamedOrchestrator("LockAndForget", async function* (ctx: OrchestrationContext, key: string): Gen {
      const id = new EntityInstanceId("counter", key);
      yield ctx.entities.lockEntities(id);
      return yield ctx.entities.callEntity(id, "add", 10);
    });
  });

  await c.signalEntity(E, "set", 100);
  await drained(c, E);
  const holder = await c.scheduleNewOrchestration("HoldForever", "locked");
  await until(() => c.getEntity(E), (e) => e?.lockedBy === holder, "the holder to get the lock");

  // A second orchestration and a client signal queue up behind the lock.
  const waiter = await c.scheduleNewOrchestration("LockAndAdd", "locked");
  await c.signalEntity(E, "add", 1000);
  await until(() => c.getEntity(E), (e) => (e?.backlogQueueSize ?? 0) >= 2, "the lock request and the signal to queue");
  const blocked = await c.getEntity<number>(E);
  expect(blocked?.lockedBy).toBe(holder);
  expect(blocked?.state).toBe(100);
  expect((await c.getOrchestrationState(waiter))?.runtimeStatus).toBe(S.RUNNING);

  await c.terminateOrchestration(holder, "enough");
  expect((await completed(c, holder)).runtimeStatus).toBe(S.TERMINATED);
  const w = await completed(c, waiter);
  expect(w.runtimeStatus).toBe(S.COMPLETED);
  const e = await drained<number>(c, E);
  // The signal and the waiter's call both ran, in either order.
  expect(e.state).toBe(1101);
  expect([101, 1101]).toContain(JSON.parse(w.serializedOutput!));
  expect(e.lockedBy).toBeUndefined();

  // A holder that completes inside its critical section (the SDK sends no release) frees the lock too.
  const forgetful = await c.scheduleNewOrchestration("LockAndForget", "forgotten");
  const fs1 = await completed(c, forgetful);
  expect(fs1.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(fs1.serializedOutput!)).toBe(10);
  expect((await c.getEntity(F))?.lockedBy).toBeUndefined();
  const next = await c.scheduleNewOrchestration("LockAndAdd", "forgotten");
  const n = await completed(c, next);
  expect(n.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(n.serializedOutput!)).toBe(11);

  // Terminated while holding part of its lock set (it has p1, waits for p2): p1 is freed, and its
  // queued request for p2 is not granted to it later.
  const P1 = new EntityInstanceId("counter", "p1");
  const P2 = new EntityInstanceId("counter", "p2");
  await c.signalEntity(P1, "set", 1);
  await c.signalEntity(P2, "set", 2);
  await Promise.all([drained(c, P1), drained(c, P2)]);
  const p2Holder = await c.scheduleNewOrchestration("HoldForever", "p2");
  await until(() => c.getEntity(P2), (e) => e?.lockedBy === p2Holder, "p2 to be locked");
  const partial = await c.scheduleNewOrchestration("LockBoth", ["p1", "p2"]);
  await until(() => c.getEntity(P1), (e) => e?.lockedBy === partial, "p1 to be locked by the second orchestration");
  await until(() => c.getEntity(P2), (e) => e?.backlogQueueSize === 1, "its request for p2 to queue");
  await c.terminateOrchestration(partial);
  expect((await completed(c, partial)).runtimeStatus).toBe(S.TERMINATED);
  expect((await until(() => c.getEntity(P1), (e) => e?.lockedBy === undefined, "p1 to be freed"))?.state).toBe(1);
  await c.terminateOrchestration(p2Holder);
  expect((await completed(c, p2Holder)).runtimeStatus).toBe(S.TERMINATED);
  const both = await completed(c, await c.scheduleNewOrchestration("LockBoth", ["p2", "p1"]));
  expect(both.runtimeStatus).toBe(S.COMPLETED);
  const [e1, e2] = await Promise.all([drained(c, P1), drained(c, P2)]);
  expect([e1.lockedBy, e2.lockedBy]).toEqual([undefined, undefined]);
});

test("getEntity with and without state, and for an unknown entity", async () => {
  const hub = "get";
  const c = sdkClient(hub);
  await startWorker(hub);
  const id = new EntityInstanceId("counter", "Key-With-Case");
  const before = Date.now();
  await c.signalEntity(id, "set", 42);
  const withState = await drained<number>(c, id);
  expect(withState.id.toString()).toBe("@counter@Key-With-Case");
  expect(withState.includesState).toBe(true);
  expect(withState.state).toBe(42);
  expect(withState.lockedBy).toBeUndefined();
  expect(withState.lastModifiedTime.getTime()).toBeGreaterThanOrEqual(before - 1000);

  const noState = await c.getEntity(id, false);
  expect(noState).toBeDefined();
  expect(noState!.includesState).toBe(false);
  expect(noState!.id.toString()).toBe("@counter@Key-With-Case");
  expect(() => noState!.state).toThrow();

  expect(await c.getEntity(new EntityInstanceId("counter", "never-signalled"))).toBeUndefined();
  // Keys are case-sensitive.
  expect(await c.getEntity(new EntityInstanceId("counter", "key-with-case"))).toBeUndefined();

  // Deleting the state makes the entity not exist.
  await c.signalEntity(id, "delete");
  await until(() => allEntities(c, { instanceIdStartsWith: "counter@", includeTransient: true }), (all) => all.length === 0, "the deleted entity to be forgotten");
  expect(await c.getEntity(id)).toBeUndefined();
});

test("getEntities: name and key prefixes, state or not, paging with continuation, last-modified ranges", async () => {
  const hub = "query";
  const c = sdkClient(hub);
  await startWorker(hub);
  const keys = Array.from({ length: 25 }, (_, i) => `q${String(i).padStart(2, "0")}`);
  // Group 1: q00..q14, and an entity whose name merely starts with "counter".
  await Promise.all(keys.slice(0, 15).map((k, i) => c.signalEntity(new EntityInstanceId("counter", k), "set", i)));
  await c.signalEntity(new EntityInstanceId("counterx", "q99"), "set", 1);
  for (const k of keys.slice(0, 15)) await drained(c, new EntityInstanceId("counter", k));
  await drained(c, new EntityInstanceId("counterx", "q99"));
  await sleep(20);
  const t0 = new Date();
  await sleep(20);
  // Group 2: q15..q24, modified strictly after t0.
  await Promise.all(keys.slice(15).map((k, i) => c.signalEntity(new EntityInstanceId("counter", k), "set", 15 + i)));
  for (const k of keys.slice(15)) await drained(c, new EntityInstanceId("counter", k));

  // "counter@" is the exact name "counter": "counterx" is not in it.
  const all = await allEntities<number>(c, { instanceIdStartsWith: "counter@" });
  expect(all.map((e) => e.id.key)).toEqual(keys);
  expect(all.map((e) => e.state)).toEqual(keys.map((_, i) => i));
  expect(all.every((e) => e.includesState)).toBe(true);

  const noState = await allEntities(c, { instanceIdStartsWith: "counter@q1", includeState: false });
  expect(noState.map((e) => e.id.key)).toEqual(keys.slice(10, 20));
  expect(noState.every((e) => !e.includesState)).toBe(true);

  // Pages of 10 with a continuation token: 10, 10, 5, every entity exactly once, in order.
  const pages: string[][] = [];
  const tokens: (string | undefined)[] = [];
  for await (const page of c.getEntities<number>({ instanceIdStartsWith: "@counter@", pageSize: 10 }).asPages()) {
    pages.push(page.values.map((e) => e.id.key));
    tokens.push(page.continuationToken);
  }
  expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
  expect(pages.flat()).toEqual(keys);
  expect(tokens[0]).toBeTruthy();
  expect(tokens[1]).toBeTruthy();
  expect(tokens[2]).toBeFalsy();
  // A page started from a token continues after it.
  const resumed: string[] = [];
  for await (const page of c.getEntities({ instanceIdStartsWith: "counter@", pageSize: 10, continuationToken: tokens[0] }).asPages()) resumed.push(...page.values.map((e) => e.id.key));
  expect(resumed).toEqual(keys.slice(10));

  const since = await allEntities(c, { instanceIdStartsWith: "counter@", lastModifiedFrom: t0 });
  expect(since.map((e) => e.id.key)).toEqual(keys.slice(15));
  const until0 = await allEntities(c, { instanceIdStartsWith: "counter@", lastModifiedTo: t0 });
  expect(until0.map((e) => e.id.key)).toEqual(keys.slice(0, 15));
  const between = await allEntities(c, { instanceIdStartsWith: "counter@", lastModifiedFrom: t0, lastModifiedTo: new Date() });
  expect(between.map((e) => e.id.key)).toEqual(keys.slice(15));

  // A name prefix without the separator matches longer names too.
  const byName = await allEntities(c, { instanceIdStartsWith: "counter" });
  expect(byName.map((e) => e.id.toString())).toEqual([...keys.map((k) => `@counter@${k}`), "@counterx@q99"]);
  expect(await allEntities(c, { instanceIdStartsWith: "nothing" })).toEqual([]);
});

test("cleanEntityStorage removes entities left empty", async () => {
  const hub = "clean";
  const c = sdkClient(hub);
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("HoldForever", async function* (ctx: OrchestrationContext, key: string): Gen {
      yield ctx.entities.lockEntities(new EntityInstanceId("counter", key));
      yield ctx.waitForExternalEvent("never");
    });
  });
  const kept = new EntityInstanceId("counter", "kept");
  await c.signalEntity(kept, "set", 5);
  await drained(c, kept);
  // Entities that were only ever locked, by orchestrations then terminated: no state, no lock, no queue.
  const holders = await Promise.all(["empty1", "empty2"].map((key) => c.scheduleNewOrchestration("HoldForever", key)));
  await until(() => allEntities(c, { includeTransient: true }), (all) => all.filter((e) => e.lockedBy).length === 2, "both locks");
  for (const id of holders) {
    await c.terminateOrchestration(id);
    expect((await completed(c, id)).runtimeStatus).toBe(S.TERMINATED);
  }

  const before = await allEntities(c, { includeTransient: true });
  expect(before.map((e) => [e.id.toString(), e.includesState, e.lockedBy ?? null, e.backlogQueueSize])).toEqual([
    ["@counter@empty1", false, null, 0], ["@counter@empty2", false, null, 0], ["@counter@kept", true, null, 0],
  ]);
  expect(await c.getEntity(new EntityInstanceId("counter", "empty1"))).toBeUndefined();

  const result = await c.cleanEntityStorage({ removeEmptyEntities: true, releaseOrphanedLocks: true });
  expect(result).toEqual(expect.objectContaining({ emptyEntitiesRemoved: 2, orphanedLocksReleased: 0 }));
  const after = await allEntities(c, { includeTransient: true });
  expect(after.map((e) => e.id.toString())).toEqual(["@counter@kept"]);
  expect((await c.getEntity<number>(kept))?.state).toBe(5);
  expect(await c.cleanEntityStorage()).toEqual(expect.objectContaining({ emptyEntitiesRemoved: 0, orphanedLocksReleased: 0 }));
});

test("a signal with a signalTime is not applied before that time", async () => {
  const hub = "scheduled";
  const c = sdkClient(hub);
  await startWorker(hub);
  const id = new EntityInstanceId("clock", "later");
  const signalTime = new Date(Date.now() + 1500);
  await c.signalEntity(id, "stamp", undefined, { signalTime });
  const pending = await allEntities(c, { instanceIdStartsWith: "clock@", includeTransient: true });
  const early = await c.getEntity(id);
  if (Date.now() < signalTime.getTime()) {
    // Queued, not run: the entity has no state yet, only the pending message.
    expect(pending).toHaveLength(1);
    expect(pending[0].backlogQueueSize).toBe(1);
    expect(early).toBeUndefined();
  }

  const e = await drained<number>(c, id);
  expect(e.state).toBeGreaterThanOrEqual(signalTime.getTime());
});

test("an entity operation signals another entity and starts an orchestration", async () => {
  const hub = "relay";
  const c = sdkClient(hub);
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("Echo", async function* (_ctx: OrchestrationContext, input: string): Gen {
      return `echo:${input}`;
    });
    w.addNamedOrchestrator("CallRelay", async function* (ctx: OrchestrationContext, instanceId: string): Gen {
      return yield ctx.entities.callEntity(new EntityInstanceId("relay", "r"), "start", { instanceId, value: "from-orchestration" });
    });
  });
  const relay = new EntityInstanceId("relay", "r");
  const target = new EntityInstanceId("counter", "relayed");
  await c.signalEntity(relay, "forward", { key: "relayed", n: 3 });
  await c.signalEntity(relay, "forward", { key: "relayed", n: 4 });
  await until(() => c.getEntity<number>(target), (e) => e?.state === 7 && e.backlogQueueSize === 0, "the relayed signals");

  // An entity's start is a message: the instance exists for clients once the partition that owns
  // its id has taken it, which on a partitioned store may be after the entity's batch is committed.
  await c.signalEntity(relay, "start", { instanceId: "started-by-entity", value: "hello" });
  await started(c, "started-by-entity");
  const s = await completed(c, "started-by-entity");
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(s.serializedOutput!)).toBe("echo:hello");

  // Called from an orchestration, the operation returns the new orchestration's id.
  const caller = await completed(c, await c.scheduleNewOrchestration("CallRelay", "started-by-call"));
  expect(JSON.parse(caller.serializedOutput!)).toBe("started-by-call");
  await started(c, "started-by-call");
  expect(JSON.parse((await completed(c, "started-by-call")).serializedOutput!)).toBe("echo:from-orchestration");
  expect((await drained<number>(c, relay)).state).toBe(4);
});

test("bad input: ids that are not @name@key, names differing only in case, oversized operation input", async () => {
  const hub = "bad-input";
  const c = sdkClient(hub);
  const raw = rawClient(hub);
  await startWorker(hub);

  for (const bad of ["counter", "counter@k", "@counter", "@@k", ""]) {
    const err = await grpcCode(raw.call("SignalEntity", { instanceId: bad, name: "add", input: { value: "1" } }));
    expect({ bad, code: err.code }).toEqual({ bad, code: 3 });
  }
  expect((await grpcCode(raw.call("GetEntity", { instanceId: "not-an-entity" }))).code).toBe(3);

  // Entity names are case-insensitive: all of these address @counter@Mixed.
  await raw.call("SignalEntity", { instanceId: "@Counter@Mixed", requestId: "r1", name: "add", input: { value: "1" } });
  await raw.call("SignalEntity", { instanceId: "@COUNTER@Mixed", requestId: "r2", name: "add", input: { value: "2" } });
  await c.signalEntity(new EntityInstanceId("CoUnTeR", "Mixed"), "add", 4);
  const mixed = await drained<number>(c, new EntityInstanceId("counter", "Mixed"));
  expect(mixed.state).toBe(7);
  const got = await raw.call("GetEntity", { instanceId: "@cOuNtEr@Mixed", includeState: true });
  expect(got.exists).toBe(true);
  expect(got.entity.instanceId).toBe("@counter@Mixed");
  expect(got.entity.serializedState.value).toBe("7");
  expect((await raw.call("GetEntity", { instanceId: "@counter@mixed" })).exists).toBe(false);
  expect((await allEntities(c, { instanceIdStartsWith: "counter@", includeTransient: true })).map((e) => e.id.toString())).toEqual(["@counter@Mixed"]);

  // An operation input over --max-payload-bytes is refused, and nothing is stored.
  const big = "x".repeat(MAX_PAYLOAD + 1);
  const fresh = new EntityInstanceId("counter", "big");
  const err = await grpcCode(c.signalEntity(fresh, "set", big));
  expect(err.code).toBe(8);
  expect(err.details).toContain("limit");
  expect(await c.getEntity(fresh)).toBeUndefined();
  expect((await grpcCode(c.signalEntity(new EntityInstanceId("counter", "Mixed"), "set", big))).code).toBe(8);
  await c.signalEntity(new EntityInstanceId("counter", "Mixed"), "add", 1);
  expect((await drained<number>(c, new EntityInstanceId("counter", "Mixed"))).state).toBe(8);
  expect((await allEntities(c, { includeTransient: true })).map((e) => e.id.toString())).toEqual(["@counter@Mixed"]);
});

test("an invalid entity id from an orchestration fails it instead of leaving it waiting; from an entity the signal is dropped", async () => {
  const hub = "bad-targets";
  const c = sdkClient(hub);
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("CallKey", async function* (ctx: OrchestrationContext, key: string): Gen {
      return yield ctx.entities.callEntity(new EntityInstanceId("counter", key), "add", 1);
    });
    w.addNamedOrchestrator("LockKey", async function* (ctx: OrchestrationContext, key: string): Gen {
      const lock = yield ctx.entities.lockEntities(new EntityInstanceId("counter", "fine"), new EntityInstanceId("counter", key));
      lock.release();
      return "locked";
    });
  });

  // Entity ids are limited to 100 printable ASCII characters, as instance ids are.
  for (const [name, key] of [["CallKey", "k".repeat(120)], ["CallKey", "ключ"], ["LockKey", "ключ"]]) {
    const s = await completed(c, await c.scheduleNewOrchestration(name, key));
    expect({ name, status: s.runtimeStatus }).toEqual({ name, status: S.FAILED });
    expect(s.failureDetails?.errorType).toBe("InvalidAction");
    expect(s.failureDetails?.message).toMatch(/characters/);
  }
  expect((await completed(c, await c.scheduleNewOrchestration("CallKey", "fine"))).serializedOutput).toBe("1");
  // The failed lock request locked nothing.
  expect((await c.getEntity(new EntityInstanceId("counter", "fine")))?.lockedBy).toBeUndefined();

  // An entity signalling an id the server refuses: that signal goes nowhere, everything else in the batch applies.
  const relay = new EntityInstanceId("relay", "bad");
  await c.signalEntity(relay, "forward", { key: "ключ", n: 1 });
  await c.signalEntity(relay, "forward", { key: "fine", n: 10 });
  expect((await drained<number>(c, relay)).state).toBe(2);
  expect((await drained<number>(c, new EntityInstanceId("counter", "fine"))).state).toBe(11);
  expect(dts.output()).toContain("could not send a signal");
});

test("payload limits inside: an orchestration's oversized operation input fails it; a state grown past the limit fails the operation", async () => {
  const hub = "limits";
  const c = sdkClient(hub);
  const log = new EntityInstanceId("log", "l");
  await startWorker(hub, (w) => {
    w.addNamedOrchestrator("CallBig", async function* (ctx: OrchestrationContext): Gen {
      return yield ctx.entities.callEntity(new EntityInstanceId("counter", "big"), "get", "x".repeat(MAX_PAYLOAD + 1));
    });
    w.addNamedOrchestrator("Grow", async function* (ctx: OrchestrationContext): Gen {
      const first = yield ctx.entities.callEntity(log, "append", "a".repeat(10_000));
      try {
        yield ctx.entities.callEntity(log, "append", "b".repeat(10_000));
        return { first, error: "none" };
      } catch (e: any) {
        return { first, error: e.failureDetails?.errorType };
      }
    });
  });

  const big = await completed(c, await c.scheduleNewOrchestration("CallBig"));
  expect(big.runtimeStatus).toBe(S.FAILED);
  expect(big.failureDetails?.errorType).toBe("PayloadTooLarge");
  expect(await allEntities(c, { instanceIdStartsWith: "counter@", includeTransient: true })).toEqual([]);

  const grow = await completed(c, await c.scheduleNewOrchestration("Grow"));
  expect(grow.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(grow.serializedOutput!)).toEqual({ first: 10_000, error: "PayloadTooLarge" });
  expect((await c.getEntity<string>(log))?.state).toBe("a".repeat(10_000));
});


test("PurgeInstances by an entity's id deletes its state and queued operations; a batch in flight is refused afterwards", async () => {
  const hub = "purge-entity";
  const raw = rawClient(hub);
  const stream = raw.workItems({});
  const ops = (item: any) => item.entityRequestV2.operationRequests.map((e: any) => `${e.entityOperationSignaled.operation}:${e.entityOperationSignaled.input?.value}`);

  await raw.call("SignalEntity", { instanceId: "@counter@p", requestId: "r1", name: "add", input: { value: "1" } });
  const first = await stream.next((i) => !!i.entityRequestV2);
  expect(ops(first)).toEqual(["add:1"]);
  // Queued behind the batch in flight.
  await raw.call("SignalEntity", { instanceId: "@counter@p", requestId: "r2", name: "add", input: { value: "2" } });

  // A batch (or filter) never reaches entities; only the entity's own id does, its name in any case.
  expect((await grpcCode(raw.call("PurgeInstances", { instanceBatch: { instanceIds: ["@counter@p"] } }))).code).toBe(3);
  expect((await raw.call("PurgeInstances", { purgeInstanceFilter: { runtimeStatus: [0] } })).deletedInstanceCount).toBe(0);
  expect((await raw.call("PurgeInstances", { instanceId: "@Counter@p" })).deletedInstanceCount).toBe(1);
  expect((await raw.call("GetEntity", { instanceId: "@counter@p" })).exists).toBe(false);
  expect((await raw.call("PurgeInstances", { instanceId: "@counter@p" })).deletedInstanceCount).toBe(0);

  // The worker's result for the purged entity is refused; the queued "add 2" went with the entity.
  const late = await grpcCode(raw.call("CompleteEntityTask", { completionToken: first.completionToken, entityState: { value: "1" }, results: [{ success: {} }] }));
  expect(late.code).toBe(5);
  await raw.call("SignalEntity", { instanceId: "@counter@p", requestId: "r3", name: "add", input: { value: "3" } });
  const index = stream.items.indexOf(first);
  const next = await stream.next((i) => !!i.entityRequestV2, index + 1);
  expect(ops(next)).toEqual(["add:3"]);
  expect(next.entityRequestV2!.entityState).toBeFalsy();
  stream.cancel();
});
