import { SchedulerError } from "../../src/core/errors";
import { checkInstanceId, checkPayload, nulStringPath } from "../../src/core/limits";

describe("instance id rules", () => {
  test.each([["a"], ["x".repeat(100)], ["order 42/ok~"]])("accepts %p", (id) => expect(checkInstanceId(id)).toBe(id));
  test.each([
    ["", /must not be empty/],
    ["x".repeat(101), /101 characters long; the limit is 100/],
    ["tab\there", /printable ASCII/],
    ["é", /printable ASCII/],
    ["@counter@1", /must not start with '@'/],
  ])("rejects %p", (id, message) => {
    expect(() => checkInstanceId(id)).toThrow(message);
    try { checkInstanceId(id); } catch (e) { expect((e as SchedulerError).code).toBe("INVALID_ARGUMENT"); }
  });
});

describe("payload limits", () => {
  test("counts UTF-8 bytes and names the field and limit", () => {
    expect(() => checkPayload("é".repeat(6), "input", 12)).not.toThrow();
    expect(() => checkPayload("é".repeat(7), "input", 12)).toThrow("input is 14 bytes; the limit is 12 bytes");
    try { checkPayload("xx", "input", 1); } catch (e) { expect((e as SchedulerError).code).toBe("RESOURCE_EXHAUSTED"); }
  });
});

describe("U+0000 in a request", () => {
  test("is found at any depth, by its path: fields, list items and map keys; bytes may hold anything", () => {
    expect(nulStringPath({ a: "x", b: [{ c: "y" }], d: new Uint8Array([0, 0]), e: 7, f: null })).toBeUndefined();
    expect(nulStringPath({ actions: [{ id: 1 }, { scheduleTask: { name: "a\u0000" } }] })).toBe("actions[1].scheduleTask.name");
    expect(nulStringPath({ tags: { ["k\u0000"]: "v" } })).toBe("a key of tags");
    expect(nulStringPath("\u0000")).toBe("the request");
  });

  test("a payload holding it is refused with INVALID_ARGUMENT naming the field", () => {
    expect(() => checkPayload("a\u0000", "customStatus", 100)).toThrow("customStatus holds the character U+0000 (NUL), which the scheduler does not keep");
    try { checkPayload("\u0000", "input", 100); } catch (e) { expect((e as SchedulerError).code).toBe("INVALID_ARGUMENT"); }
  });
});
