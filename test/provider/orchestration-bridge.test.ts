// Unit tests of the orchestration bridge and the action/id conversion, on what durable-functions'
// real orchestrator handler returns: each episode's actions must carry the ids its replay expects,
// or the next replay would wait forever for a result that never matches.
import * as df from "durable-functions";
import { event, kindOf, str } from "../../src/core/events";
import { Status } from "../../src/core/model";
import { pb } from "../../src/proto";
import { Driver, T0, TestApp } from "./harness";
import { JsonHistories } from "../../src/provider/history-json";
import { keepOrchestratorErrors } from "../../src/host/orchestrator-errors";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = pb.OrchestrationStatus;
const scheduled = Driver.scheduled;

const app = new TestApp()
  .activity("SayHello", (name: string) => `Hello, ${name}!`)
  .orchestration("Sequence", function* (ctx: any) {
    const out = [];
    out.push(yield ctx.df.callActivity("SayHello", "Tokyo"));
    out.push(yield ctx.df.callActivity("SayHello", { city: "Seattle" }));
    out.push(yield ctx.df.callActivity("SayHello", "London"));
    return out;
  })
  .orchestration("FanOut", function* (ctx: any) {
    const n: number = ctx.df.getInput();
    const tasks = [];
    for (let i = 0; i < n; i++) tasks.push(ctx.df.callActivity("SayHello", `c${i}`));
    const all = yield ctx.df.Task.all(tasks);
    const last = yield ctx.df.callActivity("SayHello", "done");
    return [...all, last];
  })
  .orchestration("Retry", function* (ctx: any) {
    const first = yield ctx.df.callActivity("SayHello", "a");
    const opts = new df.RetryOptions(1000, 3);
    opts.backoffCoefficient = 2;
    const second = yield ctx.df.callActivityWithRetry("Flaky", opts, "b");
    const third = yield ctx.df.callActivity("SayHello", "c");
    return [first, second, third];
  })
  .orchestration("RetryExhausted", function* (ctx: any) {
    try {
      yield ctx.df.callActivityWithRetry("Flaky", new df.RetryOptions(500, 2), "x");
      return "unexpected";
    } catch (e: any) {
      return `gave up: ${e.message}`;
    }
  })
  .orchestration("RetryTimeout", function* (ctx: any) {
    const opts = new df.RetryOptions(500, 5);
    opts.retryTimeoutInMilliseconds = 2500;
    try {
      yield ctx.df.callActivityWithRetry("Flaky", opts, "x");
      return "unexpected";
    } catch (e: any) {
      const after = yield ctx.df.callActivity("SayHello", "after");
      return `gave up: ${e.message}; then ${after}`;
    }
  })
  .orchestration("SubRetryTimeout", function* (ctx: any) {
    const opts = new df.RetryOptions(500, 3);
    opts.retryTimeoutInMilliseconds = 500;
    try {
      return yield ctx.df.callSubOrchestratorWithRetry("Child", opts, "in");
    } catch (e: any) {
      return `gave up: ${e.message}`;
    }
  })
  .orchestration("RetryFanOut", function* (ctx: any) {
    const opts = new df.RetryOptions(100, 5);
    return yield ctx.df.Task.all([ctx.df.callActivityWithRetry("A", opts), ctx.df.callActivityWithRetry("B", opts)]);
  })
  .orchestration("SubRetry", function* (ctx: any) {
    const generated = yield ctx.df.callSubOrchestratorWithRetry("Child", new df.RetryOptions(250, 2), "in");
    const given = yield ctx.df.callSubOrchestratorWithRetry("Child", new df.RetryOptions(250, 2), "in", "given-id");
    return [generated, given];
  })
  .orchestration("Approval", function* (ctx: any) {
    const timeout = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 60_000));
    const approval = ctx.df.waitForExternalEvent("Approve");
    const winner = yield ctx.df.Task.any([approval, timeout]);
    if (winner === approval) {
      timeout.cancel();
      const after = yield ctx.df.callActivity("SayHello", "approved");
      return { approved: approval.result, after };
    }
    return "timed out";
  })
  .orchestration("Timer", function* (ctx: any) {
    yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 30 * 86_400_000));
    return "fired";
  })
  .orchestration("Parent", function* (ctx: any) {
    const a = yield ctx.df.callSubOrchestrator("Sequence");
    const b = yield ctx.df.callSubOrchestrator("FanOut", 2, "fixed-child");
    return { a, b };
  })
  .orchestration("Entities", function* (ctx: any) {
    const id = new df.EntityId("Counter", "k1");
    ctx.df.signalEntity(id, "add", 5);
    const after = yield ctx.df.callEntity(id, "add", 10);
    let failed;
    try {
      yield ctx.df.callEntity(id, "explode");
    } catch (e: any) {
      failed = e.message;
    }
    return { after, failed };
  })
  .orchestration("Locking", function* (ctx: any) {
    const b = new df.EntityId("Account", "b");
    const a = new df.EntityId("Account", "a");
    const lock = yield ctx.df.lock(b, a);
    const balance = yield ctx.df.callEntity(a, "get");
    lock.release();
    const after = yield ctx.df.callActivity("SayHello", "unlocked");
    return { balance, after };
  })
  .orchestration("Counter", function* (ctx: any) {
    const n: number = ctx.df.getInput();
    yield ctx.df.callActivity("SayHello", `n${n}`);
    if (n < 2) {
      ctx.df.continueAsNew(n + 1);
      return;
    }
    return n;
  })
  .orchestration("Throws", function* (ctx: any) {
    yield ctx.df.callActivity("SayHello", "x");
    throw new TypeError("bad input");
  })
  .orchestration("Unhandled", function* (ctx: any) {
    yield ctx.df.callActivity("Boom");
  })
  .orchestration("Status", function* (ctx: any) {
    ctx.df.setCustomStatus({ stage: 1 });
    yield ctx.df.callActivity("SayHello", "x");
    ctx.df.setCustomStatus({ stage: 2 });
    return "ok";
  })
  .orchestration("Waits", function* (ctx: any) {
    const v = yield ctx.df.waitForExternalEvent("Go");
    return v;
  })
  .orchestration("Changed", function* (ctx: any) {
    yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 1000));
    return "x";
  });

