// /metrics on the dashboard port, read as Prometheus would: the text format parsed by a parser of
// that format, with the figures of a hub that has a worker and instances in known states.
import { TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { addSampleWork, client, completed, worker } from "../helpers/sdk";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const parsePrometheus: (text: string) => Family[] = require("parse-prometheus-text-format");

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  c = client(dts.address);
  w = worker(dts.address);
  addSampleWork(w);
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
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Map(parsePrometheus(await r.text()).map((f) => [f.name, f]));
}

const value = (f: Family | undefined, labels: Record<string, string>) =>
  f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;

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
