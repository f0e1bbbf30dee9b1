// End-to-end: the official JS SDK against `dts serve --store memory`: continue-as-new, suspend and
// resume, terminate, restart and rewind.
import { TaskHubGrpcClient, terminateOptions } from "@microsoft/durabletask-js";
import { pollUntil } from "../helpers/poll";
import { grpcCode, WarningRecorder } from "../helpers/sdk";
import {
  H, S, completion, countedRuns, executionIdOf, flakyAttempts, historyHas, json, newId, openGate, serveWithWorker, started, startEventId, types,
} from "./orchestration-fixtures";
import { DtsProcess } from "../helpers/dts-process";
import { RawClient } from "../helpers/raw";
import { backendDefinition } from "../../src/proto/services";

let c: TaskHubGrpcClient;
let log: WarningRecorder;
let dts: DtsProcess;

serveWithWorker(["--store", "memory"], (s) => ({ c, log, dts } = s));

/** Waits until no activity work item is queued or running in the hub (its completion is committed). */
async function activitiesDone(): Promise<void> {
  const r = new RawClient(dts.address, undefined, backendDefinition);
  try {
    await pollUntil(async () => (await r.call("GetMetrics", {})).metrics?.activityWorkItems, (m) => !m?.pending && !m?.active, "no activity work items");
  } finally {
    r.close();
  }
}

describe("continue-as-new", () => {
  test("a counter loop ends with the last input as output", async () => {
    const id = await c.scheduleNewOrchestration("Counter", 0);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe(5);
    expect(json(s.serializedInput)).toBe(5);
    // Only the last execution's history is kept.
    const h = await c.getOrchestrationHistory(id);
    expect(types(h)).toEqual([H.OrchestratorStarted, H.ExecutionStarted, H.ExecutionCompleted]);
  });

  test("each execution gets a new executionId", async () => {
    const id = await c.scheduleNewOrchestration("GatedCounter", 0);
    await c.waitForOrchestrationStart(id, false, 30);
    const first = executionIdOf(await c.getOrchestrationHistory(id));
    expect(first).toMatch(/^[0-9a-f]+$/);
    await c.raiseOrchestrationEvent(id, "next");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe("finished with 1");
    const h = await c.getOrchestrationHistory(id);
    const second = executionIdOf(h);
    expect(second).toMatch(/^[0-9a-f]+$/);
    expect(startEventId(h)).toBe(0);
    expect(second).not.toBe(first);
    const start = h.find((e) => e.type === H.ExecutionStarted);
    expect(start?.type === H.ExecutionStarted && start.input).toBe("1");
    expect(h.some((e) => e.type === H.EventRaised)).toBe(false);
  });

  test("each generation's default-id sub-orchestration gets a fresh id", async () => {
    const id = await c.scheduleNewOrchestration("CounterWithChild", { n: 0, sum: 0 });
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe(0 + 2 + 4 + 6);
  });

  test.each([
    [true, { carried: "kept" }],
    [false, "dropped"],
  ])("an event the old execution received is carried over only with saveEvents (saveEvents=%s)", async (save, expected) => {
    const id = await c.scheduleNewOrchestration("CarryOver", { iter: 0, save });
    await c.waitForOrchestrationStart(id, false, 30);
    await c.raiseOrchestrationEvent(id, "carry", "kept");
    // The first execution has received it (unawaited) before it continues as new.
    await historyHas(c, id, (e) => e.type === H.EventRaised && e.name === "carry", "the carry event to be delivered");
    await c.raiseOrchestrationEvent(id, "go");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual(expected);
  });
});

