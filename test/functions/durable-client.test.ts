// durable-functions' own DurableClient against the host's management API (its rpcBaseUrl calls): every
// client method, driven through a fixture app's HTTP function. The client rejects any status code or
// body it does not expect, so each call passing is the proof that the answers match what it accepts.
import * as path from "path";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { connectionString, FIXTURES, FuncHostProcess, http, HttpResult } from "../helpers/func-process";
import { startFuncHost } from "../helpers/func-process";
import { client } from "../helpers/sdk";

let dts: DtsProcess;
let host: FuncHostProcess;

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  host = await startFuncHost(path.join(FIXTURES, "client-app"), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
});
afterAll(async () => {
  const code = await host?.stop();
  await dts?.stop();
  expect(code).toBe(0);
});

function op(name: string, args: object = {}): Promise<HttpResult> {
  return http("POST", `${host.origin}/api/client/${name}`, args);
}

/** Calls getStatus through the client until `done` holds. */
function statusUntil(id: string, done: (s: { runtimeStatus: string }) => boolean) {
  return pollUntil<HttpResult["body"]>(async () => {
    const r = await op("getStatus", { id });
    expect(r.status).toBe(200);
    return r.body;
  }, done, `instance ${id}`);
}

test("startNew, getStatus (with history), raiseEvent, and raiseEvent to a finished instance", async () => {
  const started = await op("startNew", { id: "c-1", input: { n: 1 } });
  expect(started.body).toEqual({ id: "c-1" });
  const running = await statusUntil("c-1", (s) => s.runtimeStatus === "Running");
  expect(running).toMatchObject({ name: "Waiter", instanceId: "c-1", input: { n: 1 }, output: null });

  expect((await op("raiseEvent", { id: "c-1", data: { x: 42 } })).body).toEqual({ ok: true });
  const done = await statusUntil("c-1", (s) => s.runtimeStatus === "Completed");
  expect(done.output).toEqual({ got: { x: 42 }, input: { n: 1 } });

  const withHistory = await op("getStatus", { id: "c-1", showHistory: true });
  expect(withHistory.body.history.map((e: { EventType: string }) => e.EventType)).toEqual(["ExecutionStarted", "EventRaised", "ExecutionCompleted"]);

  // 410 Gone is success for raiseEvent (the instance is done); 404 is an error naming the id.
  expect((await op("raiseEvent", { id: "c-1", data: 1 })).body).toEqual({ ok: true });
  const missing = await op("raiseEvent", { id: "nope", data: 1 });
  expect(missing.status).toBe(500);
  expect(missing.body.error).toBe("No instance with ID 'nope' found.");
  const unknownStatus = await op("getStatus", { id: "nope" });
  expect(unknownStatus.body.error).toMatch(/replied with HTTP 404/);
});

test("suspend, resume, terminate; terminate of a finished instance is accepted (410)", async () => {
  await op("startNew", { id: "c-2" });
  await statusUntil("c-2", (s) => s.runtimeStatus === "Running");
  expect((await op("suspend", { id: "c-2" })).body).toEqual({ ok: true });
  await statusUntil("c-2", (s) => s.runtimeStatus === "Suspended");
  expect((await op("resume", { id: "c-2" })).body).toEqual({ ok: true });
  await statusUntil("c-2", (s) => s.runtimeStatus === "Running");
  expect((await op("terminate", { id: "c-2", reason: "enough" })).body).toEqual({ ok: true });
  const s = await statusUntil("c-2", (x) => x.runtimeStatus === "Terminated");
  expect(s.output).toBe("enough");
  expect((await op("terminate", { id: "c-2" })).body).toEqual({ ok: true });
  expect((await op("terminate", { id: "nope" })).body.error).toBe("No instance with ID 'nope' found.");
});

