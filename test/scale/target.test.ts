// targetWorkers: max over kinds of ceil((pending + active) / limit), 0 with nothing to do.
import { DEFAULT_LIMITS } from "../../scale/limits";
import { targetWorkers, workersPerKind } from "../../scale/target";
import { sample } from "./fixtures";

const limits = { orchestrator: 10, activity: 5, entity: 2 };

test("nothing pending or active needs no worker, whatever is connected", () => {
  expect(targetWorkers(sample(), DEFAULT_LIMITS)).toBe(0);
  expect(targetWorkers(sample({ workers: 7 }), DEFAULT_LIMITS)).toBe(0);
});

test("one item needs one worker; a full worker's worth still one; one more needs two", () => {
  expect(targetWorkers(sample({ o: { pending: 1 } }), limits)).toBe(1);
  expect(targetWorkers(sample({ o: { pending: 6, active: 4 } }), limits)).toBe(1);
  expect(targetWorkers(sample({ o: { pending: 7, active: 4 } }), limits)).toBe(2);
});

test("pending and active both count; the kind that needs most wins", () => {
  const m = sample({ o: { pending: 25 }, a: { pending: 3, active: 9 }, e: { active: 9 } });
  expect(workersPerKind(m, limits)).toEqual({ orchestrator: 3, activity: 3, entity: 5 });
  expect(targetWorkers(m, limits)).toBe(5);
});

test("each kind divides by its own limit (defaults: 10 each)", () => {
  expect(targetWorkers(sample({ a: { pending: 11 } }), DEFAULT_LIMITS)).toBe(2);
  expect(targetWorkers(sample({ a: { pending: 11 } }), { ...DEFAULT_LIMITS, activity: 1 })).toBe(11);
  expect(targetWorkers(sample({ e: { pending: 101 } }), DEFAULT_LIMITS)).toBe(11);
});
