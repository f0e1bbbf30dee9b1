// The engine's telemetry seam, driven on the engine directly: each moment (dispatch, completion,
// abandon, redelivery, an execution's end, a group commit) is told to the observer once, with the
// hub, the kind and the work item's token, and only after it is durable where that matters. Also:
// an activity goes to its worker with the trace context its orchestrator scheduled it with.
import { pb } from "../../src/proto";
import { EngineObserver } from "../../src/scheduler/observer";
import { Scheduler } from "../../src/scheduler/scheduler";
import { WorkerConnection } from "../../src/scheduler/worker";
import { MemoryStore } from "../../src/store";

const S = pb.OrchestrationStatus;
const str = (value: string) => ({ value });

function recording() {
  const seen: string[] = [];
  const commits: number[] = [];
  const observer: EngineObserver = {
    dispatched: (hub, kind, item, token) => seen.push(`dispatched ${hub} ${kind} ${token === item.completionToken}`),
    completed: (hub, kind) => seen.push(`completed ${hub} ${kind}`),
    abandoned: (hub, kind) => seen.push(`abandoned ${hub} ${kind}`),
    redelivered: (hub, kind, _token, reason) => seen.push(`redelivered ${hub} ${kind} ${reason}`),
    executionEnded: (hub, rec) => seen.push(`ended ${hub} ${rec.instanceId} ${S[rec.status]}`),
    committed: (f) => commits.push(f.changes),
  };
  return { seen, commits, observer };
}

test("each moment of a work item's life is told once, with its hub and kind", async () => {
  const { seen, commits, observer } = recording();
  const scheduler = new Scheduler(new MemoryStore(), { hubs: ["h"], observer, abandonBaseDelayMs: 1 });
  const hub = scheduler.hub("h");
  const items: pb.IWorkItem[] = [];
  let arrived: () => void = () => {};
  const sink = { send: (i: pb.IWorkItem) => (items.push(i), arrived(), true), end: () => {} };
  /** The next work item of a kind, once the engine sends it. */
  const next = async (kind: "orchestratorRequest" | "activityRequest") => {
    while (!items.some((x) => x[kind])) await new Promise<void>((resolve) => (arrived = resolve));
    return items.splice(items.findIndex((x) => x[kind]), 1)[0];
  };
  const first = new WorkerConnection("w1", sink, { orchestrations: 10, activities: 10, entities: 10 });
  hub.connectWorker(first);

  await hub.clients.startInstance({ instanceId: "i", name: "O" });
  const start = await next("orchestratorRequest");
  expect(seen.splice(0)).toEqual(["dispatched h orchestration true"]);
  const traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  await hub.completions.orchestration({ instanceId: "i", completionToken: start.completionToken, actions: [{ id: 0, scheduleTask: { name: "A", parentTraceContext: { traceParent } } }] });
  const activity = await next("activityRequest");
  expect(activity.activityRequest?.parentTraceContext?.traceParent).toBe(traceParent);
  // Speculative dispatch: the activity goes out while the episode's commit is written, so it is
  // told first; the episode is told completed once durable.
  expect(seen.splice(0)).toEqual(["dispatched h activity true", "completed h orchestration"]);

  hub.completions.abandon(activity.completionToken, "activity");
  const again = await next("activityRequest");
  expect(seen.splice(0)).toEqual(["abandoned h activity", "dispatched h activity true"]);
  hub.completions.release(again.completionToken, "activity");
  await next("activityRequest");
  expect(seen.splice(0)).toEqual(["redelivered h activity released", "dispatched h activity true"]);

  // The worker's stream goes: its activity is redelivered to the next worker.
  hub.disconnectWorker(first);
  hub.connectWorker(new WorkerConnection("w2", sink, { orchestrations: 10, activities: 10, entities: 10 }));
  const last = await next("activityRequest");
  expect(seen.splice(0)).toEqual(["redelivered h activity disconnected", "dispatched h activity true"]);
  await hub.completions.activity({ completionToken: last.completionToken, result: str("1") });
  const episode = await next("orchestratorRequest");
  expect(seen.splice(0)).toEqual(["dispatched h orchestration true", "completed h activity"]);

  // Continue-as-new ends the execution; the new one's completion ends it for good.
  await hub.completions.orchestration({ instanceId: "i", completionToken: episode.completionToken, actions: [{ id: 1, completeOrchestration: { orchestrationStatus: S.ORCHESTRATION_STATUS_CONTINUED_AS_NEW } }] });
  const restarted = await next("orchestratorRequest");
  expect(seen.splice(0)).toEqual(["dispatched h orchestration true", "completed h orchestration", "ended h i ORCHESTRATION_STATUS_CONTINUED_AS_NEW"]);
  await hub.completions.orchestration({ instanceId: "i", completionToken: restarted.completionToken, actions: [{ id: 0, completeOrchestration: { orchestrationStatus: S.ORCHESTRATION_STATUS_COMPLETED } }] });
  expect(seen.splice(0)).toEqual(["completed h orchestration", "ended h i ORCHESTRATION_STATUS_COMPLETED"]);

  // Every change was committed in some group, and each group was told once.
  expect(commits.length).toBeGreaterThan(0);
  expect(commits.every((n) => n >= 1)).toBe(true);
  await scheduler.close();
});
