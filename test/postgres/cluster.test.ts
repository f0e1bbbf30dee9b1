// Several `dts serve` nodes on one PostgreSQL database share a task hub's partitions. Clients and
// workers each know one node; every instance runs wherever its partition is owned, and losing a node
// loses nothing: a node killed with SIGKILL has its partitions taken over within 15 s (the default
// lease), its work dispatched again, nothing applied twice; one stopped with SIGTERM hands over at
// once. Every history left is checked whole.
import { EntityInstanceId, HistoryEventType, OrchestrationContext, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll } from "@microsoft/durabletask-js";
import { CITIES, helloCities, sayHello } from "../bench/workloads";
import { partitionOf } from "../../src/core/partition";
import { ClusterNodeProcess, owners, query, shares, startNode } from "../helpers/cluster";
import { EXPECTED_OUTPUT, historyProblems } from "../helpers/hello-history";
import { inParallel, pollUntil, sleep, within } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";
import { client, completed, CounterEntity, worker } from "../helpers/sdk";
import { startTcpProxy } from "../helpers/tcp-proxy";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;
jest.setTimeout(240_000);

let pg: PostgresServer;
const nodes: ClusterNodeProcess[] = [];
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];

beforeAll(async () => {
  pg = await startPostgres();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
  await Promise.all(nodes.map((n) => n.kill()));
  await pg?.stop();
});

async function cluster(db: string, count: number, leaseSeconds?: number): Promise<{ url: string; nodes: ClusterNodeProcess[] }> {
  const url = await pg.createDatabase(db);
  const started: ClusterNodeProcess[] = [];
  for (let i = 1; i <= count; i++) started.push(await startNode(`${db}-n${i}`, { url, leaseSeconds }));
  nodes.push(...started);
  // Each node holds its fair share of the 16 partitions once the rounds settle.
  const fair = (s: Record<string, number>) => Object.keys(s).length === count && Object.values(s).every((n) => n >= Math.floor(16 / count) && n <= Math.ceil(16 / count));
  await pollUntil(async () => shares(await owners(url)), fair, `${count} nodes to share the partitions fairly`);
  return { url, nodes: started };
}

function sdkWorker(address: string): TaskHubGrpcWorker {
  const w = worker(address);
  w.addOrchestrator(helloCities);
  w.addActivity(sayHello);
  w.addOrchestrator(parent);
  w.addOrchestrator(fanOut);
  w.addOrchestrator(lockedPair);
  w.addOrchestrator(waitThenGreet);
  w.addActivity(echo);
  w.addNamedEntity("counter", () => new CounterEntity());
  workers.push(w);
  return w;
}

function sdkClient(address: string): TaskHubGrpcClient {
  const c = client(address);
  clients.push(c);
  return c;
}

const echo = async (_ctx: unknown, n: number) => n;

async function* fanOut(ctx: OrchestrationContext, n: number): any {
  const results: number[] = yield whenAll(Array.from({ length: n }, (_, i) => ctx.callActivity(echo, i)));
  return results.reduce((a, b) => a + b, 0);
}

/** Sub-orchestrations whose ids land in partitions all over the hub. */
async function* parent(ctx: OrchestrationContext, n: number): any {
  const children = Array.from({ length: n }, (_, i) => ctx.callSubOrchestrator(helloCities, undefined, { instanceId: `${ctx.instanceId}-child-${i}` }));
  const outputs: string[][] = yield whenAll(children);
  return outputs.length;
}

/** Locks two counters, adds to each inside the critical section, and waits for "go" while holding them. */
async function* lockedPair(ctx: OrchestrationContext, keys: [string, string]): any {
  const ids = keys.map((k) => new EntityInstanceId("counter", k));
  const lock = yield ctx.entities.lockEntities(...ids);
  for (const id of ids) yield ctx.entities.callEntity(id, "add", 1);
  yield ctx.waitForExternalEvent("go");
  lock.release();
  return "released";
}

/**
 * Starts a HelloCities5, as a client does when a node dies under its call: a start refused with
 * UNAVAILABLE has an unknown outcome, so it is sent again, and ALREADY_EXISTS then means the first one landed.
 */
async function startRetrying(c: TaskHubGrpcClient, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await c.scheduleNewOrchestration(helloCities, undefined, id);
      return;
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (attempt > 0 && code === 6) return; // ALREADY_EXISTS
      if (code !== 14 || attempt > 100) throw e;
      await sleep(200);
    }
  }
}

/** Waits for "go", then greets once: an instance held in memory, waiting, when its node is cut off. */
async function* waitThenGreet(ctx: OrchestrationContext): any {
  const who: string = yield ctx.waitForExternalEvent("go");
  return yield ctx.callActivity(sayHello, who);
}

