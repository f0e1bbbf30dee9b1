// The scale monitor against a real scheduler: a backlog with no worker, then a worker that takes two
// orchestrations at a time and completes nothing, then one that completes everything; the metrics,
// the target worker count and the votes at each stage. Then schedulers that cannot answer.
import { ScaleMonitor, ScaleStatus } from "../../scale/monitor";
import { MetricsSource, schedulerMetricsSource } from "../../scale/metrics-source";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { isOrchestration, RawClient } from "../helpers/raw";
import { completeOrchestration, createBacklog, deadPort } from "./helpers";

let dts: DtsProcess;
const clients: RawClient[] = [];
const sources: MetricsSource[] = [];

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of sources) s.close();
  await dts?.stop();
});

const limits = { orchestrator: 10, activity: 10, entity: 10 };

function monitorFor(endpoint: string, taskHub: string, windowSize = 5): ScaleMonitor {
  const source = schedulerMetricsSource({ endpoint, taskHub }, { cacheMs: 0 }); // every status() is a fresh read
  sources.push(source);
  return new ScaleMonitor(source, { taskHub, endpoint }, limits, windowSize);
}

const zero = { pending: 0, active: 0, oldestAgeSeconds: 0 };

test("backlog without workers, a worker at two at a time, then drained: metrics, target and votes", async () => {
  const raw = new RawClient(dts.address, "default", backendDefinition);
  clients.push(raw);
  const monitor = monitorFor(`http://localhost:${dts.port}`, "default");

  // Empty hub: nothing to do, nobody connected.
  let s = await monitor.status();
  expect(s).toMatchObject({
    taskHub: "default", state: "ok", error: null, targetWorkers: 0, vote: "None", voteRule: "collecting", samples: 1, windowSize: 5,
    metrics: { orchestrator: zero, activity: zero, entity: zero, connectedWorkers: 0 },
  });

  // 25 orchestrations, no worker: 3 workers needed at 10 each, and ScaleOut at once.
  await createBacklog(raw, "b", 25);
  s = await monitor.status();
  expect(s.metrics).toMatchObject({ orchestrator: { pending: 25, active: 0 }, activity: zero, entity: zero, connectedWorkers: 0 });
  expect(s.metrics!.orchestrator.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
  expect(s).toMatchObject({ targetWorkers: 3, workersPerKind: { orchestrator: 3, activity: 0, entity: 0 }, vote: "ScaleOut", voteRule: "no-workers", samples: 2 });

  // A worker that takes two at a time and completes nothing: 23 pending + 2 active, still 3 needed.
  const stream = raw.workItems({ maxConcurrentOrchestrationWorkItems: 2 });
  await stream.waitFor(isOrchestration);
  await stream.waitFor(isOrchestration, 1);
  const stage2: ScaleStatus[] = [];
  for (let i = 0; i < 5; i++) stage2.push(await monitor.status());
  for (const x of stage2) {
    expect(x.metrics).toMatchObject({ orchestrator: { pending: 23, active: 2 }, connectedWorkers: 1 });
    expect(x.targetWorkers).toBe(3);
  }
  // The empty first sample keeps the backlog rule off until it leaves the window (samples 3-5);
  // from the 4th stage-2 sample all five samples need more workers than are connected.
  expect(stage2.map((x) => x.vote)).toEqual(["None", "None", "None", "ScaleOut", "ScaleOut"]);
  expect(stage2[3]).toMatchObject({ voteRule: "backlog" });
  expect(stage2[4].voteReason).toMatch(/needs 3 worker\(s\), more than the 1 connected, in all 5 samples/);

  // The worker completes everything (two in flight at a time, each completion frees a slot).
  let next = 0;
  for (let done = 0; done < 25; done++) {
    const i = await stream.waitFor(isOrchestration, next);
    next = i + 1;
    await completeOrchestration(raw, stream.items[i]);
  }
  const stage3: ScaleStatus[] = [];
  for (let i = 0; i < 5; i++) stage3.push(await monitor.status());
  for (const x of stage3) {
    expect(x.metrics).toEqual({ orchestrator: zero, activity: zero, entity: zero, connectedWorkers: 1 });
    expect(x.targetWorkers).toBe(0);
  }
  // Idle needs the whole window: ScaleIn once the five samples are all idle.
  expect(stage3.map((x) => x.vote)).toEqual(["None", "None", "None", "None", "ScaleIn"]);
  expect(stage3[4]).toMatchObject({ voteRule: "idle" });

  // The worker leaves: idle with nobody to remove. The scheduler notices the closed stream on its
  // own time, so read until it reports no worker (each read is a round trip, not a sleep).
  stream.cancel();
  await stream.closed();
  do s = await monitor.status();
  while (s.metrics!.connectedWorkers !== 0);
  expect(s).toMatchObject({ targetWorkers: 0, vote: "None", voteRule: "idle" });
});

test("an unreachable scheduler is an error state with the reason, not zeros", async () => {
  const port = await deadPort();
  const s = await monitorFor(`http://localhost:${port}`, "default").status();
  expect(s).toMatchObject({ state: "error", metrics: null, workersPerKind: null, targetWorkers: null, vote: null, samples: 0 });
  expect(s.error).toMatch(new RegExp(`^GetMetrics from http://localhost:${port} \\(task hub 'default'\\) failed: UNAVAILABLE: `));
});

test("a task hub the scheduler does not serve is an error state naming it", async () => {
  const s = await monitorFor(`http://localhost:${dts.port}`, "nohub").status();
  expect(s).toMatchObject({ state: "error", targetWorkers: null, vote: null });
  expect(s.error).toMatch(/^GetMetrics from .* \(task hub 'nohub'\) failed: NOT_FOUND: .*nohub/);
});