test("rewind a failed instance; rewinding a running one is refused", async () => {
  await op("startNew", { id: "c-3" });
  await statusUntil("c-3", (s) => s.runtimeStatus === "Running");
  const notFailed = await op("rewind", { id: "c-3" });
  expect(notFailed.status).toBe(500);
  expect(notFailed.body.error).toMatch(/Failed/);
  await op("raiseEvent", { id: "c-3", data: { fail: true } });
  const failed = await statusUntil("c-3", (s) => s.runtimeStatus === "Failed");
  expect(JSON.stringify(failed.output)).toContain("asked to fail");
  // The orchestrator's error type and stack reach the failure details the SDK client reads.
  const sdk = client(dts.address);
  try {
    const state = await sdk.getOrchestrationState("c-3");
    expect(state?.failureDetails?.errorType).toBe("RangeError");
    expect(state?.failureDetails?.message).toContain("asked to fail");
    expect(state?.failureDetails?.stackTrace).toMatch(/^RangeError: asked to fail\n\s+at [\s\S]*client-app[\\/]index\.js/);
  } finally {
    await sdk.stop();
  }
  // And the HTTP status API: the message as the output, type and stack in the history's ExecutionCompleted.
  const status = await http("GET", `${host.origin}/runtime/webhooks/durabletask/instances/c-3?showHistory=true`);
  expect(status.body.runtimeStatus).toBe("Failed");
  expect(status.body.output).toContain("asked to fail");
  const completed = (status.body.historyEvents as { EventType: string; FailureDetails?: Record<string, unknown> }[]).find((e) => e.EventType === "ExecutionCompleted");
  expect(completed?.FailureDetails).toMatchObject({ ErrorType: "RangeError", ErrorMessage: expect.stringContaining("asked to fail") });
  expect(completed?.FailureDetails?.StackTrace).toMatch(/^RangeError: asked to fail\n\s+at [\s\S]*client-app[\\/]index\.js/);
  // Rewinding replays the failed episode: the event is still { fail: true }, so it fails again, but
  // the rewind itself is accepted (202) and the instance runs again.
  expect((await op("rewind", { id: "c-3" })).body).toEqual({ ok: true });
});

test("getStatusBy, getStatusAll, purge one and purge by filter", async () => {
  const from = new Date(Date.now() - 1000).toISOString();
  for (const id of ["q-1", "q-2"]) {
    await op("startNew", { id });
    await statusUntil(id, (s) => s.runtimeStatus === "Running");
    await op("terminate", { id });
    await statusUntil(id, (s) => s.runtimeStatus === "Terminated");
  }
  const by = await op("getStatusBy", { statuses: ["Terminated"], from });
  expect(by.status).toBe(200);
  expect(by.body.map((s: { instanceId: string }) => s.instanceId)).toEqual(expect.arrayContaining(["q-1", "q-2"]));
  const all = await op("getStatusAll");
  expect(all.body.map((s: { instanceId: string }) => s.instanceId)).toEqual(expect.arrayContaining(["c-1", "q-1", "q-2"]));

  expect((await op("purge", { id: "q-1" })).body).toEqual({ instancesDeleted: 1 });
  // The client turns 404 into zero deleted.
  expect((await op("purge", { id: "q-1" })).body).toEqual({ instancesDeleted: 0 });
  const many = await op("purgeBy", { from, statuses: ["Terminated"] });
  expect(many.body.instancesDeleted).toBeGreaterThanOrEqual(1);
  expect((await op("purgeBy", { from, statuses: ["Terminated"] })).body).toEqual({ instancesDeleted: 0 });
});

test("signalEntity and readEntityState", async () => {
  expect((await op("read", { key: "k1" })).body).toEqual({ entityExists: false });
  expect((await op("signal", { key: "k1", value: { a: [1, 2] } })).body).toEqual({ ok: true });
  const r = await pollUntil(() => op("read", { key: "k1" }), (read) => read.body.entityExists, "the signal to be applied");
  expect(r.body).toEqual({ entityExists: true, entityState: { a: [1, 2] } });
});

test("waitForCompletionOrCreateCheckStatusResponse and createHttpManagementPayload", async () => {
  await op("startNew", { id: "c-4" });
  await statusUntil("c-4", (s) => s.runtimeStatus === "Running");
  const pending = await op("waitOrCheck", { id: "c-4", timeoutMs: 200 });
  expect(pending.status).toBe(202);
  expect(pending.body.statusQueryGetUri).toBe(`${host.origin}/runtime/webhooks/durabletask/instances/c-4?taskHub=default&connection=DURABLE_TASK_SCHEDULER_CONNECTION_STRING`);
  await op("raiseEvent", { id: "c-4", data: "go" });
  const done = await op("waitOrCheck", { id: "c-4", timeoutMs: 10_000 });
  expect(done.status).toBe(200);
  // startNew without an input posts "" (axios JSON-encodes the empty string), so the input is "",
  // exactly as with the Functions host.
  expect(done.body).toEqual({ got: "go", input: "" });

  const payload = (await op("payload", { id: "c-4" })).body;
  expect(payload.id).toBe("c-4");
  // The management URLs work as given.
  expect((await http("GET", payload.statusQueryGetUri)).body.runtimeStatus).toBe("Completed");
});