test("a sequence schedules one activity per episode with ids 0, 1, 2 and completes with the outputs", async () => {
  const d = new Driver(app, "Sequence");
  let req = await d.episode();
  expect(scheduled(req)).toEqual(["task 0 SayHello"]);
  expect(req.newTasks).toHaveLength(1);
  expect(req.newTasks![0]).toMatchObject({ eventId: 0, taskScheduled: { name: "SayHello", input: { value: '"Tokyo"' } } });
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_RUNNING);
  req = await d.complete(0, "Hello, Tokyo!").episode();
  expect(scheduled(req)).toEqual(["task 1 SayHello"]);
  expect(req.newTasks![0].taskScheduled!.input!.value).toBe('{"city":"Seattle"}');
  req = await d.complete(1, "Hello, Seattle!").episode();
  expect(scheduled(req)).toEqual(["task 2 SayHello"]);
  req = await d.complete(2, "Hello, London!").episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect(d.output).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
  expect(d.last!.outcome).toBe("completed");
});

test("the trigger input carries the history and the fields durable-functions requires", async () => {
  const a = new TestApp().orchestration("Sequence", function* (ctx: any) {
    return yield ctx.df.callActivity("SayHello", "x");
  });
  const d = new Driver(a, "Sequence", { n: 1 });
  await d.episode();
  await d.complete(0, "r").episode();
  const last = a.calls[a.calls.length - 1];
  const trigger = JSON.parse(Object.values(last.request.inputData)[0].string!);
  expect(trigger).toMatchObject({
    instanceId: "inst-1", input: { n: 1 }, isReplaying: true, upperSchemaVersion: 1, upperSchemaVersionNew: 3,
    longRunningTimerIntervalDuration: "3.00:00:00", defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  });
  expect(trigger.history.map((e: any) => [e.EventType, e.EventId, e.IsPlayed])).toEqual([
    [12, -1, true], [0, -1, true], [4, 0, true], [12, -1, false], [5, -1, false],
  ]);
  expect(trigger.history[4]).toMatchObject({ TaskScheduledId: 0, Result: '"r"' });
  expect(trigger.history[0].Timestamp).toBe(new Date(T0 + 1000).toISOString());
});

