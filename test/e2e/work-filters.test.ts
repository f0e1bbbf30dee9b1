// End-to-end: work-item filters (GetWorkItemsRequest.workItemFilters) with the official SDK's own
// option, `workItemFilters: "auto"` (built from what the worker registered, with its version under
// the Strict versioning strategy). Each worker receives only what it can run; work no connected
// worker can run waits, counted in GetMetrics, until a capable worker connects; a worker without
// filters still receives everything.
import { ActivityContext, EntityInstanceId, NoOpLogger, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker, VersionMatchStrategy } from "@microsoft/durabletask-js";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { RawClient } from "../helpers/raw";
import { client, completed, CounterEntity, hubMetadata, retriesEndAtStop } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */
let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--dynamic-hubs"]);
});

afterAll(() => stopAll({ raws, workers, clients, servers: [dts] }));

/** An SDK worker on `hub` that sends filters built from its registrations (and, given one, its Strict version). */
function filteredWorker(hub: string, version?: string, filters: "auto" | undefined = "auto"): TaskHubGrpcWorker {
  const w = retriesEndAtStop(new TaskHubGrpcWorker({
    hostAddress: dts.address, logger: new NoOpLogger(), metadataGenerator: hubMetadata(hub), shutdownTimeoutMs: 2000, workItemFilters: filters,
    versioning: version ? { version, matchStrategy: VersionMatchStrategy.Strict } : undefined,
  }));
  workers.push(w);
  return w;
}

function sdkClient(hub: string): TaskHubGrpcClient {
  const c = client(dts.address, hub);
  clients.push(c);
  return c;
}

function metrics(hub: string): () => Promise<any> {
  const raw = new RawClient(dts.address, hub, backendDefinition);
  raws.push(raw);
  return async () => (await raw.call("GetMetrics", {})).metrics;
}

/** An orchestrator that calls one activity and says which worker ran it. */
function orchestrator(worker: string, activity: string) {
  return async function* (ctx: OrchestrationContext, input: string): AsyncGenerator<Task<any>, any, any> {
    const done = yield ctx.callActivity(activity, input);
    return `${worker}:${done}`;
  };
}

