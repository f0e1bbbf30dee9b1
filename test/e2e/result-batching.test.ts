// End-to-end: task results batched for a fan-in (core/result-batching.ts). A raw GetWorkItems stream
// plays the worker, so the test decides when each activity finishes and sees every orchestrator work
// item. One scheduler holds results for as long as the test could need (60 s): only the rules that
// release them early can deliver them in time. The other waits at most 200 ms, to see the wait end.
import * as fs from "fs";
import { kindOf } from "../../src/core/events";
import { pb } from "../../src/proto";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { activityResponse, answerWithActivities, isActivity, isOrchestration, RawClient, WorkStream } from "../helpers/raw";

let holding: DtsProcess;
let brief: DtsProcess;
const raws: RawClient[] = [];

beforeAll(async () => {
  [holding, brief] = await Promise.all([
    startDts(["--store", "memory", "--dynamic-hubs", "--result-batch-factor", "100000", "--result-batch-max-wait", "60000"]),
    startDts(["--store", "memory", "--dynamic-hubs", "--result-batch-factor", "100000", "--result-batch-max-wait", "200"]),
  ]);
});

afterAll(async () => {
  for (const r of raws) r.close();
  await Promise.all([holding?.stop(), brief?.stop()]);
  for (const p of [holding, brief]) if (p) fs.rmSync(p.dataDir, { recursive: true, force: true });
});

/** A raw worker on its own hub, with an orchestration started and its first episode answered with these activities. */
async function fanOut(server: DtsProcess, hub: string, activities: string[]): Promise<{ raw: RawClient; stream: WorkStream; tasks: pb.WorkItem[] }> {
  const raw = new RawClient(server.address, hub);
  raws.push(raw);
  const stream = raw.workItems();
  await raw.call("StartInstance", { instanceId: "fan", name: "Fan" });
  await answerWithActivities(raw, stream, activities);
  const tasks: pb.WorkItem[] = [];
  for (let from = 0; tasks.length < activities.length; ) {
    const i = await stream.waitFor(isActivity, from);
    tasks.push(stream.items[i]);
    from = i + 1;
  }
  return { raw, stream, tasks };
}

const orchestrationItems = (s: WorkStream) => s.items.filter(isOrchestration);
const kinds = (item: pb.WorkItem) => (item.orchestratorRequest!.newEvents ?? []).map(kindOf);

test("a fan-in's results wait for each other: the orchestration runs once, with all of them, when the last is in", async () => {
  const { raw, stream, tasks } = await fanOut(holding, "fanin", ["A", "B", "C"]);
  // Each completion is answered once it is committed: the first two are in the inbox, held.
  for (const t of tasks) await raw.call("CompleteActivityTask", activityResponse(t, t.activityRequest!.name));
  const second = await stream.next(isOrchestration, stream.items.indexOf(orchestrationItems(stream)[0]) + 1);
  expect(orchestrationItems(stream)).toHaveLength(2);
  expect(kinds(second)).toEqual(["orchestratorStarted", "taskCompleted", "taskCompleted", "taskCompleted"]);
});

test("one task in flight at a time is never held", async () => {
  const { raw, stream, tasks } = await fanOut(holding, "sequence", ["A"]);
  await raw.call("CompleteActivityTask", activityResponse(tasks[0], "a"));
  // Held, this would wait the whole 60 s.
  const second = await stream.next(isOrchestration, stream.items.indexOf(orchestrationItems(stream)[0]) + 1);
  expect(kinds(second)).toEqual(["orchestratorStarted", "taskCompleted"]);
});

test("a message that is not a task result runs the orchestration at once, with the results held so far", async () => {
  const { raw, stream, tasks } = await fanOut(holding, "event", ["A", "B"]);
  await raw.call("CompleteActivityTask", activityResponse(tasks[0], "a"));
  await raw.call("RaiseEvent", { instanceId: "fan", name: "go", input: { value: "1" } });
  const second = await stream.next(isOrchestration, stream.items.indexOf(orchestrationItems(stream)[0]) + 1);
  expect(kinds(second)).toEqual(["orchestratorStarted", "taskCompleted", "eventRaised"]);
  expect(second.orchestratorRequest!.newEvents![1].taskCompleted!.taskScheduledId).toBe(tasks[0].activityRequest!.taskId);
});

test("held results go to the orchestration when their longest wait is over, without the others", async () => {
  const { raw, stream, tasks } = await fanOut(brief, "timeout", ["A", "B"]);
  await raw.call("CompleteActivityTask", activityResponse(tasks[0], "a"));
  const second = await stream.next(isOrchestration, stream.items.indexOf(orchestrationItems(stream)[0]) + 1);
  expect(kinds(second)).toEqual(["orchestratorStarted", "taskCompleted"]);
});