test("episodes sharing JSON histories (one work item's continued episodes) answer the same, and durable-functions changes none of the objects it is given", async () => {
  /** Hands out each history deep-frozen: a change durable-functions tried to make would throw. */
  class FrozenHistories extends JsonHistories {
    of(replay: Parameters<JsonHistories["of"]>[0]) {
      const out = super.of(replay);
      const freeze = (o: unknown): void => {
        if (o === null || typeof o !== "object" || Object.isFrozen(o)) return;
        Object.freeze(o);
        for (const v of Object.values(o)) freeze(v);
      };
      freeze(out);
      return out;
    }
  }
  const shared = new Driver(app, "Sequence");
  shared.histories = new FrozenHistories();
  const alone = new Driver(app, "Sequence");
  for (const [id, result] of [[-1, ""], [0, "Hello, Tokyo!"], [1, "Hello, Seattle!"], [2, "Hello, London!"]] as const) {
    if (id >= 0) {
      shared.complete(id, result);
      alone.complete(id, result);
    }
    expect(await shared.episode()).toEqual(await alone.episode());
  }
  expect(shared.output).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
});

test("a shared JSON history reuses the objects of the events it saw before, copies those played since, and converts only new ones", () => {
  const histories = new JsonHistories();
  const a = event(T0, { orchestratorStarted: {} });
  const b = event(T0, { taskScheduled: { name: "A" } }, 0);
  const c = event(T0 + 5, { taskCompleted: { taskScheduledId: 0, result: str("1") } });
  const first = histories.of([{ event: a, played: true }, { event: b, played: false }]);
  const second = histories.of([{ event: a, played: true }, { event: b, played: true }, { event: c, played: false }]);
  expect(second[0]).toBe(first[0]);
  expect(second[1]).not.toBe(first[1]);
  expect(second[1]).toEqual({ ...first[1], IsPlayed: true });
  expect(first[1].IsPlayed).toBe(false);
  expect(second[2]).toMatchObject({ EventType: 5, IsPlayed: false, TaskScheduledId: 0, Timestamp: new Date(T0 + 5) });
  // A different event at a position ends the reuse from there on.
  const other = histories.of([{ event: a, played: true }, { event: c, played: false }]);
  expect(other[0]).toBe(first[0]);
  expect(other[1]).toMatchObject({ EventType: 5 });
});

test("fan-out numbers the Task.all children in order, and the task after it once they are all done", async () => {
  const d = new Driver(app, "FanOut", 3);
  let req = await d.episode();
  expect(scheduled(req)).toEqual(["task 0 SayHello", "task 1 SayHello", "task 2 SayHello"]);
  req = await d.complete(2, "two").complete(0, "zero").episode();
  expect(scheduled(req)).toEqual([]);
  req = await d.complete(1, "one").episode();
  expect(scheduled(req)).toEqual(["task 3 SayHello"]);
  await d.complete(3, "last").episode();
  expect(d.output).toEqual(["zero", "one", "two", "last"]);
});

