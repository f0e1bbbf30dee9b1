import { SchedulerError } from "../../src/core/errors";
import { checkInstanceId, checkPayload } from "../../src/core/limits";

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
