// End-to-end: BackendService (what a Functions host's azureManaged provider calls) on the same
// engine as the sidecar service: precomputed completions, activity and entity completions by event,
// metrics, release, forced termination, drain.
import { str } from "../../src/core/events";
import { pb } from "../../src/proto";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { answerOrchestration, RawClient } from "../helpers/raw";
import { client, completed } from "../helpers/sdk";

let dts: DtsProcess;
let be: RawClient;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--dynamic-hubs"]);
});
afterAll(async () => {
  be?.close();
  await dts?.stop();
});

const S = pb.OrchestrationStatus;

const answer = answerOrchestration;

test("an orchestration runs to completion through precomputed completions and activity events", async () => {
  be = new RawClient(dts.address, "fx", backendDefinition);
  const { instanceId } = await be.call("CreateInstance", { instanceId: "be-1", name: "Hello", input: { value: '"x"' } });
  expect(instanceId).toBe("be-1");
  const stream = be.workItems();
  let i = await stream.waitFor((w) => !!w.orchestratorRequest);
  await answer(be, stream.items[i], [{ id: 0, scheduleTask: { name: "SayHello", input: str('"Tokyo"') } }]);
  const a = await stream.waitFor((w) => !!w.activityRequest);
  expect(stream.items[a].activityRequest).toMatchObject({ name: "SayHello", taskId: 0, input: { value: '"Tokyo"' } });
  await be.call("CompleteActivityWorkItem", {
    completionToken: stream.items[a].completionToken,
    responseEvent: { eventId: -1, taskCompleted: { taskScheduledId: 0, result: { value: '"Hello, Tokyo!"' } } },
  });
  i = await stream.waitFor((w) => !!w.orchestratorRequest, i + 1);
  const req = stream.items[i].orchestratorRequest!;
  expect((req.newEvents ?? []).some((e) => e.taskCompleted?.result?.value === '"Hello, Tokyo!"')).toBe(true);
  await answer(be, stream.items[i], [{ id: 1, completeOrchestration: { orchestrationStatus: S.ORCHESTRATION_STATUS_COMPLETED, result: str('"done"') } }]);
  // The portable SDK's client sees the same instance: one engine behind both services.
  const c = client(dts.address, "fx");
  const s = await completed(c, "be-1");
  expect(s.serializedOutput).toBe('"done"');
  await c.stop();
  const history = await be.call("GetOrchestrationRuntimeState", { instance: { instanceId: "be-1" } });
  expect(history.history.map((e: pb.HistoryEvent) => e.eventType)).toEqual([
    "orchestratorStarted", "executionStarted", "taskScheduled", "orchestratorStarted", "taskCompleted", "executionCompleted",
  ]);
  stream.cancel();
});

test("GetMetrics reports a queued backlog, and active items once dispatched", async () => {
  const raw = new RawClient(dts.address, "metrics", backendDefinition);
  for (let n = 0; n < 3; n++) await raw.call("CreateInstance", { instanceId: `m-${n}`, name: "Hello" });
  let m = (await raw.call("GetMetrics", {})).metrics;
  expect(m.orchestratorWorkItems.pending).toBe(3);
  expect(m.orchestratorWorkItems.active ?? 0).toBe(0);
  expect(m.connectedWorkers.count ?? 0).toBe(0);
  const stream = raw.workItems({ maxConcurrentOrchestrationWorkItems: 2 });
  await stream.waitFor((w) => !!w.orchestratorRequest);
  await stream.waitFor((w) => !!w.orchestratorRequest, 1);
  m = (await raw.call("GetMetrics", {})).metrics;
  expect(m.orchestratorWorkItems.pending).toBe(1);
  expect(m.orchestratorWorkItems.active).toBe(2);
  expect(m.connectedWorkers.count).toBe(1);
  // Release hands an item back for immediate re-dispatch.
  await raw.call("ReleaseOrchestrationWorkItem", { completionToken: stream.items[0].completionToken });
  await stream.waitFor((w) => !!w.orchestratorRequest, 2);
  stream.cancel();
  raw.close();
});