test("a retried activity takes task, timer, task ids with growing delays, and later tasks continue the count", async () => {
  const d = new Driver(app, "Retry");
  await d.episode();
  let req = await d.complete(0, "A").episode();
  expect(scheduled(req)).toEqual(["task 1 Flaky"]);
  req = await d.fail(1, "first try").episode();
  expect(scheduled(req)).toEqual(["timer 2"]);
  expect(Number(req.newTimers![0].timerFired!.fireAt!.seconds) * 1000).toBe(d.now + 1000);
  req = await d.fire(2).episode();
  expect(scheduled(req)).toEqual(["task 3 Flaky"]);
  req = await d.fail(3, "second try").episode();
  expect(scheduled(req)).toEqual(["timer 4"]);
  // backoffCoefficient 2: the second delay is twice the first.
  expect(Number(req.newTimers![0].timerFired!.fireAt!.seconds) * 1000).toBe(d.now + 2000);
  req = await d.fire(4).episode();
  expect(scheduled(req)).toEqual(["task 5 Flaky"]);
  req = await d.complete(5, "B").episode();
  expect(scheduled(req)).toEqual(["task 6 SayHello"]);
  await d.complete(6, "C").episode();
  expect(d.output).toEqual(["A", "B", "C"]);
});

test("when the attempts run out the last failure reaches the orchestrator after one more timer", async () => {
  const d = new Driver(app, "RetryExhausted");
  await d.episode();
  expect(scheduled(await d.fail(0, "no").episode())).toEqual(["timer 1"]);
  expect(scheduled(await d.fire(1).episode())).toEqual(["task 2 Flaky"]);
  expect(scheduled(await d.fail(2, "still no").episode())).toEqual(["timer 3"]);
  const req = await d.fire(3).episode();
  expect(scheduled(req)).toEqual([]);
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect(d.output).toBe("gave up: Error: still no");
});

test("a retry timeout, measured from the first attempt, ends the retries at the first failure after it, with no timer", async () => {
  const d = new Driver(app, "RetryTimeout");
  expect(scheduled(await d.episode())).toEqual(["task 0 Flaky"]); // first attempt at T0+1s
  expect(scheduled(await d.fail(0, "first").episode())).toEqual(["timer 1"]); // 1 s in: retry
  expect(scheduled(await d.fire(1).episode())).toEqual(["task 2 Flaky"]);
  // 4 s after the first attempt (past the 2.5 s timeout) the second attempt fails: no timer, the
  // orchestrator catches that attempt's error and goes on, and the next task takes the next id.
  expect(scheduled(await d.fail(2, "second").episode(2000))).toEqual(["task 3 SayHello"]);
  const req = await d.complete(3, "done").episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect(d.output).toBe("gave up: Error: second; then done");
});

test("a sub-orchestration retry timeout stops retries the same way", async () => {
  const d = new Driver(app, "SubRetryTimeout");
  expect(scheduled(await d.episode())).toEqual(["sub 0 Child"]);
  const req = await d.subFailed(0, "child broke").episode();
  expect(scheduled(req)).toEqual([]);
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect(d.output).toMatch(/^gave up: .*child broke/);
});

test("retries inside Task.all take ids in the order their failures and timers arrive", async () => {
  const d = new Driver(app, "RetryFanOut");
  expect(scheduled(await d.episode())).toEqual(["task 0 A", "task 1 B"]);
  expect(scheduled(await d.fail(1, "b1").episode())).toEqual(["timer 2"]);
  expect(scheduled(await d.fail(0, "a1").episode())).toEqual(["timer 3"]);
  expect(scheduled(await d.fire(3).fire(2).episode())).toEqual(["task 4 A", "task 5 B"]);
  expect(scheduled(await d.complete(5, "b").fail(4, "a2").episode())).toEqual(["timer 6"]);
  expect(scheduled(await d.fire(6).episode())).toEqual(["task 7 A"]);
  await d.complete(7, "a").episode();
  expect(d.output).toEqual(["a", "b"]);
});

test("an external event beats the timer in Task.any; the timer keeps its id and the next task takes the following one", async () => {
  const d = new Driver(app, "Approval");
  const req = await d.episode();
  expect(scheduled(req)).toEqual(["timer 0"]);
  expect(Number(req.newTimers![0].timerFired!.fireAt!.seconds) * 1000).toBe(T0 + 1000 + 60_000);
  expect(scheduled(await d.raise("Approve", { by: "me" }).episode())).toEqual(["task 1 SayHello"]);
  await d.complete(1, "after").episode();
  expect(d.output).toEqual({ approved: { by: "me" }, after: "after" });
});

