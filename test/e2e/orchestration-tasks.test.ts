// End-to-end: the official JS SDK against `dts serve --store memory`: activities, sub-orchestrations,
// timers, external events, custom status, tags, history and purge.
import { TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { H, S, completion, historyHas, json, newId, openGate, types, serveWithWorker, startEventId } from "./orchestration-fixtures";

let c: TaskHubGrpcClient;

serveWithWorker(["--store", "memory"], (s) => ({ c } = s));

describe("activities", () => {
  test("run in sequence, each result feeding the output", async () => {
    const id = await c.scheduleNewOrchestration("Sequence", ["Tokyo", "Seattle", "London"]);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
  });

  test("fan out and fan in with whenAll", async () => {
    const numbers = Array.from({ length: 10 }, (_, i) => i + 1);
    const id = await c.scheduleNewOrchestration("FanOut", numbers);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ results: numbers.map((n) => n * 2), sum: 110 });
    const h = await c.getOrchestrationHistory(id);
    expect(h.filter((e) => e.type === H.TaskScheduled)).toHaveLength(10);
    expect(h.filter((e) => e.type === H.TaskCompleted)).toHaveLength(10);
  });

  test("a failed activity is a task failure the orchestrator can catch", async () => {
    const id = await c.scheduleNewOrchestration("CatchActivityFailure", "boom");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({
      name: "TaskFailedError", message: "Activity task #1 failed: boom", errorType: "Error", detailsMessage: "boom",
    });
  });

  test("an uncaught activity failure fails the orchestration with failureDetails", async () => {
    const id = await c.scheduleNewOrchestration("UncaughtActivityFailure", "kaput");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.serializedOutput).toBeUndefined();
    expect(s.failureDetails?.errorType).toBe("TaskFailedError");
    expect(s.failureDetails?.message).toBe("Activity task #1 failed: kaput");
    const h = await c.getOrchestrationHistory(id);
    expect(h[h.length - 1].type).toBe(H.ExecutionCompleted);
  });
});

describe("sub-orchestrations", () => {
  test("return their result to the parent (explicit and default instance ids)", async () => {
    const id = newId("parent");
    await c.scheduleNewOrchestration("Parent", 5, id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ explicit: 10, defaultId: 12 });
    const child = await c.getOrchestrationState(`${id}-child`);
    expect(child?.runtimeStatus).toBe(S.COMPLETED);
    expect(child?.name).toBe("Child");
    expect(json(child?.serializedOutput)).toBe(10);
    // The default child id derives from the parent's execution id, which the server must supply.
    const h = await c.getOrchestrationHistory(id);
    const created = h.filter((e) => e.type === H.SubOrchestrationInstanceCreated);
    expect(created).toHaveLength(2);
    const defaultChildId = created[1].type === H.SubOrchestrationInstanceCreated ? created[1].instanceId : undefined;
    expect(defaultChildId).toMatch(/^[0-9a-f]+:0002$/);
    expect((await c.getOrchestrationState(defaultChildId!))?.runtimeStatus).toBe(S.COMPLETED);
    expect(startEventId(await c.getOrchestrationHistory(`${id}-child`))).toBe(0);
  });

  test("fan out to sub-orchestrations with whenAll", async () => {
    const id = await c.scheduleNewOrchestration("SubFanOut", [1, 2, 3, 4, 5]);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual([2, 4, 6, 8, 10]);
  });

  test("a failing sub-orchestration fails the parent's task, which the parent catches", async () => {
    const id = newId("parent-catches");
    await c.scheduleNewOrchestration("ParentCatches", "child broke", id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({
      name: "TaskFailedError", message: "Sub-orchestration task #1 failed: child broke", errorType: "Error", detailsMessage: "child broke",
    });
    const child = await c.getOrchestrationState(`${id}-child`);
    expect(child?.runtimeStatus).toBe(S.FAILED);
    expect(child?.failureDetails?.message).toBe("child broke");
  });

  test("a parent that does not catch a failing sub-orchestration ends Failed", async () => {
    const id = newId("parent-uncaught");
    await c.scheduleNewOrchestration("ParentUncaught", "child broke again", id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.failureDetails?.errorType).toBe("TaskFailedError");
    expect(s.failureDetails?.message).toBe("Sub-orchestration task #1 failed: child broke again");
    expect((await c.getOrchestrationState(`${id}-child`))?.runtimeStatus).toBe(S.FAILED);
  });
});

