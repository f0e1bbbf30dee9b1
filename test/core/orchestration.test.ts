// Unit tests of applying an orchestration episode: each action kind, without sockets or storage.
import { event, orchestratorStarted, str, toTimestamp } from "../../src/core/events";
import { InstanceRecord, Status } from "../../src/core/model";
import { ActionError, applyEpisode, EpisodeInput } from "../../src/core/orchestration";
import { checkOutcome } from "../../src/core/outcome-limits";
import { continuedWorkItem, joinEpisodes, requestToOutcome } from "../../src/core/precomputed-completion";
import { pb } from "../../src/proto";

const NOW = 1_700_000_000_000;
let ids = 0;
const base: InstanceRecord = {
  instanceId: "parent", executionId: "exec-1", name: "Orch", status: Status.ORCHESTRATION_STATUS_PENDING,
  input: '"in"', createdAt: NOW - 1000, lastUpdatedAt: NOW - 1000,
};
const start = event(NOW - 1000, { executionStarted: { name: "Orch", input: str('"in"'), orchestrationInstance: { instanceId: "parent", executionId: str("exec-1") } } });

function run(actions: pb.IOrchestratorAction[], extra: Partial<EpisodeInput> = {}) {
  return applyEpisode({
    instance: base, history: [], dispatched: [orchestratorStarted(NOW), start], actions, now: NOW,
    newExecutionId: () => `new-${++ids}`, ...extra,
  });
}