test("an event raised before the orchestrator waits for it is kept for it", async () => {
  const d = new Driver(app, "Waits");
  d.raise("Go", 42);
  await d.episode();
  expect(d.output).toBe(42);
});

test("the timer wins when no event comes", async () => {
  const d = new Driver(app, "Approval");
  await d.episode();
  await d.fire(0).episode();
  expect(d.output).toBe("timed out");
});

test("a timer a month away is one timer (the scheduler has no timer length limit)", async () => {
  const d = new Driver(app, "Timer");
  const req = await d.episode();
  expect(scheduled(req)).toEqual(["timer 0"]);
  expect(Number(req.newTimers![0].timerFired!.fireAt!.seconds) * 1000).toBe(T0 + 1000 + 30 * 86_400_000);
  await d.fire(0).episode();
  expect(d.output).toBe("fired");
});

test("sub-orchestrations start with a deterministic id (or the given one) and return their output", async () => {
  const d = new Driver(app, "Parent");
  let req = await d.episode();
  expect(scheduled(req)).toEqual(["sub 0 Sequence"]);
  const start = req.newMessages!.find((m) => m.event?.executionStarted)!;
  const childId = start.instance!.instanceId!;
  expect(childId).toMatch(/^[0-9a-f]{32}$/);
  expect(start.event!.executionStarted!.parentInstance).toMatchObject({ taskScheduledId: 0, orchestrationInstance: { instanceId: "inst-1" } });
  // The same replay again gives the same id (history keeps it, but it must not depend on chance either).
  const again = new Driver(app, "Parent");
  expect((await again.episode()).newMessages!.find((m) => m.event?.executionStarted)!.instance!.instanceId).toBe(childId);
  req = await d.subCompleted(0, ["x"]).episode();
  expect(scheduled(req)).toEqual(["sub 1 FanOut"]);
  expect(req.newMessages!.find((m) => m.event?.executionStarted)!.instance!.instanceId).toBe("fixed-child");
  await d.subCompleted(1, [1, 2]).episode();
  expect(d.output).toEqual({ a: ["x"], b: [1, 2] });
});

test("a failed sub-orchestration fails the parent with the child's failure inside", async () => {
  const d = new Driver(app, "Parent");
  await d.episode();
  const req = await d.subFailed(0, "child broke").episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_FAILED);
  const failure = d.completed!.failureDetails!;
  expect(failure.errorMessage).toBe("Orchestrator function 'Parent' failed: Error: child broke");
  expect(failure.errorType).toBe("TaskFailedError");
  expect(failure.innerFailure).toMatchObject({ errorType: "Error", errorMessage: "child broke" });
});

test("a retried sub-orchestration takes sub, timer, sub ids; a given instance id is reused for each attempt", async () => {
  const d = new Driver(app, "SubRetry");
  const ids = (req: pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest) =>
    req.newMessages!.filter((m) => m.event?.executionStarted).map((m) => m.instance!.instanceId);
  let req = await d.episode();
  expect(scheduled(req)).toEqual(["sub 0 Child"]);
  const first = ids(req)[0];
  expect(req.newMessages![0].event!.executionStarted!.input!.value).toBe('"in"');
  expect(scheduled(await d.subFailed(0, "no").episode())).toEqual(["timer 1"]);
  req = await d.fire(1).episode();
  expect(scheduled(req)).toEqual(["sub 2 Child"]);
  expect(ids(req)[0]).not.toBe(first);
  req = await d.subCompleted(2, "one").episode();
  expect(scheduled(req)).toEqual(["sub 3 Child"]);
  expect(ids(req)).toEqual(["given-id"]);
  await d.subFailed(3, "no").episode();
  req = await d.fire(4).episode();
  expect(scheduled(req)).toEqual(["sub 5 Child"]);
  expect(ids(req)).toEqual(["given-id"]);
  await d.subCompleted(5, "two").episode();
  expect(d.output).toEqual(["one", "two"]);
});