describe("durable timers", () => {
  test("a short timer fires", async () => {
    const id = await c.scheduleNewOrchestration("Timer", 0.2);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe("fired");
    const h = await c.getOrchestrationHistory(id);
    const created = h.find((e) => e.type === H.TimerCreated);
    const fired = h.find((e) => e.type === H.TimerFired);
    expect(created?.eventId).toBe(1);
    expect(fired?.type === H.TimerFired && fired.timerId).toBe(1);
  });

  test("a timer days away keeps the instance Running until terminated", async () => {
    const id = await c.scheduleNewOrchestration("Timer", 3 * 24 * 3600);
    await c.waitForOrchestrationStart(id, false, 30);
    const h = await historyHas(c, id, (e) => e.type === H.TimerCreated, "the timer to be created");
    const timer = h.find((e) => e.type === H.TimerCreated);
    expect(timer?.type === H.TimerCreated && timer.fireAt.getTime()).toBeGreaterThan(Date.now() + 2 * 24 * 3600 * 1000);
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
    await c.terminateOrchestration(id, "no need to wait");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.TERMINATED);
    expect(json(s.serializedOutput)).toBe("no need to wait");
  });

  test("a scheduled start that is terminated before its time never runs", async () => {
    const id = await c.scheduleNewOrchestration("StartTime", undefined, { startAt: new Date(Date.now() + 3600_000) });
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.PENDING);
    await c.terminateOrchestration(id, "cancelled");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.TERMINATED);
    expect(json(s.serializedOutput)).toBe("cancelled");
  });

  test("a scheduled start stays Pending until its time, then runs", async () => {
    const startAt = new Date(Date.now() + 1500);
    const id = await c.scheduleNewOrchestration("StartTime", undefined, { startAt });
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.PENDING);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    // The orchestration's first clock reading is the server's dispatch time: not before startAt.
    expect(json(s.serializedOutput) as number).toBeGreaterThanOrEqual(startAt.getTime());
  });
});

describe("external events", () => {
  test("an event raised while the orchestration waits completes the wait", async () => {
    const id = await c.scheduleNewOrchestration("WaitEvent", "Approval");
    await c.waitForOrchestrationStart(id, false, 30);
    await c.raiseOrchestrationEvent(id, "Approval", { approved: true, by: "alice" });
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ approved: true, by: "alice" });
  });

  test("an event raised before the orchestration waits for it is kept for the later wait", async () => {
    const id = newId("early-event");
    await c.scheduleNewOrchestration("EventAfterGate", undefined, id);
    await c.waitForOrchestrationStart(id, false, 30);
    await c.raiseOrchestrationEvent(id, "Late", "arrived early");
    // The orchestration has seen the event (it is in history) while still blocked on its activity.
    await historyHas(c, id, (e) => e.type === H.EventRaised, "the event to be delivered");
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
    openGate(id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe("arrived early");
  });

  test("event names match case-insensitively", async () => {
    const id = await c.scheduleNewOrchestration("WaitEvent", "MixedCase");
    await c.waitForOrchestrationStart(id, false, 30);
    await c.raiseOrchestrationEvent(id, "MIXEDcase", 42);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe(42);
  });

  test("an orchestration sends an event to another one", async () => {
    const target = await c.scheduleNewOrchestration("WaitEvent", "Ping");
    await c.waitForOrchestrationStart(target, false, 30);
    const sender = await c.scheduleNewOrchestration("SendTo", { target, name: "ping", data: { from: "sender" } });
    expect(json((await completion(c, sender)).serializedOutput)).toBe("sent");
    const s = await completion(c, target);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ from: "sender" });
    const sent = (await c.getOrchestrationHistory(sender)).find((e) => e.type === H.EventSent);
    expect(sent?.type === H.EventSent && [sent.eventId, sent.name, sent.instanceId]).toEqual([1, "ping", target]);
  });

  test("waitForExternalEvent raced against a timer: the event wins", async () => {
    const id = await c.scheduleNewOrchestration("RaceEvent", 3600);
    await c.waitForOrchestrationStart(id, false, 30);
    await c.raiseOrchestrationEvent(id, "Answer", "yes");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ by: "event", data: "yes" });
  });

  test("waitForExternalEvent raced against a timer: the timer wins", async () => {
    const id = await c.scheduleNewOrchestration("RaceEvent", 0.3);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ by: "timer" });
  });
});

