// Two nodes, each serving its own partitions, and clients and workers that know only one of them:
// calls about an instance reach the node that serves it, a worker connected to node A gets node B's
// work through A (a mirror of its stream on B) and completes it through A, and hub-wide calls sum
// over the nodes. Which node serves an instance comes from a fixed map here (ids starting "b-" are
// B's); the partition leases decide it in a real cluster (tested with them in test/postgres/).
import * as grpc from "@grpc/grpc-js";
import { ActivityContext, EntityInstanceId, OrchestrationContext, OrchestrationStatus, TaskEntity, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll } from "@microsoft/durabletask-js";
import { startDashboard } from "../../src/dashboard/dashboard-server";
import { pb } from "../../src/proto";
import { parseConnectionString } from "../../src/provider/connection-string";
import { startDurableWorker } from "../../src/provider/durable-worker";
import { TestApp } from "../provider/harness";
import { backendDefinition, sidecarDefinition } from "../../src/proto/services";
import { ClusterView, HERE, Placement } from "../../src/server/cluster-view";
import { FORWARDED_HEADER, Peer } from "../../src/server/peer-calls";
import { RunningServer, startServer } from "../../src/server/server";
import { client, completed, worker } from "../helpers/sdk";
import { pollUntil } from "../helpers/poll";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A view where ids starting with "b-" (and tokens B issued) are B's; the rest A's. */
class FixedView implements ClusterView {
  private readonly listeners = new Set<() => void>();
  others: Peer[] = [];
  constructor(readonly nodeId: string, private readonly isMine: (id: string) => boolean, public other?: Peer) {}
  locate(_hub: string, id: string): Placement {
    return this.isMine(id) ? HERE : this.other ? { peer: this.other } : { moving: true };
  }
  locateToken(): Placement {
    return HERE;
  }
  peers(): Peer[] {
    return this.other ? [this.other] : [];
  }
  settle(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 20));
  }
  onPeersChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  setOther(other: Peer | undefined): void {
    this.other = other;
    for (const l of this.listeners) l();
  }
}

const onB = (id: string) => id.startsWith("b-") || id.startsWith("@counter@b");
const viewA = new FixedView("node-a", (id) => !onB(id));
const viewB = new FixedView("node-b", onB);
let a: RunningServer;
let b: RunningServer;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;
const raw: grpc.Client[] = [];

async function* hello(ctx: OrchestrationContext, name: string): any {
  const parts = yield whenAll(["x", "y", "z"].map((p) => ctx.callActivity(greet, `${name}-${p}`)));
  const approval = name.endsWith("wait") ? yield ctx.waitForExternalEvent("go") : "none";
  return { parts, approval };
}
class Counter extends TaskEntity<number> {
  add(n: number): number {
    this.state += n;
    return this.state;
  }
  protected initializeState(): number {
    return 0;
  }
}
const counter = () => new Counter();
const greet = async (_ctx: ActivityContext, s: string) => `hi ${s}`;

beforeAll(async () => {
  const options = { port: 0, store: "memory" as const, dataDir: "", hubs: ["default", "func"] };
  [a, b] = await Promise.all([startServer({ ...options, cluster: viewA }), startServer({ ...options, cluster: viewB })]);
  viewA.setOther({ nodeId: "node-b", address: `localhost:${b.port}` });
  viewB.setOther({ nodeId: "node-a", address: `localhost:${a.port}` });
  c = client(`localhost:${a.port}`);
  w = worker(`localhost:${a.port}`);
  w.addOrchestrator(hello);
  w.addActivity(greet);
  w.addEntity(counter);
  await w.start();
});

afterAll(async () => {
  for (const r of raw) r.close();
  await w?.stop();
  await c?.stop();
  await Promise.all([a?.close(), b?.close()]);
});