test("signalEntity takes an id, callEntity sends a request whose response comes back by request id", async () => {
  const d = new Driver(app, "Entities");
  let req = await d.episode();
  expect(scheduled(req)).toEqual(["signal 0 @counter@k1 add", "call 1 @counter@k1 add"]);
  const messages = req.newMessages!.map((m) => [m.instance!.instanceId, kindOf(m.event!)]);
  expect(messages).toEqual([["@counter@k1", "entityOperationSignaled"], ["@counter@k1", "entityOperationCalled"]]);
  const call = req.newMessages![1].event!.entityOperationCalled!;
  expect(call).toMatchObject({ operation: "add", input: { value: "10" }, parentInstanceId: { value: "inst-1" }, parentExecutionId: { value: "exec-1" } });
  req = await d.entityResult(1, 15).episode();
  expect(scheduled(req)).toEqual(["call 2 @counter@k1 explode"]);
  await d.entityFailure(2, "cannot explode").episode();
  expect(d.output).toEqual({ after: 15, failed: "cannot explode" });
});

test("lock() requests the sorted lock set, calls inside it, and release unlocks each entity with its own id", async () => {
  const d = new Driver(app, "Locking");
  let req = await d.episode();
  expect(scheduled(req)).toEqual(["lock 0 @account@a,@account@b"]);
  const lock = req.newHistory!.find((e) => e.entityLockRequested)!.entityLockRequested!;
  expect(lock).toMatchObject({ position: 0, parentInstanceId: { value: "inst-1" } });
  expect(req.newMessages![0].instance!.instanceId).toBe("@account@a");
  req = await d.lockGranted(lock.criticalSectionId!).episode();
  expect(scheduled(req)).toEqual(["call 1 @account@a get"]);
  req = await d.entityResult(1, 100).episode();
  expect(scheduled(req)).toEqual(["unlock 2 @account@a", "unlock 3 @account@b", "task 4 SayHello"]);
  const unlock = req.newHistory!.find((e) => e.entityUnlockSent)!.entityUnlockSent!;
  expect(unlock.criticalSectionId).toBe(lock.criticalSectionId);
  await d.complete(4, "done").episode();
  expect(d.output).toEqual({ balance: 100, after: "done" });
});

test("continueAsNew completes the execution with the new input and the next one starts from it", async () => {
  const d = new Driver(app, "Counter", 0);
  await d.episode();
  let req = await d.complete(0, "x").episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_CONTINUED_AS_NEW);
  expect(d.last!.outcome).toBe("continued as new");
  expect(d.inbox[0].executionStarted!.input!.value).toBe("1");
  expect(scheduled(await d.episode())).toEqual(["task 0 SayHello"]);
  await d.complete(0, "x").episode();
  await d.episode();
  await d.complete(0, "x").episode();
  expect(d.output).toBe(2);
});

test("an orchestrator exception fails it with the function name and the error message; with the host's executor wrap, also its type and stack", async () => {
  const d = new Driver(app, "Throws");
  await d.episode();
  const req = await d.complete(0, "x").episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_FAILED);
  const plain = d.completed!.failureDetails!;
  // durable-functions alone passes on only the message of what the orchestrator threw.
  expect(plain.errorType).toBe("Error");
  expect(plain.errorMessage).toBe("Orchestrator function 'Throws' failed: bad input");

  // The local host wraps the app's durable-functions executor (host/orchestrator-errors.ts) when it loads the app.
  expect(keepOrchestratorErrors(process.cwd())).toBe(true);
  const again = new Driver(app, "Throws");
  await again.episode();
  await again.complete(0, "x").episode();
  const failure = again.completed!.failureDetails!;
  expect(failure.errorType).toBe("TypeError");
  expect(failure.errorMessage).toBe("Orchestrator function 'Throws' failed: bad input");
  expect(failure.stackTrace?.value).toMatch(/^TypeError: bad input\n\s+at /);
});

