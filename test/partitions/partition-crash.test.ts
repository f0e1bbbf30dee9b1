// A `dts serve --store postgres --partitions 4` killed with SIGKILL in the middle of work whose
// every step crosses partitions (a parent starts a child in another partition; the child signals a
// counter entity in a third and answers its parent), then started again on the same database: every
// instance completes with the right output, no history has a duplicated or missing event, the
// counter saw each signal exactly once, and no message is left in any partition's inbox.
import { Client } from "pg";
import { EntityInstanceId, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { partitionOf } from "../../src/core/partition";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";
import { client, completed, CounterEntity, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Gen = AsyncGenerator<Task<any>, any, any>;
const P = 4;
const N = 60;


/** Parent i is in partition i mod 4, its child in the next one; the counter's partition is a third. */
function ids(i: number): { parent: string; child: string } {
  const find = (prefix: string, part: number) => {
    for (let n = 0; ; n++) if (partitionOf(`${prefix}-${n}`, P) === part) return `${prefix}-${n}`;
  };
  return { parent: find(`crash-parent-${i}`, i % P), child: find(`crash-child-${i}`, (i + 1) % P) };
}

function addWork(w: TaskHubGrpcWorker, counterKey: string): void {
  w.addNamedActivity("hello", (_ctx: unknown, n: number) => `hello ${n}`);
  w.addNamedOrchestrator("CrashParent", async function* (ctx: OrchestrationContext, input: { i: number; child: string }): Gen {
    const out = yield ctx.callSubOrchestrator("CrashChild", input.i, { instanceId: input.child });
    return `parent ${input.i}: ${out}`;
  });
  w.addNamedOrchestrator("CrashChild", async function* (ctx: OrchestrationContext, i: number): Gen {
    ctx.entities.signalEntity(new EntityInstanceId("counter", counterKey), "add", 1);
    return yield ctx.callActivity("hello", i);
  });
  w.addNamedEntity("counter", () => new CounterEntity());
}

let postgres: PostgresServer;
let dts: DtsProcess | undefined;
const stops: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await dts?.stop();
  await postgres?.stop();
});

async function connect(counterKey: string): Promise<{ c: TaskHubGrpcClient; w: TaskHubGrpcWorker }> {
  const w = worker(dts!.address);
  addWork(w, counterKey);
  await w.start();
  const c = client(dts!.address);
  stops.push(() => w.stop(), () => c.stop());
  return { c, w };
}

test("SIGKILL in the middle of cross-partition work: restarted, every message applied exactly once", async () => {
  const url = await postgres.createDatabase("crash");
  const args = ["--store", "postgres", "--postgres-url", url, "--partitions", String(P), "--no-dashboard"];
  let counterKey = "total";
  for (let n = 0; partitionOf(`@counter@${counterKey}`, P) !== 2; n++) counterKey = `total-${n}`;
  dts = await startDts(args);
  let { c, w } = await connect(counterKey);
  const all = Array.from({ length: N }, (_, i) => ({ i, ...ids(i) }));
  await Promise.all(all.map(({ i, parent, child }) => c.scheduleNewOrchestration("CrashParent", { i, child }, parent)));
  // Some done, others in flight: then the crash.
  await pollUntil(async () => (await c.getOrchestrationState(all[N - 1].parent))?.runtimeStatus, () => true, "the last start");
  await pollUntil(async () => {
    let done = 0;
    for (const { parent } of all.slice(0, 10)) if ((await c.getOrchestrationState(parent))?.runtimeStatus === OrchestrationStatus.COMPLETED) done++;
    return done;
  }, (done) => done >= 3, "a few parents to complete");
  await dts.kill();
  await w.stop().catch(() => undefined);
  await c.stop();

  dts = await startDts(args, { dataDir: dts.dataDir });
  ({ c, w } = await connect(counterKey));
  for (const { i, parent, child } of all) {
    const state = await completed(c, parent, 60);
    expect([parent, state.runtimeStatus, state.serializedOutput]).toEqual([parent, OrchestrationStatus.COMPLETED, JSON.stringify(`parent ${i}: hello ${i}`)]);
    const kinds = (id: string) => c.getOrchestrationHistory(id).then((h) => h.map((e) => e.type));
    const count = (list: unknown[], kind: unknown) => list.filter((k) => k === kind).length;
    const parentKinds = await kinds(parent);
    const childKinds = await kinds(child);
    // Exactly one of each step: nothing applied twice, nothing lost.
    const { HistoryEventType: T } = await import("@microsoft/durabletask-js");
    expect([count(parentKinds, T.ExecutionStarted), count(parentKinds, T.SubOrchestrationInstanceCreated), count(parentKinds, T.SubOrchestrationInstanceCompleted), count(parentKinds, T.ExecutionCompleted)]).toEqual([1, 1, 1, 1]);
    expect([count(childKinds, T.ExecutionStarted), count(childKinds, T.TaskScheduled), count(childKinds, T.TaskCompleted), count(childKinds, T.ExecutionCompleted)]).toEqual([1, 1, 1, 1]);
  }
  // One signal per child, each applied once.
  const counter = await pollUntil(() => c.getEntity<number>(new EntityInstanceId("counter", counterKey)), (e) => e?.state === N, "the counter to reach N", 30_000);
  expect(counter?.state).toBe(N);
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    expect((await db.query<{ n: string }>("SELECT count(*) AS n FROM partition_inbox")).rows[0].n).toBe("0");
    expect((await db.query<{ partitions: number }>("SELECT partitions FROM hubs WHERE name = 'default'")).rows[0].partitions).toBe(P);
  } finally {
    await db.end();
  }
}, 180_000);