async function checkHello(c: TaskHubGrpcClient, ids: string[]): Promise<string[]> {
  const problems: string[] = [];
  await inParallel(ids.length, 20, async (i) => {
    const s = await completed(c, ids[i], 120);
    if (s.runtimeStatus !== S.COMPLETED || JSON.stringify(JSON.parse(s.serializedOutput ?? "null")) !== JSON.stringify(EXPECTED_OUTPUT)) problems.push(`${ids[i]}: ${s.runtimeStatus} ${s.serializedOutput}`);
    for (const p of historyProblems(await c.getOrchestrationHistory(ids[i]))) problems.push(`${ids[i]} history: ${p}`);
  });
  return problems;
}

test("three nodes: a client and a worker that each know one node run HelloCities5, fan-out, sub-orchestrations and entities over every node's partitions", async () => {
  const { url, nodes: [n1, n2, n3] } = await cluster("spread", 3);
  const c = sdkClient(n1.address);
  await sdkWorker(n2.address).start();
  const hellos = await Promise.all(Array.from({ length: 60 }, (_, i) => c.scheduleNewOrchestration(helloCities, undefined, `hello-${i}`)));
  const fan = await c.scheduleNewOrchestration(fanOut, 200, "fan");
  const tree = await c.scheduleNewOrchestration(parent, 12, "tree");
  for (let i = 0; i < 30; i++) await c.signalEntity(new EntityInstanceId("counter", `k${i % 10}`), "add", 1);
  expect(await checkHello(c, hellos)).toEqual([]);
  expect(JSON.parse((await completed(c, fan, 120)).serializedOutput!)).toBe((199 * 200) / 2);
  expect(JSON.parse((await completed(c, tree, 120)).serializedOutput!)).toBe(12);
  for (let i = 0; i < 10; i++) {
    const id = new EntityInstanceId("counter", `k${i}`);
    await pollUntil(async () => (await c.getEntity<number>(id))?.state, (v) => v === 3, `counter k${i} to reach 3`);
  }
  // The instances really were spread: their partitions were owned by all three nodes.
  const map = await owners(url);
  const rows = await query<{ part: number }>(url, "SELECT DISTINCT part FROM instances WHERE hub = 'default'");
  const owning = new Set(rows.map((r) => map.get(r.part)));
  expect([...owning].sort()).toEqual([n1.nodeId, n2.nodeId, n3.nodeId].sort());
});

test("SIGKILL of a node in the middle of 1,000 orchestrations: its partitions move within 15 s, every instance completes once with a whole history", async () => {
  const { url, nodes: [n1, n2] } = await cluster("kill", 3);
  const c = sdkClient(n1.address);
  await sdkWorker(n1.address).start();
  const ids = Array.from({ length: 1000 }, (_, i) => `k-${i}`);
  let done = 0;
  const finishing = inParallel(ids.length, 50, async (i) => {
    await startRetrying(c, ids[i]);
    await completed(c, ids[i], 180);
    done++;
  });
  await pollUntil(async () => done, (n) => n >= 150, "150 orchestrations to complete before the kill");
  const victim = n2.nodeId;
  const held = [...(await owners(url)).entries()].filter(([, o]) => o === victim).map(([p]) => p);
  expect(held.length).toBeGreaterThan(0);
  const killedAt = Date.now();
  await n2.kill();
  // Default lease (10 s): the others own every one of its partitions within 15 s of the kill.
  await pollUntil(async () => owners(url), (m) => held.every((p) => m.get(p) && m.get(p) !== victim), "the killed node's partitions to be taken over", 20_000);
  expect(Date.now() - killedAt).toBeLessThan(15_000);
  await within(finishing, "all 1,000 orchestrations to complete", 180_000);
  expect(await checkHello(c, ids)).toEqual([]);
});

test("SIGKILL of the node that owns a lock-holding orchestration: it goes on elsewhere, each entity operation applies once, no lock leaks", async () => {
  const { url, nodes: all } = await cluster("locks", 3, 3);
  const [front] = all;
  const c = sdkClient(front.address);
  await sdkWorker(front.address).start();
  // The holder lives on a node the client and worker do not use; its counters in partitions of their own.
  const map = await owners(url);
  const ownerOf = (id: string) => map.get(partitionOf(id, 16));
  const holder = Array.from({ length: 200 }, (_, i) => `holder-${i}`).find((id) => ownerOf(id) !== front.nodeId)!;
  const victim = all.find((n) => n.nodeId === ownerOf(holder))!;
  const keys = Array.from({ length: 200 }, (_, i) => `lk${i}`).filter((k) => partitionOf(`@counter@${k}`, 16) !== partitionOf(holder, 16)).slice(0, 2);
  await c.scheduleNewOrchestration(lockedPair, keys, holder);
  const entity = (k: string) => c.getEntity<number>(new EntityInstanceId("counter", k));
  // Inside the critical section: both counters locked by the holder and added to once, the holder waiting for "go".
  await pollUntil(() => Promise.all(keys.map(entity)), (es) => es.every((e) => e?.lockedBy === holder && e.state === 1), "both counters locked by the holder and added to");
  await victim.kill();
  await pollUntil(() => c.raiseOrchestrationEvent(holder, "go").then(() => true, () => false), (ok) => ok, "the holder's partition to be served again", 30_000);
  expect((await completed(c, holder, 60)).serializedOutput).toBe(JSON.stringify("released"));
  for (const k of keys) {
    const e = await pollUntil(() => entity(k), (x) => !x?.lockedBy, `counter ${k} to be unlocked`);
    // One add each: the call inside the critical section ran once, though the holder's node died holding the lock.
    expect(e?.state).toBe(1);
  }
});

