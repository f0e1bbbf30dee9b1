import { isTaskResult, resultsDueAt, taskBalance } from "../../src/core/result-batching";
import { HistoryEvent } from "../../src/core/model";

const scheduled = (id: number): HistoryEvent => ({ eventId: id, taskScheduled: { name: "A" } });
const sub = (id: number): HistoryEvent => ({ eventId: id, subOrchestrationInstanceCreated: { name: "C", instanceId: "c" } });
const done = (id: number): HistoryEvent => ({ eventId: -1, taskCompleted: { taskScheduledId: id } });
const failed = (id: number): HistoryEvent => ({ eventId: -1, taskFailed: { taskScheduledId: id } });
const subDone = (id: number): HistoryEvent => ({ eventId: -1, subOrchestrationInstanceCompleted: { taskScheduledId: id } });

test("task results are activity and sub-orchestration outcomes, nothing else", () => {
  expect([done(0), failed(0), subDone(0), { eventId: -1, subOrchestrationInstanceFailed: { taskScheduledId: 0 } }].every(isTaskResult)).toBe(true);
  expect(isTaskResult({ eventId: -1, eventRaised: { name: "go" } })).toBe(false);
  expect(isTaskResult({ eventId: 3, timerFired: { timerId: 2 } })).toBe(false);
  expect(isTaskResult({ eventId: -1, executionTerminated: {} })).toBe(false);
});

test("open tasks are the activities and sub-orchestrations scheduled without a result in history", () => {
  expect(taskBalance([])).toBe(0);
  expect(taskBalance([scheduled(0), scheduled(1), sub(2), { eventId: 3, timerCreated: {} }])).toBe(3);
  expect(taskBalance([scheduled(0), scheduled(1), sub(2), done(1), subDone(2)])).toBe(1);
  expect(taskBalance([scheduled(0), failed(0)])).toBe(0);
  // A history that answers more than it asked (a rewound one) has a negative balance: none open.
  expect(taskBalance([done(0), done(1)])).toBe(-2);
  // Over a tail: what appending those events changed.
  expect(taskBalance([scheduled(0), scheduled(1), done(0)], 2)).toBe(-1);
});

test("results wait for the others up to factor times the last episode, capped, and not at all once all are in", () => {
  const T = 1_000_000;
  // 2 of 10 in, last episode 30 ms: the first waits 4 x 30 ms.
  expect(resultsDueAt(2, T, 10, 30, 4, 500)).toBe(T + 120);
  // A long replay: capped.
  expect(resultsDueAt(2, T, 10, 400, 4, 500)).toBe(T + 500);
  // Every open task has reported: no wait (a sequence, one task at a time, is never held).
  expect(resultsDueAt(1, T, 1, 400, 4, 500)).toBe(T);
  expect(resultsDueAt(10, T, 10, 400, 4, 500)).toBe(T);
  // Factor 0 turns batching off.
  expect(resultsDueAt(1, T, 10, 400, 0, 500)).toBe(T);
  // An episode measured at 0 ms counts as the clock's one.
  expect(resultsDueAt(1, T, 10, 0, 4, 500)).toBe(T + 4);
});