describe("applyEpisode", () => {
  test("the first episode moves Pending to Running and appends the dispatched events", () => {
    const out = run([]);
    expect(out.instance.status).toBe(Status.ORCHESTRATION_STATUS_RUNNING);
    expect(out.append.map((e) => Object.keys(e).find((k) => k !== "eventId" && k !== "timestamp"))).toEqual(["orchestratorStarted", "executionStarted"]);
  });

  test("scheduleTask records TaskScheduled with eventId = action id and queues the activity", () => {
    const out = run([{ id: 1, scheduleTask: { name: "Hello", input: str('"Tokyo"'), tags: { a: "b" } } }]);
    const scheduled = out.append[2];
    expect(scheduled.eventId).toBe(1);
    expect(scheduled.taskScheduled?.name).toBe("Hello");
    expect(out.activities).toEqual([{ instanceId: "parent", executionId: "exec-1", taskId: 1, name: "Hello", version: undefined, input: '"Tokyo"', tags: { a: "b" }, visibleAt: NOW }]);
  });

  test("createTimer records TimerCreated and a TimerFired message visible at fireAt", () => {
    const fireAt = NOW + 3 * 86_400_000;
    const out = run([{ id: 2, createTimer: { fireAt: toTimestamp(fireAt) } }]);
    expect(out.append[2].eventId).toBe(2);
    expect(out.append[2].timerCreated).toBeDefined();
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]).toMatchObject({ instanceId: "parent", executionId: "exec-1", visibleAt: fireAt });
    expect(out.messages[0].event.timerFired?.timerId).toBe(2);
  });

  test("createSubOrchestration creates a Pending child whose ExecutionStarted names its parent", () => {
    const out = run([{ id: 3, createSubOrchestration: { instanceId: "child", name: "Child", input: str("1") } }]);
    expect(out.append[2].eventId).toBe(3);
    expect(out.append[2].subOrchestrationInstanceCreated?.instanceId).toBe("child");
    expect(out.children).toHaveLength(1);
    const child = out.children[0];
    expect(child.instance).toMatchObject({ instanceId: "child", name: "Child", status: Status.ORCHESTRATION_STATUS_PENDING, parentInstanceId: "parent", input: "1" });
    expect(child.start.executionStarted?.parentInstance?.taskScheduledId).toBe(3);
    expect(child.start.executionStarted?.parentInstance?.orchestrationInstance?.instanceId).toBe("parent");
  });

  test("a sub-orchestration started without a version runs its parent's; one the action sets, even to none, is its own", () => {
    const versioned: InstanceRecord = { ...base, version: "2.0" };
    const child = (createSubOrchestration: pb.ICreateSubOrchestrationAction, instance = versioned) =>
      applyEpisode({ instance, history: [], dispatched: [orchestratorStarted(NOW), start], actions: [{ id: 1, createSubOrchestration }], now: NOW, newExecutionId: () => "x" });
    const inherited = child({ instanceId: "c", name: "C" });
    expect(inherited.children[0].instance.version).toBe("2.0");
    expect(inherited.children[0].start.executionStarted?.version?.value).toBe("2.0");
    expect(inherited.append[2].subOrchestrationInstanceCreated?.version?.value).toBe("2.0");
    const own = child({ instanceId: "c", name: "C", version: str("3.1") });
    expect(own.children[0].instance.version).toBe("3.1");
    expect(own.children[0].start.executionStarted?.version?.value).toBe("3.1");
    const none = child({ instanceId: "c", name: "C", version: str("") });
    expect(none.children[0].instance.version).toBeUndefined();
    expect(child({ instanceId: "c", name: "C" }, base).children[0].instance.version).toBeUndefined();
  });

  test("an activity scheduled without a version runs under its orchestration's; one the action sets is its own", () => {
    const versioned: InstanceRecord = { ...base, version: "2.0" };
    const task = (scheduleTask: pb.IScheduleTaskAction) =>
      applyEpisode({ instance: versioned, history: [], dispatched: [orchestratorStarted(NOW), start], actions: [{ id: 1, scheduleTask }], now: NOW, newExecutionId: () => "x" });
    const inherited = task({ name: "A" });
    expect(inherited.activities[0].version).toBe("2.0");
    expect(inherited.append[2].taskScheduled?.version?.value).toBe("2.0");
    expect(task({ name: "A", version: str("1.1") }).activities[0].version).toBe("1.1");
    expect(task({ name: "A", version: str("") }).activities[0].version).toBeUndefined();
  });

  test("createSubOrchestration without an instance id is an invalid action", () => {
    expect(() => run([{ id: 3, createSubOrchestration: { name: "Child" } }])).toThrow(ActionError);
  });

  test("sendEvent records EventSent and delivers EventRaised to the target", () => {
    const out = run([{ id: 4, sendEvent: { instance: { instanceId: "other" }, name: "Go", data: str("42") } }]);
    expect(out.append[2]).toMatchObject({ eventId: 4, eventSent: { instanceId: "other", name: "Go" } });
    expect(out.messages[0]).toMatchObject({ instanceId: "other", visibleAt: NOW });
    expect(out.messages[0].event.eventRaised).toMatchObject({ name: "Go", input: { value: "42" } });
  });

  test("completeOrchestration(COMPLETED) sets the output and bookends with ExecutionCompleted", () => {
    const out = run([{ id: 5, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_COMPLETED, result: str('"done"') } }]);
    expect(out.instance).toMatchObject({ status: Status.ORCHESTRATION_STATUS_COMPLETED, output: '"done"', completedAt: NOW });
    expect(out.append[out.append.length - 1].executionCompleted?.orchestrationStatus).toBe(Status.ORCHESTRATION_STATUS_COMPLETED);
    expect(out.parentNotification).toBeUndefined();
  });

  test("a failed sub-orchestration notifies its parent with its failure details", () => {
    const childStart = event(NOW, { executionStarted: { name: "C", parentInstance: { taskScheduledId: 7, orchestrationInstance: { instanceId: "p", executionId: str("pe") } } } });
    const failureDetails = { errorType: "Error", errorMessage: "boom" };
    const out = run([{ id: -1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_FAILED, failureDetails } }], {
      instance: { ...base, instanceId: "c" }, dispatched: [orchestratorStarted(NOW), childStart],
    });
    expect(out.instance.status).toBe(Status.ORCHESTRATION_STATUS_FAILED);
    expect(out.instance.failureDetails).toEqual(failureDetails);
    expect(out.parentNotification).toMatchObject({ instanceId: "p", executionId: "pe" });
    expect(out.parentNotification?.event.subOrchestrationInstanceFailed).toMatchObject({ taskScheduledId: 7, failureDetails });
  });

  test("continue-as-new mints an execution id, resets history and starts with ExecutionStarted then carry-over", () => {
    const carried = event(NOW, { eventRaised: { name: "E", input: str("1") } });
    const out = run([
      { id: 1, scheduleTask: { name: "Dropped" } },
      { id: 2, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW, result: str("5"), carryoverEvents: [carried] } },
    ], { instance: { ...base, status: Status.ORCHESTRATION_STATUS_RUNNING, customStatus: "x" } });
    expect(out.instance.executionId).toMatch(/^new-/);
    expect(out.instance).toMatchObject({ status: Status.ORCHESTRATION_STATUS_RUNNING, input: "5", customStatus: undefined });
    expect(out.replaceHistory).toEqual([]);
    expect(out.activities).toEqual([]);
    expect(out.messages.map((m) => m.event.executionStarted ? "start" : "carried")).toEqual(["start", "carried"]);
    expect(out.messages[0].executionId).toBe(out.instance.executionId);
    expect(out.messages[0].event.executionStarted?.orchestrationInstance?.executionId?.value).toBe(out.instance.executionId);
  });

  test("custom status is kept from the response, and a suspended instance stays suspended", () => {
    const out = run([], { instance: { ...base, status: Status.ORCHESTRATION_STATUS_SUSPENDED }, customStatus: '{"step":2}' });
    expect(out.instance.customStatus).toBe('{"step":2}');
    expect(out.instance.status).toBe(Status.ORCHESTRATION_STATUS_SUSPENDED);
  });

  test("rewindOrchestration replaces the history, clears the failure and lists failed children to rewind", () => {
    const newHistory = [
      start,
      event(NOW, { subOrchestrationInstanceCreated: { instanceId: "c1", name: "C" } }, 1),
      event(NOW, { subOrchestrationInstanceCreated: { instanceId: "c2", name: "C" } }, 2),
      event(NOW, { subOrchestrationInstanceCompleted: { taskScheduledId: 2, result: str("1") } }),
      event(NOW, { executionRewound: { reason: str("fix") } }),
    ];
    const out = run([{ id: -1, rewindOrchestration: { newHistory } }], {
      instance: { ...base, status: Status.ORCHESTRATION_STATUS_FAILED, failureDetails: { errorType: "E" }, completedAt: NOW },
    });
    expect(out.replaceHistory).toEqual(newHistory);
    expect(out.instance).toMatchObject({ status: Status.ORCHESTRATION_STATUS_RUNNING, failureDetails: undefined, completedAt: undefined, runRequested: true });
    expect(out.rewindChildren.map((c) => c.instanceId)).toEqual(["c1"]);
    // The history kept the execution id, so the instance does too.
    expect(out.instance.executionId).toBe("exec-1");
    expect(out.instance.rewoundExecutionIds).toBeUndefined();
  });

  test("rewindOrchestration adopts the execution id the SDK wrote into the new history, keeping the old ones for late results", () => {
    const restarted = event(NOW - 1000, { executionStarted: { name: "Orch", orchestrationInstance: { instanceId: "parent", executionId: str("exec-2") } } }, 0);
    const failed: InstanceRecord = { ...base, status: Status.ORCHESTRATION_STATUS_FAILED, rewoundExecutionIds: ["exec-0"] };
    const out = run([{ id: -1, rewindOrchestration: { newHistory: [restarted] } }], { instance: failed, history: [start] });
    expect(out.instance.executionId).toBe("exec-2");
    expect(out.instance.rewoundExecutionIds).toEqual(["exec-0", "exec-1"]);
    // A continue-as-new is a new execution: results for the earlier ones no longer belong to it.
    const next = run([{ id: 1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW } }], { instance: out.instance });
    expect(next.instance.rewoundExecutionIds).toBeUndefined();
  });

  test("rewindOrchestration issues again the activities and timers the history still waits for", () => {
    const fireAt = toTimestamp(NOW + 5000);
    const newHistory = [
      start,
      event(NOW, { taskScheduled: { name: "Done", input: str("1") } }, 1),
      event(NOW, { taskScheduled: { name: "Open", input: str("2") } }, 2),
      event(NOW, { timerCreated: { fireAt } }, 3),
      event(NOW, { timerCreated: { fireAt } }, 4),
      event(NOW, { taskCompleted: { taskScheduledId: 1, result: str("x") } }),
      event(NOW, { timerFired: { fireAt, timerId: 4 } }),
      event(NOW, { executionRewound: {} }),
    ];
    const out = run([{ id: -1, rewindOrchestration: { newHistory } }], { instance: { ...base, status: Status.ORCHESTRATION_STATUS_FAILED } });
    expect(out.activities).toEqual([{ instanceId: "parent", executionId: "exec-1", taskId: 2, name: "Open", version: undefined, input: "2", tags: undefined, visibleAt: NOW }]);
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]).toMatchObject({ instanceId: "parent", executionId: "exec-1", visibleAt: NOW + 5000 });
    expect(out.messages[0].event.timerFired?.timerId).toBe(3);
  });

  test("every ExecutionStarted the scheduler creates has eventId 0 (sub-orchestration, continue-as-new)", () => {
    expect(run([{ id: 3, createSubOrchestration: { instanceId: "child", name: "Child" } }]).children[0].start.eventId).toBe(0);
    const continued = run([{ id: 1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW } }]);
    expect(continued.messages[0].event.executionStarted).toBeDefined();
    expect(continued.messages[0].event.eventId).toBe(0);
  });

  test("terminateOrchestration asks for the target's termination", () => {
    const out = run([{ id: 6, terminateOrchestration: { instanceId: "t", reason: str("bye"), recurse: true } }]);
    expect(out.terminations).toEqual([{ instanceId: "t", reason: "bye", recurse: true }]);
  });

  test("entity messages keep eventId = action id and go to the entity", () => {
    const out = run([{ id: 8, sendEntityMessage: { entityOperationSignaled: { requestId: "r", operation: "add", targetInstanceId: str("@counter@a") } } }]);
    expect(out.append[2]).toMatchObject({ eventId: 8, entityOperationSignaled: { requestId: "r" } });
    expect(out.messages[0].instanceId).toBe("@counter@a");
  });
});

