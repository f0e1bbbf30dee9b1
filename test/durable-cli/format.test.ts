// The pure parts of `dts durable`: text formatting and the gRPC status → exit code mapping.
import * as grpc from "@grpc/grpc-js";
import { EXIT, exitCodeForStatus } from "../../src/durable-cli/exit-codes";
import { formatHistory, formatInstances, formatStatus, inline, keyValues, statusJson, table } from "../../src/durable-cli/format";
import { StatusPayload } from "../../src/host/status-payload";

const status: StatusPayload = {
  name: "Hello", instanceId: "abc", runtimeStatus: "Completed", input: { city: "Oslo" }, customStatus: null,
  output: "Hello, Oslo!", createdTime: "2024-05-01T10:00:00Z", lastUpdatedTime: "2024-05-01T10:00:01Z",
};

test("inline: strings as they are, other values as compact JSON, nothing as '-'", () => {
  expect(inline("a b")).toBe("a b");
  expect(inline({ a: [1, 2] })).toBe('{"a":[1,2]}');
  expect(inline(null)).toBe("-");
  expect(inline(undefined)).toBe("-");
  expect(inline(0)).toBe("0");
});

test("table and keyValues align their columns; multi-line cells become one line", () => {
  expect(table(["A", "LONGER"], [["xyz", 1], ["q", "two\n  lines"]])).toBe("A    LONGER\nxyz  1\nq    two lines\n");
  expect(keyValues([["Id", "x"], ["Status", "Running"]])).toBe("Id:      x\nStatus:  Running\n");
});

test("status: input and output only when asked for, in text and JSON", () => {
  expect(statusJson(status, { showInput: false, showOutput: true })).toEqual({ ...status, input: null });
  const text = formatStatus(status, { showInput: true, showOutput: false });
  expect(text).toContain('Input:           {"city":"Oslo"}\n');
  expect(text).not.toContain("Output");
  expect(text).toContain("Custom status:   -\n");
});

test("instances: a table, the continuation token to pass next, or a line saying none match", () => {
  const text = formatInstances([status], "tok-1", false);
  expect(text.split("\n")[0]).toBe("INSTANCE ID  NAME   STATUS     CREATED               LAST UPDATED");
  expect(text).toContain("More instances: pass --continuation-token tok-1\n");
  expect(formatInstances([], null, false)).toBe("No instances match.\n");
});

test("history: one row per event with what it is about", () => {
  const text = formatHistory([
    { EventType: "TaskCompleted", EventId: -1, Timestamp: "t", FunctionName: "Hello", ScheduledTime: "s", Result: "hi" },
    { EventType: "EventRaised", EventId: -1, Timestamp: "t", Name: "Approval", Input: { ok: true } },
  ]);
  expect(text).toMatch(/TaskCompleted\s+t\s+FunctionName=Hello Result=hi\n/);
  expect(text).toMatch(/EventRaised\s+t\s+Name=Approval Input=\{"ok":true\}\n/);
  expect(formatHistory([])).toBe("No history events.\n");
});

test("exit codes: not found 3, bad argument 2, unreachable 4, refusals 5, the rest 1", () => {
  expect(exitCodeForStatus(grpc.status.NOT_FOUND)).toBe(EXIT.notFound);
  expect(exitCodeForStatus(grpc.status.INVALID_ARGUMENT)).toBe(EXIT.usage);
  expect(exitCodeForStatus(grpc.status.UNAVAILABLE)).toBe(EXIT.unreachable);
  expect(exitCodeForStatus(grpc.status.DEADLINE_EXCEEDED)).toBe(EXIT.unreachable);
  for (const s of [grpc.status.FAILED_PRECONDITION, grpc.status.ALREADY_EXISTS, grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.RESOURCE_EXHAUSTED]) {
    expect(exitCodeForStatus(s)).toBe(EXIT.refused);
  }
  expect(exitCodeForStatus(grpc.status.INTERNAL)).toBe(EXIT.failed);
});
