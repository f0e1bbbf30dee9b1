// A hub split into 4 partitions, run by one scheduler in this process (on the memory store and on a
// real PostgreSQL server), driven end to end by the official SDK's client and worker: instances
// spread over every partition, and every interaction between instances of different partitions
// (sub-orchestrations, raised events, entity signals, calls and critical sections, recursive
// termination) travels through the partitions' inboxes.
import {
  EntityInstanceId, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker, terminateOptions,
} from "@microsoft/durabletask-js";
import { partitionOf } from "../../src/core/partition";
import { RunningServer, startServer } from "../../src/server/server";
import { PartitionedHub } from "../../src/scheduler/partitioned-hub";
import { EngineStore, MemoryStore } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres-store";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";
import { allEntities, client, completed, CounterEntity, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Gen = AsyncGenerator<Task<any>, any, any>;
const P = 4;
const S = OrchestrationStatus;

/** The first id `prefix-n` in partition `part`. */
export function idIn(part: number, prefix: string): string {
  for (let n = 0; ; n++) if (partitionOf(`${prefix}-${n}`, P) === part) return `${prefix}-${n}`;
}

/** A key whose entity `@name@key` is in partition `part`. */
function keyIn(part: number, name: string, prefix: string): string {
  for (let n = 0; ; n++) if (partitionOf(`@${name}@${prefix}-${n}`, P) === part) return `${prefix}-${n}`;
}


function addWork(w: TaskHubGrpcWorker): void {
  w.addNamedActivity("hello", (_ctx: unknown, city: string) => `Hello, ${city}!`);
  w.addNamedOrchestrator("HelloCities", async function* (ctx: OrchestrationContext): Gen {
    const out: string[] = [];
    for (const city of ["Tokyo", "Seattle", "London"]) out.push(yield ctx.callActivity("hello", city));
    return out;
  });
  w.addNamedOrchestrator("Child", async function* (ctx: OrchestrationContext, input: { fail?: boolean; wait?: boolean; n: number }): Gen {
    if (input.wait) yield ctx.waitForExternalEvent("never");
    if (input.fail) throw new Error(`child ${input.n} failed`);
    const greeting = yield ctx.callActivity("hello", `child ${input.n}`);
    return `${greeting} (${ctx.instanceId})`;
  });
  w.addNamedOrchestrator("Parent", async function* (ctx: OrchestrationContext, input: { childId: string; fail?: boolean; wait?: boolean }): Gen {
    try {
      return yield ctx.callSubOrchestrator("Child", { n: 1, fail: input.fail, wait: input.wait }, { instanceId: input.childId });
    } catch (e) {
      return `caught: ${(e as Error).message}`;
    }
  });
  w.addNamedOrchestrator("Sender", async function* (ctx: OrchestrationContext, target: string): Gen {
    ctx.sendEvent(target, "ping", { from: ctx.instanceId });
    return "sent";
  });
  w.addNamedOrchestrator("Receiver", async function* (ctx: OrchestrationContext): Gen {
    return yield ctx.waitForExternalEvent("ping");
  });
  w.addNamedOrchestrator("SignalAndCall", async function* (ctx: OrchestrationContext, key: string): Gen {
    const id = new EntityInstanceId("counter", key);
    ctx.entities.signalEntity(id, "add", 5);
    return yield ctx.entities.callEntity(id, "add", 1);
  });
  w.addNamedOrchestrator("Transfer", async function* (ctx: OrchestrationContext, keys: string[]): Gen {
    const ids = keys.map((k) => new EntityInstanceId("counter", k));
    const lock = yield ctx.entities.lockEntities(...ids);
    const values: number[] = [];
    for (const id of ids) values.push(yield ctx.entities.callEntity(id, "add", 1));
    lock.release();
    return values;
  });
  w.addNamedOrchestrator("HoldLocks", async function* (ctx: OrchestrationContext, keys: string[]): Gen {
    yield ctx.entities.lockEntities(...keys.map((k) => new EntityInstanceId("counter", k)));
    // Ends (terminated) inside its critical section.
    yield ctx.waitForExternalEvent("never");
  });
  w.addNamedEntity("counter", () => new CounterEntity());
}

export interface Served {
  server: RunningServer;
  c: TaskHubGrpcClient;
  w: TaskHubGrpcWorker;
  close(): Promise<void>;
}

/** A server in this process over `store` whose hubs have P partitions, with an SDK worker and client. */
export async function serve(store: EngineStore): Promise<Served> {
  const server = await startServer({ port: 0, host: "127.0.0.1", store: store.kind === "postgres" ? "postgres" : "sqlite", dataDir: "", storeInstance: store, partitions: P });
  const address = `127.0.0.1:${server.port}`;
  const w = worker(address);
  addWork(w);
  await w.start();
  const c = client(address);
  return { server, c, w, close: async () => { await w.stop(); await c.stop(); await server.close(); } };
}

let postgres: PostgresServer | undefined;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());

