// The counters on /metrics after a known workload, read as Prometheus would (the text format parsed by
// a parser of that format): work items dispatched and completed per kind and hub, group commits and
// their sync time on SQLite, and gRPC calls by method and status code, a refused one included.
import * as grpc from "@grpc/grpc-js";
import { EntityInstanceId, OrchestrationContext, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { addSampleWork, client, completed, grpcCode, worker } from "../helpers/sdk";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const parsePrometheus: (text: string) => Family[] = require("parse-prometheus-text-format");

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; count?: string; labels?: Record<string, string> }[];
}

let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;

beforeAll(async () => {
  dts = await startDts(["--store", "sqlite", "--hubs", "default,counted"]);
  c = client(dts.address, "counted");
  w = worker(dts.address, "counted");
  addSampleWork(w);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  w.addOrchestrator(async function* threeHellos(ctx: OrchestrationContext): any {
    for (const city of ["Tokyo", "Seattle", "London"]) yield ctx.callActivity("sayHello", city);
  });
  await w.start();
});

afterAll(async () => {
  await w?.stop();
  await c?.stop();
  await dts?.stop();
});

async function scrape(): Promise<Map<string, Family>> {
  const r = await fetch(`http://localhost:${dts.dashboardPort}/metrics`);
  expect(r.status).toBe(200);
  return new Map(parsePrometheus(await r.text()).map((f) => [f.name, f]));
}

const value = (f: Family | undefined, labels: Record<string, string>) =>
  f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;

test("work items per kind and hub, commits, and gRPC calls by method and code", async () => {
  const id = await c.scheduleNewOrchestration("threeHellos");
  await completed(c, id);
  // One entity batch: a signal, then wait until the entity has it.
  await c.signalEntity(new EntityInstanceId("counter", "k"), "add", 1);
  await pollUntil(() => c.getEntity(new EntityInstanceId("counter", "k")), (e) => e?.state === 1, "the counter entity to take the signal");
  const refused = await grpcCode(c.raiseOrchestrationEvent("no-such-instance", "Approval", true));
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
  // Nothing ran on the other hub.
  expect(value(f.get("dts_work_items_dispatched_total"), { hub: "default", kind: "orchestrations" })).toBeUndefined();

  const calls = f.get("dts_grpc_calls_total");
  expect(value(calls, { service: "TaskHubSidecarService", method: "StartInstance", code: "OK" })).toBe("1");
  expect(value(calls, { service: "TaskHubSidecarService", method: "CompleteActivityTask", code: "OK" })).toBe("3");
  expect(value(calls, { service: "TaskHubSidecarService", method: "CompleteOrchestratorTask", code: "OK" })).toBe("4");
  expect(value(calls, { service: "TaskHubSidecarService", method: "RaiseEvent", code: "NOT_FOUND" })).toBe("1");

  // Histograms: the parser gives each its count; every change above was committed in some group, and SQLite measured each group's sync.
  const commits = Number(f.get("dts_commit_duration_seconds")?.metrics[0].count);
  expect(f.get("dts_commit_duration_seconds")?.type).toBe("HISTOGRAM");
  expect(commits).toBeGreaterThan(0);
  expect(Number(f.get("dts_commit_batch_changes")?.metrics[0].count)).toBe(commits);
  expect(Number(f.get("dts_store_sync_seconds")?.metrics[0].count)).toBe(commits);
  // The gauges are still served beside the counters.
  expect(value(f.get("dts_workers_connected"), { hub: "counted" })).toBe("1");
});
