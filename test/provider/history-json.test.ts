// Unit tests of the proto <-> Durable Task Framework JSON history conversion durable-functions replays.
import { event, str, toTimestamp } from "../../src/core/events";
import { HistoryEvent } from "../../src/core/model";
import { EventType, fromJsonEvent, replayEvents, toJsonEvent, toJsonHistory } from "../../src/provider/history-json";
import { pb } from "../../src/proto";

const T = Date.UTC(2026, 4, 1, 12, 0, 0, 250);
const ISO = new Date(T).toISOString();
/** The Timestamp durable-functions gets: a Date (its JSON text is the ISO string). */
const DATE = new Date(T);
const e = (fields: Omit<HistoryEvent, "eventId" | "timestamp">, id = -1) => event(T, fields, id);

test("common fields: EventType number, EventId, IsPlayed and a Timestamp Date", () => {
  expect(toJsonEvent(e({ orchestratorStarted: {} }), true)).toEqual({ EventType: 12, EventId: -1, IsPlayed: true, Timestamp: DATE });
  expect(toJsonEvent(e({ taskScheduled: { name: "A", input: str("1") } }, 3), false)).toEqual({
    EventType: 4, EventId: 3, IsPlayed: false, Timestamp: DATE, Name: "A", Version: null, Input: "1",
  });
});

test("ExecutionStarted carries instance, parent, name, version, input, tags", () => {
  const j = toJsonEvent(e({
    executionStarted: {
      name: "Orch", version: str("2"), input: str('{"a":1}'), tags: { t: "v" },
      orchestrationInstance: { instanceId: "i", executionId: str("x") },
      parentInstance: { taskScheduledId: 4, name: str("P"), orchestrationInstance: { instanceId: "p", executionId: str("px") } },
    },
  }), true)!;
  expect(j).toMatchObject({
    EventType: EventType.ExecutionStarted, Name: "Orch", Version: "2", Input: '{"a":1}', Tags: { t: "v" }, ScheduledStartTime: null,
    OrchestrationInstance: { InstanceId: "i", ExecutionId: "x" },
    ParentInstance: { Name: "P", TaskScheduleId: 4, OrchestrationInstance: { InstanceId: "p", ExecutionId: "px" } },
  });
});

test('results: an absent Result is "null" (the replay JSON-parses it)', () => {
  expect(toJsonEvent(e({ taskCompleted: { taskScheduledId: 2 } }), false)).toMatchObject({ EventType: 5, TaskScheduledId: 2, Result: "null" });
  expect(toJsonEvent(e({ taskCompleted: { taskScheduledId: 2, result: str('"x"') } }), false)).toMatchObject({ Result: '"x"' });
  expect(toJsonEvent(e({ subOrchestrationInstanceCompleted: { taskScheduledId: 5 } }), false)).toMatchObject({ EventType: 8, TaskScheduledId: 5, Result: "null" });
  expect(toJsonEvent(e({ timerFired: { timerId: 7, fireAt: toTimestamp(T) } }), false)).toMatchObject({ EventType: 11, TimerId: 7, FireAt: ISO });
  expect(toJsonEvent(e({ timerCreated: { fireAt: toTimestamp(T) } }, 7), false)).toMatchObject({ EventType: 10, EventId: 7, FireAt: ISO });
  expect(toJsonEvent(e({ eventRaised: { name: "Go", input: str("5") } }), false)).toMatchObject({ EventType: 15, Name: "Go", Input: "5" });
  expect(toJsonEvent(e({ subOrchestrationInstanceCreated: { name: "S", instanceId: "c", input: str("1") } }, 1), true)).toMatchObject({ EventType: 7, Name: "S", InstanceId: "c", Input: "1" });
});

test("failures: FailureDetails with inner failure and properties, plus Reason and Details", () => {
  const failureDetails: pb.ITaskFailureDetails = {
    errorType: "RangeError", errorMessage: "too big", stackTrace: str("at x"), isNonRetriable: true,
    innerFailure: { errorType: "Inner", errorMessage: "cause" },
    properties: { code: { numberValue: 42 }, tags: { listValue: { values: [{ stringValue: "a" }] } }, nested: { structValue: { fields: { ok: { boolValue: true } } } } },
  };
  const j = toJsonEvent(e({ taskFailed: { taskScheduledId: 3, failureDetails } }), false)!;
  expect(j).toEqual({
    EventType: 6, EventId: -1, IsPlayed: false, Timestamp: DATE, TaskScheduledId: 3, Reason: "too big", Details: "at x",
    FailureDetails: {
      ErrorType: "RangeError", ErrorMessage: "too big", StackTrace: "at x", IsNonRetriable: true,
      InnerFailure: { ErrorType: "Inner", ErrorMessage: "cause", IsNonRetriable: false },
      Properties: { code: 42, tags: ["a"], nested: { ok: true } },
    },
  });
  expect(toJsonEvent(e({ subOrchestrationInstanceFailed: { taskScheduledId: 1 } }), false)).toMatchObject({
    EventType: 9, FailureDetails: { ErrorType: "Error", ErrorMessage: "The task failed" },
  });
  // Properties survive a wire round trip (decoded messages keep oneof defaults on the prototype).
  const decoded = pb.HistoryEvent.decode(pb.HistoryEvent.encode(e({ taskFailed: { taskScheduledId: 3, failureDetails } })).finish());
  expect(toJsonEvent(decoded, true)!.FailureDetails).toEqual(j.FailureDetails);
});

