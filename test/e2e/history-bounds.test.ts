// End-to-end: histories are bounded. An orchestration whose history would grow past
// --max-history-events fails with HistoryTooLarge instead of growing without end, and a worker that
// declares WORKER_CAPABILITY_HISTORY_STREAMING gets a long history by StreamInstanceHistory instead
// of inside the work item (--history-streaming-threshold), while other workers still get it inline.
import { OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { pb } from "../../src/proto";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { stopAll } from "../helpers/teardown";
import { activityResponse, answerWithActivities, isActivity, isOrchestration, RawClient } from "../helpers/raw";
import { client, completed, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--dynamic-hubs", "--max-history-events", "30", "--history-streaming-threshold", "4"]);
});

afterAll(() => stopAll({ raws, workers, clients, servers: [dts] }));

test("an orchestration whose history would pass --max-history-events fails with HistoryTooLarge; a short one completes", async () => {
  const hub = "bounded";
  const w = worker(dts.address, hub);
  workers.push(w);
  w.addNamedOrchestrator("Loop", async function* (ctx: OrchestrationContext, n: number): AsyncGenerator<Task<any>, any, any> {
    let total = 0;
    for (let i = 0; i < n; i++) total += yield ctx.callActivity("One", i);
    return total;
  });
  w.addNamedActivity("One", () => 1);
  await w.start();
  const c = client(dts.address, hub);
  clients.push(c);
  const short = await completed(c, await c.scheduleNewOrchestration("Loop", 3));
  expect(short.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  const long = await completed(c, await c.scheduleNewOrchestration("Loop", 50));
  expect(long.runtimeStatus).toBe(OrchestrationStatus.FAILED);
  expect(long.failureDetails?.errorType).toBe("HistoryTooLarge");
  expect(long.failureDetails?.message).toMatch(/limit is 30 \(--max-history-events\).*continue-as-new/);
});

test("a worker with the history-streaming capability gets a long history by StreamInstanceHistory; one without gets it inline", async () => {
  const r = new RawClient(dts.address, "streaming");
  raws.push(r);
  const streaming = r.workItems({ capabilities: [pb.WorkerCapability.WORKER_CAPABILITY_HISTORY_STREAMING] });
  const c = client(dts.address, "streaming");
  clients.push(c);
  const id = await c.scheduleNewOrchestration("Raw");
  // First episode: short history, inline. It schedules three activities (history: 5 events > 4).
  const first = await answerWithActivities(r, streaming, ["A", "B", "C"]);
  expect(first.item.orchestratorRequest!.requiresHistoryStreaming).toBe(false);
  for (let n = 0, from = 0; n < 3; n++) {
    from = await streaming.waitFor(isActivity, from);
    await r.call("CompleteActivityTask", activityResponse(streaming.items[from], n));
    from++;
  }
  const again = await streaming.next(isOrchestration, first.index + 1);
  const req = again.orchestratorRequest!;
  expect(req.requiresHistoryStreaming).toBe(true);
  expect(req.pastEvents).toEqual([]);
  // The history it must fetch is the committed one, whole.
  const chunks: pb.HistoryChunk[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = r.grpc.StreamInstanceHistory({ instanceId: id, executionId: req.executionId, forWorkItemProcessing: true }, r.metadata());
    call.on("data", (chunk: pb.HistoryChunk) => chunks.push(chunk));
    call.on("end", resolve);
    call.on("error", reject);
  });
  const history = chunks.flatMap((ch) => ch.events);
  expect(history.length).toBeGreaterThan(4);
  expect(history.filter((e) => e.taskScheduled).map((e) => e.taskScheduled!.name)).toEqual(["A", "B", "C"]);

  // Another execution's history is not there to stream.
  const other = await new Promise<any>((resolve) => {
    const call = r.grpc.StreamInstanceHistory({ instanceId: id, executionId: { value: "not-this-one" }, forWorkItemProcessing: true }, r.metadata());
    call.on("data", () => {});
    call.on("error", resolve);
    call.on("end", () => resolve(undefined));
  });
  expect(other?.code).toBe(5); // NOT_FOUND
  expect(other?.details).toMatch(/Execution 'not-this-one' of orchestration instance .* is not its current one/);

  // The same instance's next item, on a stream without the capability, carries the history inline.
  streaming.cancel();
  await streaming.closed();
  const plain = r.workItems();
  const inline = (await plain.next(isOrchestration)).orchestratorRequest!;
  expect(inline.requiresHistoryStreaming).toBe(false);
  expect(inline.pastEvents!.length).toBe(history.length);
});
