// What an orchestration's history says it still waits for from entities.
import { openEntityRequests } from "../../src/core/events";
import { HistoryEvent } from "../../src/core/model";

const at = (eventId: number, fields: Omit<HistoryEvent, "eventId" | "timestamp">): HistoryEvent => ({ eventId, ...fields }) as HistoryEvent;

test("entity calls without an answer and lock requests not yet granted are open; answered and granted ones are not", () => {
  const history = [
    at(0, { entityOperationCalled: { requestId: "r1", operation: "add", targetInstanceId: { value: "@counter@a" } } }),
    at(1, { entityOperationCalled: { requestId: "r2", operation: "get", targetInstanceId: { value: "@counter@b" } } }),
    at(2, { entityOperationCalled: { requestId: "r3", operation: "boom", targetInstanceId: { value: "@counter@c" } } }),
    at(3, { entityLockRequested: { criticalSectionId: "cs1", lockSet: ["@counter@a", "@counter@b"], position: 0 } }),
    at(4, { entityLockRequested: { criticalSectionId: "cs2", lockSet: ["@counter@d"], position: 0 } }),
    at(-1, { entityOperationCompleted: { requestId: "r1", output: { value: "1" } } }),
    at(-1, { entityOperationFailed: { requestId: "r3", failureDetails: { errorType: "E", errorMessage: "m" } } }),
    at(-1, { entityLockGranted: { criticalSectionId: "cs1" } }),
  ];
  expect(openEntityRequests(history)).toEqual({
    calls: [{ requestId: "r2", operation: "get", entity: "@counter@b" }],
    locks: [{ criticalSectionId: "cs2", entities: ["@counter@d"] }],
  });
  expect(openEntityRequests([])).toEqual({ calls: [], locks: [] });
});