describe("suspend and resume", () => {
  test("a suspended instance holds raised events until resumed", async () => {
    const id = await c.scheduleNewOrchestration("WaitEvent", "proceed");
    await c.waitForOrchestrationStart(id, false, 30);
    await c.suspendOrchestration(id);
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.SUSPENDED);
    await c.raiseOrchestrationEvent(id, "proceed", "after resume");
    // The worker has seen the event, yet the suspended orchestration did not act on it.
    await historyHas(c, id, (e) => e.type === H.EventRaised, "the event to be delivered");
    const suspended = await c.getOrchestrationState(id);
    expect(suspended?.runtimeStatus).toBe(S.SUSPENDED);
    expect(suspended?.serializedOutput).toBeUndefined();
    await c.resumeOrchestration(id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe("after resume");
    const kinds = types(await c.getOrchestrationHistory(id));
    expect(kinds.indexOf(H.ExecutionSuspended)).toBeLessThan(kinds.indexOf(H.EventRaised));
    expect(kinds.indexOf(H.EventRaised)).toBeLessThan(kinds.indexOf(H.ExecutionResumed));
  });
});

describe("terminate", () => {
  test("a running instance becomes Terminated with the given output", async () => {
    const id = await c.scheduleNewOrchestration("WaitForever");
    await c.waitForOrchestrationStart(id, false, 30);
    await c.terminateOrchestration(id, { reason: "stop" });
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.TERMINATED);
    expect(json(s.serializedOutput)).toEqual({ reason: "stop" });
  });

  test("recursive terminate of a parent also terminates its running sub-orchestration", async () => {
    const id = newId("terminate-parent");
    await c.scheduleNewOrchestration("ParentOfWaiter", undefined, id);
    await started(c, `${id}-child`);
    await c.terminateOrchestration(id, terminateOptions({ output: "bye", recursive: true }));
    const parent = await completion(c, id);
    expect(parent.runtimeStatus).toBe(S.TERMINATED);
    expect(json(parent.serializedOutput)).toBe("bye");
    const child = await completion(c, `${id}-child`);
    expect(child.runtimeStatus).toBe(S.TERMINATED);
    expect(json(child.serializedOutput)).toBe("bye");
  });

  test("a suspended instance can be terminated", async () => {
    const id = await c.scheduleNewOrchestration("WaitForever");
    await c.waitForOrchestrationStart(id, false, 30);
    await c.suspendOrchestration(id);
    await c.terminateOrchestration(id, "while suspended");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.TERMINATED);
    expect(json(s.serializedOutput)).toBe("while suspended");
  });

  test("terminating a finished instance is FAILED_PRECONDITION; an unknown one is NOT_FOUND", async () => {
    const id = await c.scheduleNewOrchestration("Echo", 1);
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
    expect((await grpcCode(c.terminateOrchestration(id, "late"))).code).toBe(9);
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.COMPLETED);
    expect((await grpcCode(c.terminateOrchestration(newId("nobody"), "x"))).code).toBe(5);
  });
});

describe("restart", () => {
  test("restart with the same instance id runs a new execution with the same input", async () => {
    const key = newId("restart-same");
    const id = await c.scheduleNewOrchestration("Restartable", { key, value: 21 }, key);
    const first = await completion(c, id);
    expect(json(first.serializedOutput)).toBe(42);
    const firstExecution = executionIdOf(await c.getOrchestrationHistory(id));

    expect(await c.restartOrchestration(id)).toBe(id);
    const again = await completion(c, id);
    expect(again.runtimeStatus).toBe(S.COMPLETED);
    expect(json(again.serializedInput)).toEqual({ key, value: 21 });
    expect(json(again.serializedOutput)).toBe(42);
    expect(countedRuns.get(key)).toBe(2);
    const h = await c.getOrchestrationHistory(id);
    expect(executionIdOf(h)).not.toBe(firstExecution);
    expect(startEventId(h)).toBe(0);
  });

  test("restarting a running instance under its own id is rejected", async () => {
    const id = await c.scheduleNewOrchestration("WaitForever");
    await c.waitForOrchestrationStart(id, false, 30);
    await expect(c.restartOrchestration(id)).rejects.toThrow(/cannot be restarted/);
    await expect(c.restartOrchestration(newId("nobody"))).rejects.toThrow(/was not found/);
    await expect(c.restartOrchestration(newId("nobody"), true)).rejects.toThrow(/was not found/);
    await c.terminateOrchestration(id);
  });

  test("restartWithNewInstanceId copies a running instance: name, version, input and tags; the original runs on", async () => {
    const id = await c.scheduleNewOrchestration("WaitThenEcho", { n: 7 }, { instanceId: newId("restart-running"), version: "2.1", tags: { team: "blue" } });
    await c.waitForOrchestrationStart(id, false, 30);
    const copy = await c.restartOrchestration(id, true);
    expect(copy).not.toBe(id);
    await c.waitForOrchestrationStart(copy, false, 30);
    await c.raiseOrchestrationEvent(copy, "go");
    const s = await completion(c, copy);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(s.name).toBe("WaitThenEcho");
    expect(json(s.serializedOutput)).toEqual({ input: { n: 7 }, version: "2.1" });
    expect(s.tags).toEqual({ team: "blue" });
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
    await c.raiseOrchestrationEvent(id, "go");
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
  });

  test("restartWithNewInstanceId starts a new instance that completes", async () => {
    const key = newId("restart-new");
    const id = await c.scheduleNewOrchestration("Restartable", { key, value: 5 }, key);
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
    const newInstance = await c.restartOrchestration(id, true);
    expect(newInstance).not.toBe(id);
    const s = await completion(c, newInstance);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(s.name).toBe("Restartable");
    expect(json(s.serializedOutput)).toBe(10);
    expect(countedRuns.get(key)).toBe(2);
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.COMPLETED);
  });
});