describe.each([
  ["memory", async (): Promise<EngineStore> => new MemoryStore()],
  ["postgres", async (): Promise<EngineStore> => PostgresStore.open(await postgres!.createDatabase(`engine_${Date.now()}`))],
] as [string, () => Promise<EngineStore>][])("%s store, 4 partitions", (_kind, open) => {
  let s: Served;
  let store: EngineStore;
  beforeAll(async () => {
    s = await serve((store = await open()));
  }, 60_000);
  afterAll(async () => await s?.close());

  test("HelloCities chains on instances spread over every partition", async () => {
    const hub = s.server.scheduler.hub("default");
    expect(hub).toBeInstanceOf(PartitionedHub);
    expect((hub as PartitionedHub).ownedParts()).toEqual([0, 1, 2, 3]);
    const ids = Array.from({ length: 24 }, (_, i) => `cities-${i}`);
    expect(new Set(ids.map((id) => partitionOf(id, P))).size).toBe(P);
    await Promise.all(ids.map((id) => s.c.scheduleNewOrchestration("HelloCities", undefined, id)));
    for (const id of ids) {
      const state = await completed(s.c, id);
      expect([state.runtimeStatus, state.serializedOutput]).toEqual([S.COMPLETED, JSON.stringify(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"])]);
    }
    // Queries read the store: the whole hub, whatever the partition.
    const page = await s.server.scheduler.hub("default").reads.queryInstances({ instanceIdPrefix: "cities-" }, 100);
    expect(page.instances.length).toBe(ids.length);
  });

  test("a sub-orchestration in another partition: success, failure, and InstanceExists", async () => {
    const parent = idIn(0, "parent-ok");
    const child = idIn(3, "child-ok");
    await s.c.scheduleNewOrchestration("Parent", { childId: child }, parent);
    expect((await completed(s.c, parent)).serializedOutput).toBe(JSON.stringify(`Hello, child 1! (${child})`));
    expect((await s.c.getOrchestrationState(child))?.runtimeStatus).toBe(S.COMPLETED);

    const failing = idIn(1, "parent-fail");
    const failingChild = idIn(2, "child-fail");
    await s.c.scheduleNewOrchestration("Parent", { childId: failingChild, fail: true }, failing);
    expect((await completed(s.c, failing)).serializedOutput).toMatch(/caught: .*child 1 failed/);
    expect((await s.c.getOrchestrationState(failingChild))?.runtimeStatus).toBe(S.FAILED);

    // The child id is taken by a running instance: its partition answers the parent with InstanceExists.
    const busy = idIn(2, "busy");
    await s.c.scheduleNewOrchestration("Receiver", undefined, busy);
    await s.c.waitForOrchestrationStart(busy);
    const third = idIn(0, "parent-exists");
    await s.c.scheduleNewOrchestration("Parent", { childId: busy }, third);
    expect((await completed(s.c, third)).serializedOutput).toMatch(/caught: .*An orchestration with instance id '.*' is already Running/);
    expect((await s.c.getOrchestrationState(busy))?.runtimeStatus).toBe(S.RUNNING);
  });

  test("recursive termination reaches a sub-orchestration in another partition", async () => {
    const parent = idIn(1, "parent-term");
    const child = idIn(3, "child-term");
    await s.c.scheduleNewOrchestration("Parent", { childId: child, wait: true }, parent);
    await pollUntil(() => s.c.getOrchestrationState(child), (st) => st?.runtimeStatus === S.RUNNING, "the child to run");
    await s.c.terminateOrchestration(parent, terminateOptions({ output: "stop", recursive: true }));
    expect((await completed(s.c, parent)).runtimeStatus).toBe(S.TERMINATED);
    expect((await completed(s.c, child)).runtimeStatus).toBe(S.TERMINATED);
  });

  test("an event raised by an orchestration to one in another partition", async () => {
    const receiver = idIn(2, "receiver");
    const sender = idIn(0, "sender");
    await s.c.scheduleNewOrchestration("Receiver", undefined, receiver);
    await s.c.waitForOrchestrationStart(receiver);
    await s.c.scheduleNewOrchestration("Sender", receiver, sender);
    expect((await completed(s.c, receiver)).serializedOutput).toBe(JSON.stringify({ from: sender }));
  });

  test("entity signals and calls from orchestrations in other partitions, each applied once", async () => {
    const key = keyIn(3, "counter", "sc");
    const ids = [0, 1, 2, 0, 1, 2].map((p, i) => idIn(p, `caller-${i}`));
    await Promise.all(ids.map((id) => s.c.scheduleNewOrchestration("SignalAndCall", key, id)));
    for (const id of ids) expect((await completed(s.c, id)).runtimeStatus).toBe(S.COMPLETED);
    // Six signals of 5 and six calls of 1.
    const entity = await s.c.getEntity<number>(new EntityInstanceId("counter", key));
    expect(entity?.state).toBe(36);
  });

  test("critical sections locking entities of several partitions; an orchestration ending inside one leaks no lock", async () => {
    const keys = [keyIn(1, "counter", "cs"), keyIn(2, "counter", "cs"), keyIn(3, "counter", "cs")];
    const ids = [0, 1, 2, 3].map((p) => idIn(p, "transfer"));
    await Promise.all(ids.map((id) => s.c.scheduleNewOrchestration("Transfer", keys, id)));
    const outputs = [];
    for (const id of ids) outputs.push(JSON.parse((await completed(s.c, id)).serializedOutput ?? "null") as number[]);
    // One critical section at a time: each sees the others' increments whole.
    expect(outputs.map((o) => o[0]).sort()).toEqual([1, 2, 3, 4]);
    for (const o of outputs) expect(new Set(o).size).toBe(1);

    const holder = idIn(0, "holder");
    await s.c.scheduleNewOrchestration("HoldLocks", keys, holder);
    await pollUntil(async () => (await s.c.getEntity(new EntityInstanceId("counter", keys[2])))?.lockedBy, (by) => by === holder, "the holder to hold the last lock");
    await s.c.terminateOrchestration(holder, "ended inside its critical section");
    expect((await completed(s.c, holder)).runtimeStatus).toBe(S.TERMINATED);
    // The locks went with it: another critical section over the same entities runs.
    const after = idIn(3, "after-holder");
    await s.c.scheduleNewOrchestration("Transfer", keys, after);
    expect((await completed(s.c, after)).serializedOutput).toBe(JSON.stringify([5, 5, 5]));
    for (const key of keys) expect((await s.c.getEntity(new EntityInstanceId("counter", key)))?.lockedBy).toBeUndefined();
  });

  test("a lock whose release is on its way from another partition counts as released: cleanEntityStorage and purge", async () => {
    const keys = [keyIn(1, "counter", "pending-clean"), keyIn(1, "counter", "pending-purge")];
    const [cleaned, purged] = keys.map((k) => new EntityInstanceId("counter", k));
    const holder = idIn(0, "pending-holder");
    await s.c.scheduleNewOrchestration("HoldLocks", keys, holder);
    const listed = () => allEntities(s.c, { instanceIdStartsWith: "counter@pending-", includeTransient: true });
    await pollUntil(listed, (all) => all.length === 2 && all.every((e) => e.lockedBy === holder), "the holder to hold both locks");
    // Partition 1 reads no inbox rows for now: the release the holder's end sends it stays on its way.
    const readInbox = store.readInbox;
    const read = readInbox.bind(store) as (hub: string, part: number, limit: number) => unknown;
    store.readInbox = ((hub: string, part: number, limit: number) => (part === 1 ? (store.kind === "postgres" ? Promise.resolve([]) : []) : read(hub, part, limit))) as typeof readInbox;
    try {
      await s.c.terminateOrchestration(holder, "ended inside its critical section");
      expect((await completed(s.c, holder)).runtimeStatus).toBe(S.TERMINATED);
      expect((await listed()).map((e) => [e.id.toString(), e.lockedBy ?? null, e.includesState])).toEqual([[cleaned.toString(), null, false], [purged.toString(), null, false]]);
      // Shown unlocked, so purged as such, not refused as locked by a live critical section.
      expect((await s.c.purgeOrchestration(purged.toString()))?.deletedInstanceCount).toBe(1);
      // And cleaned as empty; the lock is not counted as an orphan.
      expect(await s.c.cleanEntityStorage({ removeEmptyEntities: true, releaseOrphanedLocks: true })).toEqual(expect.objectContaining({ emptyEntitiesRemoved: 1, orphanedLocksReleased: 0 }));
      expect(await listed()).toEqual([]);
    } finally {
      store.readInbox = readInbox;
    }
    // The late release finds no entity and changes nothing; the entity starts afresh.
    const caller = idIn(0, "after-clean");
    await s.c.scheduleNewOrchestration("SignalAndCall", keys[0], caller);
    expect((await completed(s.c, caller)).serializedOutput).toBe("6");
    expect(await s.c.getEntity<number>(cleaned)).toEqual(expect.objectContaining({ state: 6, lockedBy: undefined }));
  });

  test("metrics and queries span the partitions", async () => {
    const ids = [0, 1, 2, 3].map((p) => idIn(p, "waiting"));
    await Promise.all(ids.map((id) => s.c.scheduleNewOrchestration("Receiver", undefined, id)));
    for (const id of ids) await s.c.waitForOrchestrationStart(id);
    const hub = s.server.scheduler.hub("default");
    const running = await hub.reads.queryInstances({ instanceIdPrefix: "waiting-", statuses: [S.RUNNING as number] }, 100);
    expect(running.instances.map((r) => r.instanceId).sort()).toEqual([...ids].sort());
    // Summed over the partitions: the four wait in memory, one worker stream serves them all.
    const metrics = hub.reads.metrics();
    expect(metrics.hotInstances).toBeGreaterThanOrEqual(4);
    expect(metrics.workers).toBe(1);
    for (const id of ids) await s.c.raiseOrchestrationEvent(id, "ping", 1);
    for (const id of ids) expect((await completed(s.c, id)).serializedOutput).toBe("1");
  });
});