test("SkipGracefulOrchestrationTerminations ends instances without their worker", async () => {
  const raw = new RawClient(dts.address, "skip", backendDefinition);
  await raw.call("CreateInstance", { instanceId: "s-1", name: "Hello" });
  const res = await raw.call("SkipGracefulOrchestrationTerminations", { instanceBatch: { instanceIds: ["s-1", "nope"] }, reason: { value: "bye" } });
  expect(res.unterminatedInstanceIds).toEqual(["nope"]);
  const got = await raw.call("GetInstance", { instanceId: "s-1", getInputsAndOutputs: true });
  expect(got.orchestrationState.orchestrationStatus).toBe(S.ORCHESTRATION_STATUS_TERMINATED);
  expect(got.orchestrationState.output.value).toBe("bye");
  raw.close();
});

test("extended sessions answer UNIMPLEMENTED with a message saying what to change", async () => {
  const raw = new RawClient(dts.address, "ext", backendDefinition);
  const call = raw.grpc.CompleteOrchestrationWorkItemWithExtendedSession({}, raw.metadata());
  const err = await new Promise<{ code: number; details: string }>((resolve) => call.on("error", resolve));
  expect(err.code).toBe(12);
  expect(err.details).toMatch(/extendedSessionsEnabled/);
  raw.close();
});

test("a precomputed completion with a stale token changes nothing", async () => {
  const raw = new RawClient(dts.address, "stale", backendDefinition);
  await raw.call("CreateInstance", { instanceId: "st-1", name: "Hello" });
  await expect(raw.call("CompleteOrchestrationWorkItem", { completionToken: "nope", runtimeStatus: S.ORCHESTRATION_STATUS_COMPLETED })).rejects.toMatchObject({ code: 5 });
  const got = await raw.call("GetInstance", { instanceId: "st-1" });
  expect(got.orchestrationState.orchestrationStatus).toBe(S.ORCHESTRATION_STATUS_PENDING);
  raw.close();
});

test("an ExecutionRewound message to an instance that is not there creates nothing; to an id the rules refuse, it fails the orchestration", async () => {
  const raw = new RawClient(dts.address, "rewound", backendDefinition);
  const stream = raw.workItems();
  const complete = async (instanceId: string, target: string) => {
    await raw.call("CreateInstance", { instanceId, name: "Hello" });
    const item = await stream.next((w) => w.orchestratorRequest?.instanceId === instanceId);
    await raw.call("CompleteOrchestrationWorkItem", {
      completionToken: item.completionToken, instance: { instanceId }, runtimeStatus: S.ORCHESTRATION_STATUS_COMPLETED,
      newMessages: [{ instance: { instanceId: target }, event: { eventId: -1, executionRewound: {} } }],
    });
    return (await raw.call("GetInstance", { instanceId })).orchestrationState;
  };
  // Before, each was created as a Pending orchestration without a name, the second under an id GetInstance refuses.
  expect((await complete("rw-1", "ghost")).orchestrationStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect((await raw.call("GetInstance", { instanceId: "ghost" })).exists).toBe(false);
  const refused = await complete("rw-2", "gh\u00b7ost");
  expect([refused.orchestrationStatus, refused.failureDetails?.errorType, refused.failureDetails?.errorMessage]).toEqual([
    S.ORCHESTRATION_STATUS_FAILED, "InvalidAction", "rewound sub-orchestration instanceId 'gh\\u00b7ost' may contain only printable ASCII characters (0x20-0x7E)",
  ]);
  const all = await raw.call("QueryInstances", { query: { maxInstanceCount: 100 } });
  expect(all.orchestrationState.map((s: pb.IOrchestrationState) => s.instanceId).sort()).toEqual(["rw-1", "rw-2"]);
  stream.cancel();
  raw.close();
});