test("entity calls are EventSent with the request id in Input; responses and lock grants are EventRaised named by it", () => {
  const called = toJsonEvent(e({
    entityOperationCalled: { requestId: "r1", operation: "add", input: str("5"), targetInstanceId: str("@counter@k"), parentInstanceId: str("o"), parentExecutionId: str("x") },
  }, 4), true)!;
  expect(called).toMatchObject({ EventType: EventType.EventSent, EventId: 4, InstanceId: "@counter@k", Name: "op" });
  expect(JSON.parse(called.Input as string)).toEqual({ op: "add", id: "r1", input: "5", parent: "o", parentExecution: "x" });
  const signaled = toJsonEvent(e({ entityOperationSignaled: { requestId: "r0", operation: "reset", targetInstanceId: str("@counter@k") } }, 3), true)!;
  expect(JSON.parse(signaled.Input as string)).toEqual({ op: "reset", signal: true, id: "r0" });
  const lock = toJsonEvent(e({ entityLockRequested: { criticalSectionId: "cs", lockSet: ["@a@1", "@b@2"], position: 0, parentInstanceId: str("o") } }, 5), true)!;
  expect(lock).toMatchObject({ EventType: EventType.EventSent, InstanceId: "@a@1" });
  expect(JSON.parse(lock.Input as string)).toMatchObject({ id: "cs", lockset: ["@a@1", "@b@2"], pos: 0 });
  const unlock = toJsonEvent(e({ entityUnlockSent: { criticalSectionId: "cs", targetInstanceId: str("@b@2"), parentInstanceId: str("o") } }, 6), true)!;
  expect(unlock).toMatchObject({ EventType: EventType.EventSent, Name: "release", InstanceId: "@b@2" });

  const ok = toJsonEvent(e({ entityOperationCompleted: { requestId: "r1", output: str("15") } }), false)!;
  expect(ok).toMatchObject({ EventType: EventType.EventRaised, Name: "r1" });
  expect(JSON.parse(ok.Input as string)).toEqual({ result: "15" });
  expect(JSON.parse(toJsonEvent(e({ entityOperationCompleted: { requestId: "r1" } }), false)!.Input as string)).toEqual({});
  const failed = toJsonEvent(e({ entityOperationFailed: { requestId: "r2", failureDetails: { errorType: "Oops", errorMessage: "no" } } }), false)!;
  expect(JSON.parse(failed.Input as string)).toEqual({ result: '"no"', exceptionType: "Oops" });
  expect(toJsonEvent(e({ entityLockGranted: { criticalSectionId: "cs" } }), false)).toMatchObject({ EventType: EventType.EventRaised, Name: "cs" });
});

test("events the JS replay has no use for are left out of the history", () => {
  const history = toJsonHistory([
    { event: e({ orchestratorStarted: {} }), played: true },
    { event: e({ executionRewound: { reason: str("x") } }), played: true },
    { event: e({ historyState: {} }), played: true },
  ]);
  expect(history.map((h) => h.EventType)).toEqual([12]);
});

test("suspension: results after ExecutionSuspended move after ExecutionResumed, or wait while it lasts", () => {
  const started = e({ orchestratorStarted: {} });
  const done = e({ taskCompleted: { taskScheduledId: 0 } });
  const raised = e({ eventRaised: { name: "x" } });
  const suspended = e({ executionSuspended: {} });
  const resumed = e({ executionResumed: {} });
  const kinds = (r: ReturnType<typeof replayEvents>) => r.map((x) => `${Object.keys(x.event).find((k) => k !== "eventId" && k !== "timestamp")}:${x.played}`);
  expect(kinds(replayEvents([started, suspended, done], [started, raised]))).toEqual([
    "orchestratorStarted:true", "executionSuspended:true", "orchestratorStarted:false",
  ]);
  expect(kinds(replayEvents([started, suspended, done], [started, raised, resumed]))).toEqual([
    "orchestratorStarted:true", "executionSuspended:true", "orchestratorStarted:false", "executionResumed:false", "taskCompleted:false", "eventRaised:false",
  ]);
  expect(kinds(replayEvents([started, suspended, done, resumed], [started]))).toEqual([
    "orchestratorStarted:true", "executionSuspended:true", "executionResumed:true", "taskCompleted:true", "orchestratorStarted:false",
  ]);
});

test("fromJsonEvent inverts toJsonEvent for the Durable Task Framework event types", () => {
  const events: HistoryEvent[] = [
    e({ orchestratorStarted: {} }),
    e({ executionStarted: { name: "O", input: str("1"), orchestrationInstance: { instanceId: "i", executionId: str("x") } } }),
    e({ taskScheduled: { name: "A", input: str('"a"') } }, 0),
    e({ taskCompleted: { taskScheduledId: 0, result: str('"r"') } }),
    e({ taskFailed: { taskScheduledId: 0, failureDetails: { errorType: "E", errorMessage: "m", isNonRetriable: false } } }),
    e({ timerCreated: { fireAt: toTimestamp(T) } }, 1),
    e({ timerFired: { timerId: 1, fireAt: toTimestamp(T) } }),
    e({ subOrchestrationInstanceCreated: { name: "S", instanceId: "c", input: str("2") } }, 2),
    e({ subOrchestrationInstanceCompleted: { taskScheduledId: 2, result: str("3") } }),
    e({ eventRaised: { name: "Go", input: str("4") } }),
    e({ eventSent: { instanceId: "o", name: "n", input: str("5") } }, 3),
    e({ executionCompleted: { orchestrationStatus: 1, result: str("6") } }),
    e({ executionTerminated: { input: str('"bye"') } }),
    e({ executionSuspended: { input: str("s") } }),
    e({ executionResumed: { input: str("r") } }),
  ];
  for (const original of events) {
    const back = fromJsonEvent(toJsonEvent(original, true)!);
    expect(toJsonEvent(back, true)).toEqual(toJsonEvent(original, true));
  }
});