test("two SDK workers with filters each receive only their own orchestrations, activities and entities", async () => {
  const hub = "two-workers";
  const ran = { billing: [] as string[], shipping: [] as string[] };
  const billing = filteredWorker(hub);
  billing.addNamedOrchestrator("Billing", orchestrator("billing", "Pack"));
  billing.addNamedActivity("Charge", (_ctx: ActivityContext, x: string) => (ran.billing.push(`Charge ${x}`), `charged ${x}`));
  billing.addNamedEntity("counter", () => new CounterEntity());
  const shipping = filteredWorker(hub);
  shipping.addNamedOrchestrator("Shipping", orchestrator("shipping", "Charge"));
  shipping.addNamedActivity("Pack", (_ctx: ActivityContext, x: string) => (ran.shipping.push(`Pack ${x}`), `packed ${x}`));
  await Promise.all([billing.start(), shipping.start()]);

  const c = sdkClient(hub);
  // Each orchestration calls the other worker's activity: activities go by their own filter, not by
  // where the orchestration runs. Had a worker received work it has not registered, the SDK would
  // have failed it (orchestrator or activity not registered).
  const ids = await Promise.all([1, 2, 3, 4].flatMap((n) => [c.scheduleNewOrchestration("Billing", `b${n}`), c.scheduleNewOrchestration("Shipping", `s${n}`)]));
  const outputs = await Promise.all(ids.map(async (id) => {
    const s = await completed(c, id);
    expect(s.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    return JSON.parse(s.serializedOutput!);
  }));
  expect(outputs.sort()).toEqual([1, 2, 3, 4].flatMap((n) => [`billing:packed b${n}`, `shipping:charged s${n}`]).sort());
  expect(ran.billing.sort()).toEqual(["Charge s1", "Charge s2", "Charge s3", "Charge s4"]);
  expect(ran.shipping.sort()).toEqual(["Pack b1", "Pack b2", "Pack b3", "Pack b4"]);

  const counter = new EntityInstanceId("counter", "k");
  for (let n = 0; n < 3; n++) await c.signalEntity(counter, "add", 2);
  await pollUntil(async () => (await c.getEntity<number>(counter))?.state, (v) => v === 6, "the counter to reach 6");
});

test("work no connected worker can run waits, counted in GetMetrics, and runs once a capable worker connects", async () => {
  const hub = "waiting";
  const billing = filteredWorker(hub);
  billing.addNamedOrchestrator("Billing", orchestrator("billing", "Audit"));
  await billing.start();
  const c = sdkClient(hub);
  const read = metrics(hub);
  const refund = await c.scheduleNewOrchestration("Refund", "r1");
  // Billing runs, and its activity "Audit" (which no worker registered) waits too.
  const bill = await c.scheduleNewOrchestration("Billing", "b1");
  // And so does a signal to an entity no worker registered.
  const ledger = new EntityInstanceId("ledger", "main");
  await c.signalEntity(ledger, "add", 5);
  const m = await pollUntil(read, (x) => x.orchestratorWorkItems.waitingForWorker === 1 && x.activityWorkItems.waitingForWorker === 1 && x.entityWorkItems.waitingForWorker === 1,
    "the refund, the audit and the ledger to wait for a worker");
  expect(m.entityWorkItems.pending).toBe(1);
  expect(m.orchestratorWorkItems.pending).toBe(1);
  expect(m.activityWorkItems.pending).toBe(1);
  expect(m.connectedWorkers.count).toBe(1);
  expect((await c.getOrchestrationState(refund))!.runtimeStatus).toBe(OrchestrationStatus.PENDING);
  expect((await c.getOrchestrationState(bill))!.runtimeStatus).toBe(OrchestrationStatus.RUNNING);
  // The dashboard's workers page shows the same, and what the connected worker runs.
  const page = await (await fetch(`http://localhost:${dts.dashboardPort}/hubs/${hub}/workers`)).text();
  expect([...page.matchAll(/<td class="waiting">(\d+)<\/td>/g)].map((m) => m[1])).toEqual(["1", "1", "1"]);
  expect(page).toMatch(/<td class="runs"><div>orchestrations: billing<\/div><\/td>/);
  const scrape = await (await fetch(`http://localhost:${dts.dashboardPort}/metrics`)).text();
  expect(scrape).toContain(`dts_work_items_waiting_for_worker{hub="${hub}",kind="orchestrations"} 1`);
  expect(scrape).toContain(`dts_work_items_waiting_for_worker{hub="${hub}",kind="activities"} 1`);

  const refunds = filteredWorker(hub);
  refunds.addNamedOrchestrator("Refund", orchestrator("refunds", "Audit"));
  refunds.addNamedActivity("Audit", (_ctx: ActivityContext, x: string) => `audited ${x}`);
  refunds.addNamedEntity("ledger", () => new CounterEntity());
  await refunds.start();
  expect(JSON.parse((await completed(c, refund)).serializedOutput!)).toBe("refunds:audited r1");
  expect(JSON.parse((await completed(c, bill)).serializedOutput!)).toBe("billing:audited b1");
  await pollUntil(async () => (await c.getEntity<number>(ledger))?.state, (v) => v === 5, "the ledger to reach 5");
  const after = await read();
  expect(after.orchestratorWorkItems.waitingForWorker ?? 0).toBe(0);
  expect(after.activityWorkItems.waitingForWorker ?? 0).toBe(0);
  expect(after.entityWorkItems.waitingForWorker ?? 0).toBe(0);
});

test("a worker without filters still receives everything, beside a filtered one", async () => {
  const hub = "unfiltered";
  const billing = filteredWorker(hub);
  billing.addNamedOrchestrator("Billing", orchestrator("billing", "Charge"));
  billing.addNamedActivity("Charge", (_ctx: ActivityContext, x: string) => `charged ${x}`);
  await billing.start();
  const c = sdkClient(hub);
  const read = metrics(hub);
  const shipment = await c.scheduleNewOrchestration("Shipping", "s1");
  await pollUntil(read, (x) => x.orchestratorWorkItems.waitingForWorker === 1, "the shipment to wait for a worker");

  const any = filteredWorker(hub, undefined, undefined);
  any.addNamedOrchestrator("Shipping", orchestrator("any", "Pack"));
  any.addNamedActivity("Pack", (_ctx: ActivityContext, x: string) => `packed ${x}`);
  await any.start();
  expect(JSON.parse((await completed(c, shipment)).serializedOutput!)).toBe("any:packed s1");
  // With a worker that takes anything connected, nothing waits for a capable one.
  const m = await read();
  expect(m.orchestratorWorkItems.waitingForWorker ?? 0).toBe(0);
});

test("a filter entry without a name is refused with INVALID_ARGUMENT, saying which", async () => {
  const raw = new RawClient(dts.address, "bad-filter");
  raws.push(raw);
  const stream = raw.workItems({ workItemFilters: { orchestrations: [{ name: "Billing" }, { name: "" }] } });
  await stream.closed();
  expect(stream.error?.code).toBe(3); // INVALID_ARGUMENT
  expect(stream.error?.details).toMatch(/workItemFilters\.orchestrations\[1\]\.name must not be empty/);
});

test("versioned filters: a Strict worker receives only its version; the other version waits for its own worker", async () => {
  const hub = "versions";
  // Under Strict, the SDK's filter names the worker's version for its activities too; the activity
  // (called without a version) runs under its orchestration's, so the same worker receives it.
  const v2 = filteredWorker(hub, "2.0");
  v2.addNamedOrchestrator("Billing", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    const charged = yield ctx.callActivity("Charge", "x");
    return `v2 worker ran ${ctx.version}, ${charged}`;
  });
  v2.addNamedActivity("Charge", (_ctx: ActivityContext, x: string) => `charged ${x}`);
  await v2.start();
  const c = sdkClient(hub);
  const read = metrics(hub);
  const old = await c.scheduleNewOrchestration("Billing", undefined, { version: "1.0" });
  const cur = await c.scheduleNewOrchestration("Billing", undefined, { version: "2.0" });
  expect(JSON.parse((await completed(c, cur)).serializedOutput!)).toBe("v2 worker ran 2.0, charged x");
  await pollUntil(read, (x) => x.orchestratorWorkItems.waitingForWorker === 1, "version 1.0 to wait for a worker");
  expect((await c.getOrchestrationState(old))!.runtimeStatus).toBe(OrchestrationStatus.PENDING);

  const v1 = filteredWorker(hub, "1.0");
  v1.addNamedOrchestrator("Billing", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    return `v1 worker ran ${ctx.version}`;
  });
  await v1.start();
  expect(JSON.parse((await completed(c, old)).serializedOutput!)).toBe("v1 worker ran 1.0");
});