describe("a cluster of two nodes", () => {
  it("runs an instance another node serves for a client and a worker that know only this node", async () => {
    const [ida, idb] = await Promise.all([c.scheduleNewOrchestration(hello, "a-one", { instanceId: "a-one" }), c.scheduleNewOrchestration(hello, "b-one", { instanceId: "b-one" })]);
    const [sa, sb] = await Promise.all([completed(c, ida), completed(c, idb)]);
    expect(sa.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    expect(JSON.parse(sb.serializedOutput!)).toEqual({ parts: ["hi b-one-x", "hi b-one-y", "hi b-one-z"], approval: "none" });
    // Each instance lives on the node that serves it, and only there.
    expect((await b.scheduler.hub("default").reads.getInstance("b-one"))?.status).toBe(pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED);
    expect(await a.scheduler.hub("default").reads.getInstance("b-one")).toBeUndefined();
    expect(await b.scheduler.hub("default").reads.getInstance("a-one")).toBeUndefined();
  });

  it("passes on raised events, and answers for an instance started with no id on the node that got it", async () => {
    const id = await c.scheduleNewOrchestration(hello, "b-wait", { instanceId: "b-wait" });
    await c.waitForOrchestrationStart(id, false, 10);
    await c.raiseOrchestrationEvent(id, "go", "yes");
    expect(JSON.parse((await completed(c, id)).serializedOutput!).approval).toBe("yes");
    const generated = await c.scheduleNewOrchestration(hello, "anon");
    expect((await completed(c, generated)).runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    expect(await a.scheduler.hub("default").reads.getInstance(generated)).toBeDefined();
  });

  it("refuses a call passed on once whose instance is not served by the receiving node, rather than passing it on again", async () => {
    const direct = new grpc.Client(`localhost:${b.port}`, grpc.credentials.createInsecure());
    raw.push(direct);
    const md = new grpc.Metadata();
    md.set(FORWARDED_HEADER, "node-a");
    const m = sidecarDefinition.GetInstance;
    const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
      direct.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { instanceId: "a-one" }, md, (e) => (e ? resolve(e) : reject(new Error("served")))));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toMatch(/moved to another node/);
  });

  it("sums hub-wide metrics, and purges a batch on the nodes that hold each instance", async () => {
    const m = backendDefinition.GetMetrics;
    const metrics = await new Promise<any>((resolve, reject) =>
      raw[0].makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, new grpc.Metadata(), (e, v) => (e ? reject(e) : resolve(v))));
    // One worker, connected to A; its mirror on B is not a second one.
    expect(metrics.metrics.connectedWorkers.count).toBe(1);
    expect(b.scheduler.hub("default").reads.workers().map((w) => w.mirrorFor)).toEqual(["node-a"]);
    expect(a.scheduler.hub("default").reads.workers().map((w) => w.mirrorFor)).toEqual([undefined]);
    // B's dashboard says where that stream's worker is.
    const dashboard = await startDashboard(b.scheduler, "localhost", 0);
    try {
      const page = await (await fetch(`http://localhost:${dashboard.port}/hubs/default/workers`)).text();
      expect(page).toContain("connected to node node-a; its work from this node is relayed there");
    } finally {
      await dashboard.close();
    }
    // A batch is split by the node that holds each instance (a filter's ids, read from the shared store, are split the same way).
    const ids = ["a-one", "b-one", "b-wait"];
    const p = sidecarDefinition.PurgeInstances;
    const purged = await new Promise<any>((resolve, reject) =>
      raw[0].makeUnaryRequest(p.path, p.requestSerialize, p.responseDeserialize, { instanceBatch: { instanceIds: ids } }, new grpc.Metadata(), (e, v) => (e ? reject(e) : resolve(v))));
    expect(purged.deletedInstanceCount).toBe(3);
    for (const id of ids) expect(await (id.startsWith("b-") ? b : a).scheduler.hub("default").reads.getInstance(id)).toBeUndefined();
  });

  it("gives the mirrored work back when the worker goes, and the next worker gets it", async () => {
    const id = await c.scheduleNewOrchestration(hello, "b-later", { instanceId: "b-later" });
    await w.stop();
    await pollUntil(async () => b.scheduler.hub("default").reads.workers().length, (n) => n === 0, "node B to see the mirror of the stopped worker close");
    w = worker(`localhost:${a.port}`);
    w.addOrchestrator(hello);
    w.addActivity(greet);
    w.addEntity(counter);
    await w.start();
    expect((await completed(c, id)).runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  });

  it("serves a Functions host connected to one node: its completions over the completion stream reach the node that leased each item", async () => {
    const app = new TestApp()
      .orchestration("Greetings", function* (ctx: any) {
        const x = yield ctx.df.callActivity("Greet", "Tokyo");
        const y = yield ctx.df.callActivity("Greet", "Lima");
        return [x, y];
      })
      .activity("Greet", (name: string) => `Hello, ${name}!`);
    const host = await startDurableWorker(app, {
      appDir: "/app", hubName: "func", connectionStringName: "C", settings: {}, warnings: [],
      connection: parseConnectionString(`Endpoint=http://localhost:${a.port};Authentication=None`),
      maxConcurrentOrchestratorFunctions: 10, maxConcurrentActivityFunctions: 10, maxConcurrentEntityFunctions: 10, httpAsyncSleepMs: 30_000,
    }, { log: () => undefined });
    // Its own task hub, so the SDK worker of the other tests does not take its work.
    const fc = client(`localhost:${a.port}`, "func");
    try {
      for (const id of ["b-func", "a-func"]) await fc.scheduleNewOrchestration("Greetings", undefined, { instanceId: id });
      for (const id of ["b-func", "a-func"]) expect(JSON.parse((await completed(fc, id)).serializedOutput!)).toEqual(["Hello, Tokyo!", "Hello, Lima!"]);
      expect(await b.scheduler.hub("func").reads.getInstance("b-func")).toBeDefined();
    } finally {
      await fc.stop();
      await host.stop();
    }
  });

  it("signals and reads an entity another node serves", async () => {
    const id = new EntityInstanceId("counter", "b1");
    await c.signalEntity(id, "add", 5);
    const state = await pollUntil(async () => (await c.getEntity<number>(id))?.state, (v) => v === 5, "the counter on node B to reach 5");
    expect(state).toBe(5);
    expect(b.scheduler.hub("default").entities.get("@counter@b1")?.data.state).toBe("5");
  });

  it("holds a call for an instance whose partition no node holds until one does, then serves it there", async () => {
    viewA.setOther(undefined);
    const read = c.getOrchestrationState("b-later");
    // The call waits (it is settling), and is answered by B once A learns that B holds the partition.
    setTimeout(() => viewA.setOther({ nodeId: "node-b", address: `localhost:${b.port}` }), 300);
    expect((await read)?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  });
});