describe("rewind", () => {
  test("a failed orchestration is rewound past its failed activity and completes", async () => {
    const id = newId("rewind");
    await c.scheduleNewOrchestration("Rewindable", id, id);
    const failed = await completion(c, id);
    expect(failed.runtimeStatus).toBe(S.FAILED);
    expect(failed.failureDetails?.message).toBe(`Activity task #2 failed: transient failure of ${id}`);

    const failedExecution = executionIdOf(await c.getOrchestrationHistory(id));

    await c.rewindInstance(id, "try again");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual(["Hello, step!", `ok ${id}`]);
    expect(s.failureDetails).toBeUndefined();
    expect(flakyAttempts.get(id)).toBe(2);
    const history = await c.getOrchestrationHistory(id);
    const kinds = types(history);
    expect(kinds).toContain(H.ExecutionRewound);
    expect(kinds).not.toContain(H.TaskFailed);
    expect(kinds[kinds.length - 1]).toBe(H.ExecutionCompleted);
    // The rewound execution runs under the new execution id the SDK wrote into its history, and the
    // work items say the same (else the SDK warns "executionId mismatch").
    expect(executionIdOf(history)).toMatch(/^[0-9a-f]+$/);
    expect(executionIdOf(history)).not.toBe(failedExecution);
    expect(log.about(id)).toEqual([]);
  });

  test("rewinding a parent failed by its sub-orchestration rewinds both, and the parent completes", async () => {
    const id = newId("rewind-parent");
    const childId = `${id}-child`;
    await c.scheduleNewOrchestration("RewindParent", childId, id);
    const failed = await completion(c, id);
    expect(failed.runtimeStatus).toBe(S.FAILED);
    expect(failed.failureDetails?.message).toBe(`Sub-orchestration task #1 failed: Activity task #1 failed: transient failure of ${childId}`);
    expect((await c.getOrchestrationState(childId))?.runtimeStatus).toBe(S.FAILED);

    await c.rewindInstance(id, "try again");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe(`parent got ok ${childId}`);
    const child = await completion(c, childId);
    expect(child.runtimeStatus).toBe(S.COMPLETED);
    expect(json(child.serializedOutput)).toBe(`ok ${childId}`);
    expect(flakyAttempts.get(childId)).toBe(2);
    // The rewound child reports to its parent's new execution (ExecutionRewound.parentExecutionId).
    const parentStart = (await c.getOrchestrationHistory(id)).find((e) => e.type === H.ExecutionStarted);
    const childStart = (await c.getOrchestrationHistory(childId)).find((e) => e.type === H.ExecutionStarted);
    expect(childStart?.type === H.ExecutionStarted && childStart.parentInstance?.orchestrationInstance?.executionId)
      .toBe(parentStart?.type === H.ExecutionStarted && parentStart.orchestrationInstance?.executionId);
    expect([...log.about(id), ...log.about(childId)]).toEqual([]);
    expect(startEventId(await c.getOrchestrationHistory(childId))).toBe(0);
  });

  test("a failed sub-orchestration purged before its parent's rewind is created again and the parent completes", async () => {
    const id = newId("rewind-purged-child");
    const childId = `${id}-child`;
    await c.scheduleNewOrchestration("RewindParent", childId, id);
    expect((await completion(c, id)).runtimeStatus).toBe(S.FAILED);
    expect((await c.purgeOrchestration(childId))?.deletedInstanceCount).toBe(1);

    await c.rewindInstance(id, "try again");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe(`parent got ok ${childId}`);
    const child = await completion(c, childId);
    expect([child.runtimeStatus, child.name, json(child.serializedInput)]).toEqual([S.COMPLETED, "FlakyChild", childId]);
    expect(startEventId(await c.getOrchestrationHistory(childId))).toBe(0);
    expect([...log.about(id), ...log.about(childId)]).toEqual([]);
  });

  test.each([
    ["after the rewind", false],
    ["before the rewind, while the parent is Failed", true],
  ])("a parent failed while its sub-orchestration still ran is rewound and completes when the child does (child finishes %s)", async (_when, childFirst) => {
    const id = newId("rewind-running-child");
    const childId = `${id}-child`;
    await c.scheduleNewOrchestration("RewindWithRunningChild", id, id);
    const failed = await completion(c, id);
    expect(failed.runtimeStatus).toBe(S.FAILED);
    // Still running (its start is a message to its own partition, which may not have run it yet).
    expect((await c.waitForOrchestrationStart(childId, false, 30))?.runtimeStatus).toBe(S.RUNNING);

    if (childFirst) {
      await c.raiseOrchestrationEvent(childId, "never");
      expect((await completion(c, childId)).runtimeStatus).toBe(S.COMPLETED);
    }
    await c.rewindInstance(id, "try again");
    if (!childFirst) {
      // The parent has rerun its activity and waits for the child, which is still running.
      await historyHas(c, id, (e) => e.type === H.TaskCompleted, "the rewound parent's activity to complete");
      expect((await c.getOrchestrationState(childId))?.runtimeStatus).toBe(S.RUNNING);
      await c.raiseOrchestrationEvent(childId, "never");
    }
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual([`ok ${id}`, "woken"]);
    expect(flakyAttempts.get(id)).toBe(2);
    expect(types(await c.getOrchestrationHistory(id)).filter((t) => t === H.SubOrchestrationInstanceCompleted)).toHaveLength(1);
    expect([...log.about(id), ...log.about(childId)]).toEqual([]);
  });

  test.each([
    ["after the rewind", false],
    ["before the rewind, while the orchestration is Failed", true],
  ])("the activities and timers a failed orchestration still waited for run after a rewind (the running activity finishes %s)", async (_when, gateFirst) => {
    const id = newId("rewind-fan-out");
    await c.scheduleNewOrchestration("RewindFanOut", id, id);
    expect((await completion(c, id)).runtimeStatus).toBe(S.FAILED);
    if (gateFirst) {
      openGate(id);
      await activitiesDone(); // its result reached the Failed instance and was dropped
    }
    await c.rewindInstance(id, "try again");
    if (!gateFirst) {
      await historyHas(c, id, (e) => e.type === H.TaskCompleted, "the rewound Flaky activity to complete");
      openGate(id);
    }
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual(["opened", `ok ${id}`]);
    const kinds = types(await c.getOrchestrationHistory(id));
    expect(kinds.filter((t) => t === H.TimerFired)).toHaveLength(1);
    expect(kinds.filter((t) => t === H.TaskCompleted)).toHaveLength(2);
    expect(log.about(id)).toEqual([]);
  });

  test("rewinding an instance that did not fail is rejected", async () => {
    const id = await c.scheduleNewOrchestration("Echo", 1);
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
    await expect(c.rewindInstance(id, "no")).rejects.toThrow(/only Failed instances can be rewound/);
    await expect(c.rewindInstance(newId("nobody"), "no")).rejects.toThrow(/was not found/);
  });
});
