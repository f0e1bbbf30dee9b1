// /metrics on the dashboard port, read as Prometheus would: the text format parsed by a parser of
// that format, with the figures of a hub that has a worker and instances in known states; and the
// counters after a known workload on another hub: work items dispatched and completed per kind and
// hub, group commits and their sync time on SQLite, gRPC calls by method and code, a refused one included.
import * as grpc from "@grpc/grpc-js";
import { EntityInstanceId, OrchestrationContext, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { scrape as scrapeMetrics, value } from "../helpers/prometheus";
import { pollUntil } from "../helpers/poll";
import { addSampleWork, client, completed, grpcCode, worker } from "../helpers/sdk";

let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;
/** The client and worker of the hub whose counters are checked. */
let counted: { c: TaskHubGrpcClient; w: TaskHubGrpcWorker };

beforeAll(async () => {
  dts = await startDts(["--store", "sqlite", "--hubs", "default,counted"]);
  c = client(dts.address);
  w = worker(dts.address);
  addSampleWork(w);
  counted = { c: client(dts.address, "counted"), w: worker(dts.address, "counted") };
  addSampleWork(counted.w);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  counted.w.addOrchestrator(async function* threeHellos(ctx: OrchestrationContext): any {
    for (const city of ["Tokyo", "Seattle", "London"]) yield ctx.callActivity("sayHello", city);
  });
  await Promise.all([w.start(), counted.w.start()]);
});

afterAll(async () => {
  for (const x of [w, c, counted?.w, counted?.c]) await x?.stop();
  await dts?.stop();
});

const scrape = () => scrapeMetrics(dts.dashboardPort);

test("per-hub gauges and the process's figures, in the Prometheus text format", async () => {
  const waiting = await c.scheduleNewOrchestration("waitForApproval");
  await c.waitForOrchestrationStart(waiting);
  const done = await c.scheduleNewOrchestration("waitForApproval");
  await c.raiseOrchestrationEvent(done, "Approval", true);
  await completed(c, done);

  const families = await scrape();
  expect(families.get("dts_workers_connected")?.type).toBe("GAUGE");
  expect(value(families.get("dts_workers_connected"), { hub: "default" })).toBe("1");
  expect(value(families.get("dts_orchestrations"), { hub: "default", status: "Running" })).toBe("1");
  expect(value(families.get("dts_orchestrations"), { hub: "default", status: "Completed" })).toBe("1");
  for (const kind of ["orchestrations", "activities", "entities"]) {
    expect(value(families.get("dts_work_items_pending"), { hub: "default", kind })).toBe("0");
    expect(value(families.get("dts_work_items_active"), { hub: "default", kind })).toBe("0");
  }
  expect(Number(value(families.get("dts_instances_in_memory"), { hub: "default" }))).toBeGreaterThanOrEqual(1);
  expect(Number(families.get("dts_process_resident_memory_bytes")?.metrics[0].value)).toBeGreaterThan(0);
  expect(families.has("dts_nodejs_eventloop_lag_seconds")).toBe(true);

  // Scrapes read the engine afresh: the waiting instance finishes and the gauges follow.
  await c.raiseOrchestrationEvent(waiting, "Approval", true);
  await completed(c, waiting);
  expect(value((await scrape()).get("dts_orchestrations"), { hub: "default", status: "Completed" })).toBe("2");
});

test("work items per kind and hub, commits, and gRPC calls by method and code", async () => {
  const before = await scrape();
  const id = await counted.c.scheduleNewOrchestration("threeHellos");
  await completed(counted.c, id);
  // One entity batch: a signal, then wait until the entity has it.
  await counted.c.signalEntity(new EntityInstanceId("counter", "k"), "add", 1);
  await pollUntil(() => counted.c.getEntity(new EntityInstanceId("counter", "k")), (e) => e?.state === 1, "the counter entity to take the signal");
  const refused = await grpcCode(counted.c.raiseOrchestrationEvent("no-such-instance", "Approval", true));
  expect(refused.code).toBe(grpc.status.NOT_FOUND);

  const f = await scrape();
  for (const name of ["dts_work_items_dispatched_total", "dts_work_items_completed_total", "dts_work_items_abandoned_total", "dts_work_items_redelivered_total", "dts_grpc_calls_total"]) {
    expect(f.get(name)?.type).toBe("COUNTER");
  }
  // Started, then one episode after each of the three activities: four orchestration work items.
  expect(value(f.get("dts_work_items_dispatched_total"), { hub: "counted", kind: "orchestrations" })).toBe("4");
  expect(value(f.get("dts_work_items_completed_total"), { hub: "counted", kind: "orchestrations" })).toBe("4");
  expect(value(f.get("dts_work_items_dispatched_total"), { hub: "counted", kind: "activities" })).toBe("3");
  expect(value(f.get("dts_work_items_completed_total"), { hub: "counted", kind: "activities" })).toBe("3");
  expect(value(f.get("dts_work_items_dispatched_total"), { hub: "counted", kind: "entities" })).toBe("1");
  expect(value(f.get("dts_work_items_completed_total"), { hub: "counted", kind: "entities" })).toBe("1");
  // No activity ran on the other hub.
  expect(value(f.get("dts_work_items_dispatched_total"), { hub: "default", kind: "activities" })).toBeUndefined();

  // Calls are counted per server, not per hub: what this workload added.
  const calls = (m: string, code: string, from = f) => Number(value(from.get("dts_grpc_calls_total"), { service: "TaskHubSidecarService", method: m, code }) ?? 0);
  const added = (m: string, code = "OK") => calls(m, code) - calls(m, code, before);
  expect(added("StartInstance")).toBe(1);
  expect(added("CompleteActivityTask")).toBe(3);
  expect(added("CompleteOrchestratorTask")).toBe(4);
  expect(added("CompleteEntityTask")).toBe(1);
  expect(added("RaiseEvent", "NOT_FOUND")).toBe(1);

  // Histograms: the parser gives each its count; every change above was committed in some group, and SQLite measured each group's sync.
  const commits = Number(f.get("dts_commit_duration_seconds")?.metrics[0].count);
  expect(f.get("dts_commit_duration_seconds")?.type).toBe("HISTOGRAM");
  expect(commits).toBeGreaterThan(0);
  expect(Number(f.get("dts_commit_batch_changes")?.metrics[0].count)).toBe(commits);
  expect(Number(f.get("dts_store_sync_seconds")?.metrics[0].count)).toBe(commits);
  // The gauges are still served beside the counters.
  expect(value(f.get("dts_workers_connected"), { hub: "counted" })).toBe("1");
});
