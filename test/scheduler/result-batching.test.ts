// Fan-in results in batches, on the engine directly: results that would wait for a minute are
// released once a full work item's worth of them is waiting (maxEventsPerWorkItem, 3 here).
import { pb } from "../../src/proto";
import { Scheduler } from "../../src/scheduler/scheduler";
import { WorkerConnection } from "../../src/scheduler/worker";
import { hotInstance, openTasks } from "../../src/scheduler/hot-instance";
import { MemoryStore } from "../../src/store";

test("a full work item's worth of results does not wait for the rest", async () => {
  const scheduler = new Scheduler(new MemoryStore(), { maxEventsPerWorkItem: 3, resultBatchFactor: 100_000, resultBatchMaxWaitMs: 60_000 });
  const hub = scheduler.hub("default");
  const items: pb.IWorkItem[] = [];
  hub.connectWorker(new WorkerConnection("w", { send: (i) => items.push(i) > 0, end: () => {} }, { orchestrations: 10, activities: 10, entities: 10 }));
  const take = (kind: "orchestratorRequest" | "activityRequest") => {
    const i = items.findIndex((x) => x[kind]);
    return i < 0 ? undefined : items.splice(i, 1)[0];
  };

  await hub.clients.startInstance({ instanceId: "fan", name: "Fan" });
  await scheduler.committer.flush();
  const first = take("orchestratorRequest")!;
  const actions = [1, 2, 3, 4, 5].map((id) => ({ id, scheduleTask: { name: "A" } }));
  await hub.completions.orchestration({ instanceId: "fan", completionToken: first.completionToken, actions });
  const tasks = [1, 2, 3, 4, 5].map(() => take("activityRequest")!);

  const complete = (t: pb.IWorkItem) => hub.completions.activity({ instanceId: "fan", taskId: t.activityRequest!.taskId, completionToken: t.completionToken, result: { value: "1" } });
  // Two of five in: held (for up to a minute).
  await complete(tasks[0]);
  await complete(tasks[1]);
  expect(take("orchestratorRequest")).toBeUndefined();
  // The third fills a work item: dispatched at once, with the three.
  await complete(tasks[2]);
  const second = take("orchestratorRequest")!;
  expect(second.orchestratorRequest!.newEvents!.filter((e) => e.taskCompleted).map((e) => e.taskCompleted!.taskScheduledId)).toEqual([1, 2, 3]);
  await scheduler.close();
});

test("open tasks are counted again only over what a history append added, and whole after a replacement", () => {
  const rec = { instanceId: "i", executionId: "e", name: "N", status: pb.OrchestrationStatus.ORCHESTRATION_STATUS_RUNNING, createdAt: 0, lastUpdatedAt: 0 };
  const s = (id: number) => ({ eventId: id, taskScheduled: { name: "A" } });
  const c = (id: number) => ({ eventId: -1, taskCompleted: { taskScheduledId: id } });
  const h = hotInstance(rec, [s(0), s(1), s(2)]);
  expect(openTasks(h)).toBe(3);
  h.history = h.history.concat([c(0), c(2)]); // as HubState.appendHistory does
  expect(openTasks(h)).toBe(1);
  h.history = [s(5)]; // a rewind or a new execution replaces it
  expect(openTasks(h)).toBe(1);
  h.history = [c(7)];
  expect(openTasks(h)).toBe(0);
});