test("SIGTERM hands a node's partitions over at once, without waiting for its leases to lapse", async () => {
  const { url, nodes: [n1, n2] } = await cluster("term", 2, 30);
  const c = sdkClient(n1.address);
  await sdkWorker(n1.address).start();
  const held = [...(await owners(url)).entries()].filter(([, o]) => o === n2.nodeId).map(([p]) => p);
  const t0 = Date.now();
  await n2.stop();
  await pollUntil(async () => owners(url), (m) => held.every((p) => m.get(p) === n1.nodeId), "the other node to own every partition");
  // The leases last 30 s: the other node took them at its next round (every 10 s), long before they could lapse.
  expect(Date.now() - t0).toBeLessThan(15_000);
  const ids = await Promise.all(CITIES.map((_, i) => c.scheduleNewOrchestration(helloCities, undefined, `after-term-${i}`)));
  expect(await checkHello(c, ids)).toEqual([]);
});

test("a node cut off from the database gives its partitions up when its leases lapse; the other takes them, every waiting instance completes once, and the node rejoins when the network is back", async () => {
  const url = await pg.createDatabase("netcut");
  const proxy = await startTcpProxy(Number(new URL(url).port));
  try {
    const a = await startNode("netcut-a", { url: proxy.via(url), leaseSeconds: 3 });
    const b = await startNode("netcut-b", { url, leaseSeconds: 3 });
    nodes.push(a, b);
    await pollUntil(async () => shares(await owners(url)), (s) => s[a.nodeId] === 8 && s[b.nodeId] === 8, "an 8/8 split");
    const c = sdkClient(b.address);
    await sdkWorker(b.address).start();
    const ids = Array.from({ length: 40 }, (_, i) => `cut-${i}`);
    for (const id of ids) await c.scheduleNewOrchestration(waitThenGreet, undefined, id);
    for (const id of ids) await c.waitForOrchestrationStart(id, false, 30);
    const before = await owners(url);
    const onA = ids.filter((id) => before.get(partitionOf(id, 16)) === a.nodeId);
    expect(onA.length).toBeGreaterThan(0);

    proxy.cut();
    // Nothing reaches a now: b takes every partition once a's leases lapse (3 s), and a gives them up on its own.
    await pollUntil(async () => shares(await owners(url)), (s) => s[b.nodeId] === 16, "b to own every partition", 20_000);
    await pollUntil(async () => a.output(), (out) => /cannot renew its partition leases/.test(out), "a to say it cannot renew");
    for (const id of ids) await c.raiseOrchestrationEvent(id, "go", id);
    for (const id of ids) {
      const s = await completed(c, id, 60);
      expect([id, s.runtimeStatus, s.serializedOutput]).toEqual([id, S.COMPLETED, JSON.stringify(`Hello, ${id}!`)]);
      const history = await c.getOrchestrationHistory(id);
      // One event raised, one activity scheduled and answered: nothing applied twice, nothing lost.
      expect(history.filter((e) => e.type === HistoryEventType.EventRaised)).toHaveLength(1);
      expect(history.filter((e) => e.type === HistoryEventType.TaskScheduled)).toHaveLength(1);
      expect(history.filter((e) => e.type === HistoryEventType.TaskCompleted)).toHaveLength(1);
    }

    proxy.restore();
    // Back on the network, a joins again and takes its share at higher epochs; the cluster serves on.
    await pollUntil(async () => shares(await owners(url)), (s) => s[a.nodeId] === 8 && s[b.nodeId] === 8, "a to rejoin with its share", 30_000);
    const after = await Promise.all(CITIES.map((_, i) => c.scheduleNewOrchestration(helloCities, undefined, `after-cut-${i}`)));
    expect(await checkHello(c, after)).toEqual([]);
  } finally {
    await proxy.close();
  }
});
