// Work-item filter matching: what a worker's GetWorkItemsRequest.workItemFilters lets it receive.
import { SchedulerError } from "../../src/core/errors";
import { accepts, describeFilter, workFilter } from "../../src/core/work-filters";

describe("workFilter", () => {
  test("no filter, or one naming nothing, means everything", () => {
    expect(workFilter(undefined)).toBeUndefined();
    expect(workFilter(null)).toBeUndefined();
    expect(workFilter({ orchestrations: [], activities: [], entities: [] })).toBeUndefined();
    for (const f of [undefined, workFilter({})]) {
      expect(accepts(f, "orchestration", "Anything", "9")).toBe(true);
      expect(accepts(f, "activity", "Any")).toBe(true);
      expect(accepts(f, "entity", "counter")).toBe(true);
    }
  });

  test("an entry without a name is refused, naming the entry", () => {
    expect(() => workFilter({ orchestrations: [{ name: "A" }], activities: [{ name: "B" }, { name: "" }] })).toThrow(/workItemFilters\.activities\[1\]\.name must not be empty/);
    try {
      workFilter({ entities: [{}] });
    } catch (e) {
      expect((e as SchedulerError).code).toBe("INVALID_ARGUMENT");
    }
    expect.assertions(2);
  });

  test("names what the worker runs, per kind; a kind it lists nothing for is not its work", () => {
    const f = workFilter({ orchestrations: [{ name: "Billing" }], activities: [{ name: "Charge" }] });
    expect(accepts(f, "orchestration", "Billing")).toBe(true);
    expect(accepts(f, "orchestration", "Shipping")).toBe(false);
    expect(accepts(f, "activity", "Charge")).toBe(true);
    expect(accepts(f, "activity", "Billing")).toBe(false);
    expect(accepts(f, "entity", "counter")).toBe(false);
  });

  test("an empty version list accepts every version; a list accepts those versions only", () => {
    const f = workFilter({ orchestrations: [{ name: "Any", versions: [] }, { name: "Pinned", versions: ["1.0", "2.0"] }, { name: "Unversioned", versions: [""] }] });
    expect(accepts(f, "orchestration", "Any", "7")).toBe(true);
    expect(accepts(f, "orchestration", "Any", undefined)).toBe(true);
    expect(accepts(f, "orchestration", "Pinned", "2.0")).toBe(true);
    expect(accepts(f, "orchestration", "Pinned", "3.0")).toBe(false);
    expect(accepts(f, "orchestration", "Pinned", undefined)).toBe(false);
    expect(accepts(f, "orchestration", "Unversioned", undefined)).toBe(true);
    expect(accepts(f, "orchestration", "Unversioned", "1.0")).toBe(false);
  });

  test("activity versions filter like orchestration versions", () => {
    const f = workFilter({ activities: [{ name: "Charge", versions: ["2"] }] });
    expect(accepts(f, "activity", "Charge", "2")).toBe(true);
    expect(accepts(f, "activity", "Charge", "1")).toBe(false);
  });

  test("names and versions compare case-insensitively; entities by name only", () => {
    const f = workFilter({ orchestrations: [{ name: "Billing", versions: ["V1"] }], entities: [{ name: "Counter" }] });
    expect(accepts(f, "orchestration", "billing", "v1")).toBe(true);
    expect(accepts(f, "entity", "counter")).toBe(true);
    expect(accepts(f, "entity", "COUNTER", "whatever")).toBe(true);
  });

  test("the same name twice: versions add up, and any-version wins", () => {
    const f = workFilter({ orchestrations: [{ name: "A", versions: ["1"] }, { name: "a", versions: ["2"] }, { name: "B", versions: [] }, { name: "B", versions: ["1"] }] });
    expect(accepts(f, "orchestration", "A", "1")).toBe(true);
    expect(accepts(f, "orchestration", "A", "2")).toBe(true);
    expect(accepts(f, "orchestration", "A", "3")).toBe(false);
    expect(accepts(f, "orchestration", "B", "5")).toBe(true);
    expect(describeFilter(f)).toEqual({ orchestration: ["a@1|2", "b"], activity: [], entity: [] });
  });
});