describe("custom status and tags", () => {
  test("custom status set by the orchestration is visible on its state", async () => {
    const id = await c.scheduleNewOrchestration("CustomStatus");
    await c.waitForOrchestrationStart(id, false, 30);
    const running = await c.getOrchestrationState(id);
    expect(running?.runtimeStatus).toBe(S.RUNNING);
    expect(json(running?.serializedCustomStatus)).toEqual({ stage: "waiting" });
    await c.raiseOrchestrationEvent(id, "next");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedCustomStatus)).toEqual({ stage: "done" });
    expect(json(s.serializedOutput)).toBe("ok");
  });

  test("tags given at start are on the state", async () => {
    const id = newId("tagged");
    const tags = { team: "payments", env: "test" };
    expect(await c.scheduleNewOrchestration("Echo", { x: 1 }, { instanceId: id, tags })).toBe(id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(s.tags).toEqual(tags);
    expect(json(s.serializedInput)).toEqual({ x: 1 });
    expect(json(s.serializedOutput)).toEqual({ x: 1 });
    expect((await c.getOrchestrationState(id))?.tags).toEqual(tags);
  });
});

describe("history and purge", () => {
  test("history lists the events in order", async () => {
    const id = await c.scheduleNewOrchestration("Sequence", ["A", "B"]);
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
    const h = await c.getOrchestrationHistory(id);
    expect(types(h)).toEqual([
      H.OrchestratorStarted, H.ExecutionStarted, H.TaskScheduled,
      H.OrchestratorStarted, H.TaskCompleted, H.TaskScheduled,
      H.OrchestratorStarted, H.TaskCompleted, H.ExecutionCompleted,
    ]);
    const [, start, s1, , c1, s2, , c2, done] = h;
    expect(start.type === H.ExecutionStarted && [start.eventId, start.name, start.input, start.orchestrationInstance?.instanceId]).toEqual([0, "Sequence", '["A","B"]', id]);
    expect(s1.type === H.TaskScheduled && [s1.eventId, s1.name, s1.input]).toEqual([1, "Hello", '"A"']);
    expect(c1.type === H.TaskCompleted && [c1.taskScheduledId, c1.result]).toEqual([1, '"Hello, A!"']);
    expect(s2.type === H.TaskScheduled && [s2.eventId, s2.name, s2.input]).toEqual([2, "Hello", '"B"']);
    expect(c2.type === H.TaskCompleted && [c2.taskScheduledId, c2.result]).toEqual([2, '"Hello, B!"']);
    expect(done.type === H.ExecutionCompleted && [done.orchestrationStatus, done.result]).toEqual(["ORCHESTRATION_STATUS_COMPLETED", '["Hello, A!","Hello, B!"]']);
  });

  test("history of an unknown instance is empty (the SDK maps NOT_FOUND to [])", async () => {
    expect(await c.getOrchestrationHistory(newId("nobody"))).toEqual([]);
  });

  test("a purged instance is gone", async () => {
    const id = await c.scheduleNewOrchestration("Echo", "bye");
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
    const result = await c.purgeOrchestration(id);
    expect(result?.deletedInstanceCount).toBe(1);
    expect(await c.getOrchestrationState(id)).toBeUndefined();
    expect(await c.getOrchestrationHistory(id)).toEqual([]);
  });
});