describe("requestToOutcome (a Functions host's precomputed episode)", () => {
  test("a rewritten history is a rewind: the children it still waits for come from the history, with their task ids and starts", () => {
    const newHistory = [
      start,
      event(NOW, { subOrchestrationInstanceCreated: { instanceId: "c1", name: "C", input: str("1") } }, 1),
      event(NOW, { executionRewound: { reason: str("fix") } }),
    ];
    const out = requestToOutcome({
      instance: { ...base, status: Status.ORCHESTRATION_STATUS_FAILED }, history: [start], now: NOW,
      request: {
        completionToken: "t", runtimeStatus: Status.ORCHESTRATION_STATUS_RUNNING, newHistory,
        newMessages: [{ instance: { instanceId: "c1" }, event: event(NOW, { executionRewound: { reason: str("Rewound with its parent") } }) }],
      },
    });
    expect(out.replaceHistory).toEqual(newHistory);
    expect(out.instance).toMatchObject({ status: Status.ORCHESTRATION_STATUS_RUNNING, executionId: "exec-1", runRequested: true });
    expect(out.rewindChildren).toEqual([{ taskId: 1, instanceId: "c1", created: newHistory[1].subOrchestrationInstanceCreated }]);
  });

  describe("inline activities: results sent with the episode that scheduled them", () => {
    const running = { ...base, status: Status.ORCHESTRATION_STATUS_RUNNING };
    const scheduled = (id: number, name = "Greet") => event(NOW, { taskScheduled: { name, input: str('"x"') } }, id);
    const toSelf = (e: pb.IHistoryEvent) => ({ instance: { instanceId: "parent", executionId: str("exec-1") }, event: e });
    const episode = (newHistory: pb.IHistoryEvent[], newTasks: pb.IHistoryEvent[], newMessages: ReturnType<typeof toSelf>[], maxPayloadBytes?: number) => requestToOutcome({
      instance: running, history: [start], now: NOW, maxPayloadBytes,
      request: { completionToken: "t", runtimeStatus: Status.ORCHESTRATION_STATUS_RUNNING, newHistory: [orchestratorStarted(NOW), ...newHistory], newTasks, newMessages },
    });

    test("a TaskCompleted or TaskFailed to the instance itself answering a task of this episode left out of newTasks goes to its inbox, counted", () => {
      const done = event(NOW - 5, { taskCompleted: { taskScheduledId: 1, result: str('"Hello"') } });
      const failed = event(NOW - 3, { taskFailed: { taskScheduledId: 2, failureDetails: { errorType: "E", errorMessage: "no" } } });
      const out = episode([scheduled(1), scheduled(2), scheduled(3)], [scheduled(3)], [toSelf(done), toSelf(failed)]);
      expect(out.activities.map((a) => a.taskId)).toEqual([3]);
      expect(out.messages).toEqual([
        { instanceId: "parent", executionId: "exec-1", visibleAt: NOW, event: done },
        { instanceId: "parent", executionId: "exec-1", visibleAt: NOW, event: failed },
      ]);
      expect(out.inlineActivities).toEqual([{ scheduled: scheduled(1), result: done }, { scheduled: scheduled(2), result: failed }]);
    });

    test("one answering a task the episode did not schedule, or left to a worker, or answered twice, is refused", () => {
      const answer = (id: number) => toSelf(event(NOW, { taskCompleted: { taskScheduledId: id, result: str("1") } }));
      const refusal = /must answer an activity this episode scheduled and left out of newTasks \(task (\d) is not one\)/;
      expect(() => episode([scheduled(1)], [], [answer(7)])).toThrow(ActionError);
      expect(() => episode([scheduled(1)], [], [answer(7)])).toThrow(refusal);
      expect(() => episode([scheduled(1)], [scheduled(1)], [answer(1)])).toThrow(refusal);
      expect(() => episode([scheduled(1)], [], [answer(1), answer(1)])).toThrow(refusal);
    });

    test("a result over the payload limit becomes TaskFailed PayloadTooLarge, as a worker's would", () => {
      const big = toSelf(event(NOW - 5, { taskCompleted: { taskScheduledId: 1, result: str(`"${"x".repeat(100)}"`) } }));
      const out = episode([scheduled(1, "Big")], [], [big], 50);
      expect(out.messages[0].event.taskFailed).toEqual({
        taskScheduledId: 1,
        failureDetails: { errorType: "PayloadTooLarge", errorMessage: "The result of activity 'Big' is 102 bytes; the limit is 50 bytes", isNonRetriable: true },
      });
      expect(out.messages[0].event.timestamp).toEqual(big.event.timestamp);
    });

    test("an inline activity's input is held to the payload limit, as one left to a worker is", () => {
      const big = event(NOW, { taskScheduled: { name: "Big", input: str(`"${"x".repeat(100)}"`) } }, 1);
      const out = episode([big], [], [toSelf(event(NOW, { taskCompleted: { taskScheduledId: 1, result: str("1") } }))]);
      expect(() => checkOutcome(out, 50)).toThrow("input of activity 'Big' is 102 bytes; the limit is 50 bytes");
    });
  });

  describe("continued episodes: the episodes a host ran right after the first, in one completion", () => {
    const running = { ...base, status: Status.ORCHESTRATION_STATUS_RUNNING };
    const scheduled = (id: number, input = '"x"') => event(NOW, { taskScheduled: { name: "Greet", input: str(input) } }, id);
    const done = (id: number, result = '"Hello"') => event(NOW, { taskCompleted: { taskScheduledId: id, result: str(result) } });
    const item: pb.IOrchestratorRequest = { instanceId: "parent", pastEvents: [start], newEvents: [orchestratorStarted(NOW - 10)] };
    const first = { completionToken: "t", instance: { instanceId: "parent" }, runtimeStatus: Status.ORCHESTRATION_STATUS_RUNNING, customStatus: str('"one"'), newHistory: [...item.newEvents!, scheduled(0)], newTasks: [], newTimers: [], newMessages: [] };
    const next = { completionToken: "t", instance: { instanceId: "parent" }, runtimeStatus: Status.ORCHESTRATION_STATUS_COMPLETED, newHistory: [orchestratorStarted(NOW), done(0), event(NOW, { executionCompleted: { orchestrationStatus: Status.ORCHESTRATION_STATUS_COMPLETED, result: str('"Hello"') } })], newTasks: [], newTimers: [], newMessages: [] };
    const accept = (newHistory: pb.IHistoryEvent[], newTasks: pb.IHistoryEvent[] = [], maxPayloadBytes?: number) => requestToOutcome({
      instance: running, history: [start], now: NOW, maxPayloadBytes,
      request: { completionToken: "t", runtimeStatus: Status.ORCHESTRATION_STATUS_RUNNING, newHistory, newTasks },
    });

    test("the next episode's work item: the history so far, then its OrchestratorStarted and the results", () => {
      const w = continuedWorkItem(item, first, [done(0)], NOW);
      expect(w.instanceId).toBe("parent");
      expect(w.pastEvents).toEqual([start, ...first.newHistory]);
      expect(w.newEvents).toEqual([orchestratorStarted(NOW), done(0)]);
    });

    test("joined, the history is both episodes' in order, the status the last one's, the custom status the last one set", () => {
      const joined = joinEpisodes([first, next]);
      expect(joined.newHistory).toEqual([...first.newHistory, ...next.newHistory]);
      expect(joined.runtimeStatus).toBe(Status.ORCHESTRATION_STATUS_COMPLETED);
      expect(joined.customStatus).toEqual(str('"one"'));
      expect(joinEpisodes([first, { ...next, customStatus: str('"two"') }]).customStatus).toEqual(str('"two"'));
      expect(joinEpisodes([first, next, next]).customStatus).toEqual(str('"one"'));
      expect(joinEpisodes([first])).toBe(first);
      const out = requestToOutcome({ instance: running, history: [start], now: NOW, request: joined });
      expect(out.instance).toMatchObject({ status: Status.ORCHESTRATION_STATUS_COMPLETED, output: '"Hello"', customStatus: '"one"' });
      expect(out.append).toEqual(joined.newHistory);
      expect(out.inlineActivities).toEqual([{ scheduled: scheduled(0), result: done(0) }]);
      expect(out.messages).toEqual([]);
    });

    test("a result in the history answers a task scheduled before it there, once, and not one left to a worker", () => {
      const os = orchestratorStarted(NOW);
      expect(accept([os, scheduled(0), os, done(0), scheduled(1)]).inlineActivities).toEqual([{ scheduled: scheduled(0), result: done(0) }]);
      // An answer to an earlier episode's task (dispatched with the item) is not an inline result.
      expect(accept([os, done(7), scheduled(0)]).inlineActivities).toBeUndefined();
      expect(() => accept([os, scheduled(0), os, done(0), done(0)])).toThrow("task 0 is answered twice in newHistory");
      expect(() => accept([os, scheduled(0), os, done(0)], [scheduled(0)])).toThrow("task 0 is answered in newHistory and also left to a worker in newTasks");
      expect(() => accept([os, scheduled(0), os, done(0)], [scheduled(0)])).toThrow(ActionError);
    });

    test("a result over the payload limit is refused: the episodes after it have seen it, so it cannot become PayloadTooLarge", () => {
      const os = orchestratorStarted(NOW);
      expect(() => accept([os, scheduled(0), os, done(0, `"${"x".repeat(100)}"`)], [], 50))
        .toThrow("the result of activity 'Greet' (task 0) in newHistory is over the payload limit of 50 bytes");
    });
  });
});