test("an unhandled activity failure fails the orchestration with the activity's failure as inner failure", async () => {
  const d = new Driver(app, "Unhandled");
  await d.episode();
  await d.fail(0, "kaput", "RangeError").episode();
  const failure = d.completed!.failureDetails!;
  expect(failure.errorMessage).toBe("Orchestrator function 'Unhandled' failed: RangeError: kaput");
  expect(failure.innerFailure).toMatchObject({ errorType: "RangeError", errorMessage: "kaput" });
});

test("custom status is sent with each episode", async () => {
  const d = new Driver(app, "Status");
  expect((await d.episode()).customStatus?.value).toBe('{"stage":1}');
  expect((await d.complete(0, "x").episode()).customStatus?.value).toBe('{"stage":2}');
});

test("a terminated orchestration completes as Terminated without running its code", async () => {
  const d = new Driver(app, "Waits");
  await d.episode();
  const calls = app.calls.length;
  d.push(event(d.now, { executionTerminated: { input: str('"stop"') } }));
  const req = await d.episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_TERMINATED);
  expect(d.completed!.result!.value).toBe('"stop"');
  expect(app.calls.length).toBe(calls);
});

test("results that arrive while suspended are held back until it resumes", async () => {
  const d = new Driver(app, "Sequence");
  await d.episode();
  d.push(event(d.now, { executionSuspended: { input: str("pause") } }));
  let req = await d.complete(0, "held").episode();
  expect(scheduled(req)).toEqual([]);
  req = await d.push(event(d.now, { executionResumed: {} })).episode();
  expect(scheduled(req)).toEqual(["task 1 SayHello"]);
});

test("a history that no longer matches the code fails the orchestration as non-deterministic", async () => {
  const d = new Driver(app, "Changed");
  // Recorded by an older version of the code: task 0 was an activity, now it is a timer.
  d.history.push(event(T0, { orchestratorStarted: {} }), d.inbox.shift()!, event(T0, { taskScheduled: { name: "Old" } }, 0));
  const req = await d.episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_FAILED);
  expect(d.completed!.failureDetails).toMatchObject({ errorType: "NonDeterministicOrchestration" });
  expect(d.completed!.failureDetails!.errorMessage).toMatch(/task 0 is a timerCreated now but the history recorded taskScheduled/);
});

test("an unknown orchestrator fails with the names the app does have", async () => {
  const d = new Driver(app, "Nope");
  await d.episode();
  expect(d.completed!.failureDetails!.errorMessage).toMatch(/The orchestrator function 'Nope' does not exist in this app \(its orchestrator functions: Sequence, FanOut/);
});

test("a rewind removes the failed results and the failed activity's scheduling, then the activity runs again", async () => {
  const d = new Driver(app, "Unhandled");
  await d.episode();
  await d.fail(0, "kaput").episode();
  expect(d.completed).toBeDefined();
  d.push(event(d.now, { executionRewound: { reason: str("retry it") } }));
  const req = await d.episode();
  expect(d.last!.outcome).toBe("rewound");
  const kinds = req.newHistory!.map(kindOf);
  expect(kinds[0]).toBe("executionStarted");
  expect(kinds).not.toContain("taskFailed");
  expect(kinds).not.toContain("taskScheduled");
  expect(kinds).not.toContain("executionCompleted");
  d.history = req.newHistory!;
  expect(scheduled(await d.episode())).toEqual(["task 0 Boom"]);
});

test("the completion is built by core/: runtime status Running while work is pending", async () => {
  const d = new Driver(app, "FanOut", 1);
  const req = await d.episode();
  expect(req.instance).toMatchObject({ instanceId: "inst-1", executionId: { value: "exec-1" } });
  expect(req.completionToken).toBe("token");
  expect(req.runtimeStatus).toBe(Status.ORCHESTRATION_STATUS_RUNNING);
  expect(req.newHistory!.map(kindOf)).toEqual(["orchestratorStarted", "executionStarted", "taskScheduled"]);
});
