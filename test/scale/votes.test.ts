// The vote rules (scale/votes.ts), one case per rule and the boundaries between them.
import { HubMetrics } from "../../scale/metrics";
import { scaleVote } from "../../scale/votes";
import { SampleWindow } from "../../scale/window";
import { repeat, sample } from "./fixtures";

const limits = { orchestrator: 10, activity: 10, entity: 10 };
const vote = (samples: HubMetrics[], size = 5) => scaleVote(samples, limits, size);

test("no samples yet: None, collecting", () => {
  expect(vote([])).toMatchObject({ vote: "None", rule: "collecting" });
});

test("pending work with no worker connected scales out at once, from one sample", () => {
  const v = vote([sample({ a: { pending: 1 } })]);
  expect(v).toMatchObject({ vote: "ScaleOut", rule: "no-workers" });
  expect(v.reason).toMatch(/1 work item\(s\) pending and no worker/);
  // Only the newest sample decides rule 1.
  expect(vote([sample({ a: { pending: 1 } }), sample()])).toMatchObject({ vote: "None", rule: "collecting" });
});

test("other rules wait for a full window", () => {
  expect(vote(repeat(4, sample({ o: { pending: 50 }, workers: 1 })))).toMatchObject({ vote: "None", rule: "collecting", reason: "collecting samples: 4 of 5" });
  expect(vote(repeat(4, sample({ workers: 1 })))).toMatchObject({ vote: "None", rule: "collecting" });
});

test("backlog: the target above the connected workers in every sample scales out", () => {
  const over = sample({ o: { pending: 23, active: 2 }, workers: 1 }); // target 3
  expect(vote(repeat(5, over))).toMatchObject({ vote: "ScaleOut", rule: "backlog" });
  // One sample where the workers sufficed breaks the streak.
  const enough = sample({ o: { pending: 5, active: 5 }, workers: 1 }); // target 1
  expect(vote([over, over, enough, over, over])).toMatchObject({ vote: "None", rule: "steady" });
  // Only the last `windowSize` samples count.
  expect(vote([enough, over, over, over, over, over])).toMatchObject({ vote: "ScaleOut", rule: "backlog" });
});

test("age: the oldest pending item's age rising at every sample scales out, even at the target", () => {
  const at = (age: number) => sample({ a: { pending: 3, active: 5, oldestAgeSeconds: age }, workers: 1 }); // target 1 = workers
  const v = vote([1, 2, 4, 7, 9].map(at));
  expect(v).toMatchObject({ vote: "ScaleOut", rule: "age" });
  expect(v.reason).toContain("1 < 2 < 4 < 7 < 9");
  expect(vote([1, 2, 2, 7, 9].map(at))).toMatchObject({ vote: "None", rule: "steady" }); // a flat step
  expect(vote([1, 2, 4, 0, 3].map(at))).toMatchObject({ vote: "None", rule: "steady" }); // drained once
  // The oldest age over all kinds counts.
  const mixed = [1, 2, 3, 4, 5].map((age, i) => sample({ o: { pending: 1, oldestAgeSeconds: i % 2 === 0 ? age : 0 }, e: { pending: 1, oldestAgeSeconds: age }, workers: 1 }));
  expect(vote(mixed)).toMatchObject({ vote: "ScaleOut", rule: "age" });
});

test("idle: no work in the whole window scales in when a worker is connected", () => {
  expect(vote(repeat(5, sample({ workers: 2 })))).toMatchObject({ vote: "ScaleIn", rule: "idle" });
  expect(vote(repeat(5, sample()))).toMatchObject({ vote: "None", rule: "idle" });
  // Any work in the window (active counts too) keeps it from being idle.
  const busy = sample({ e: { active: 1 }, workers: 2 });
  expect(vote([busy, ...repeat(4, sample({ workers: 2 }))])).toMatchObject({ vote: "ScaleIn", rule: "surplus" });
  const busyOne = sample({ e: { active: 1 }, workers: 1 });
  expect(vote([busyOne, ...repeat(4, sample({ workers: 1 }))])).toMatchObject({ vote: "None", rule: "steady" });
});

test("surplus: more workers than the target in every sample scales in", () => {
  const s = sample({ o: { pending: 15 }, workers: 3 }); // target 2
  expect(vote(repeat(5, s))).toMatchObject({ vote: "ScaleIn", rule: "surplus" });
  const exact = sample({ o: { pending: 15 }, workers: 2 });
  expect(vote([s, s, s, s, exact])).toMatchObject({ vote: "None", rule: "steady" });
});

test("a window of one sample votes on that sample alone", () => {
  expect(vote([sample({ o: { pending: 11 }, workers: 1 })], 1)).toMatchObject({ vote: "ScaleOut", rule: "backlog" });
  expect(vote([sample({ workers: 1 })], 1)).toMatchObject({ vote: "ScaleIn", rule: "idle" });
  expect(vote([sample({ o: { pending: 1, oldestAgeSeconds: 9 }, workers: 1 })], 1)).toMatchObject({ vote: "None", rule: "steady" });
});

test("bad window sizes are refused", () => {
  expect(() => vote([], 0)).toThrow(RangeError);
  expect(() => new SampleWindow(0)).toThrow(RangeError);
});

test("the sample window keeps the last N, oldest first, and can be cleared", () => {
  const w = new SampleWindow(3);
  for (let i = 1; i <= 5; i++) w.add(sample({ workers: i }));
  expect(w.samples().map((m) => m.connectedWorkers)).toEqual([3, 4, 5]);
  w.clear();
  expect(w.samples()).toEqual([]);
});
