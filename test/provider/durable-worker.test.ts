// Tests of the durable work-item loop. Its flow control and failure handling are observed through an
// in-process BackendService server that hands out items and records completions and abandons (the
// real scheduler does its own flow control, which would hide the worker's); the start-up check runs
// against the real scheduler.
import * as grpc from "@grpc/grpc-js";
import { event, str } from "../../src/core/events";
import { parseConnectionString } from "../../src/provider/connection-string";
import { ProviderConfig } from "../../src/provider/config";
import { startDurableWorker } from "../../src/provider/durable-worker";
import { pb } from "../../src/proto";
import { backendDefinition } from "../../src/proto/services";
import { startDts } from "../helpers/dts-process";
import { untilTrue } from "../helpers/poll";
import { TestApp } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
let server: grpc.Server;
let port: number;
const calls: { method: string; request: any; metadata: grpc.Metadata }[] = [];
let stream: grpc.ServerWritableStream<any, any> | undefined;
let completeError: grpc.ServiceError | undefined;

const record = (method: string) => (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
  calls.push({ method, request: call.request, metadata: call.metadata });
  if (method.startsWith("Complete") && completeError) cb(completeError);
  else cb(null, {});
};

beforeAll(async () => {
  server = new grpc.Server();
  const methods = ["Ping", "CompleteActivityWorkItem", "CompleteOrchestrationWorkItem", "CompleteEntityWorkItem", "AbandonActivityWorkItem",
    "AbandonOrchestrationWorkItem", "AbandonEntityWorkItem", "BeginWorkerDrain"];
  server.addService(backendDefinition, {
    ...Object.fromEntries(methods.map((m) => [m, record(m)])),
    GetWorkItems: (call: grpc.ServerWritableStream<any, any>) => {
      calls.push({ method: "GetWorkItems", request: call.request, metadata: call.metadata });
      stream = call;
    },
  });
  port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
});

afterAll(() => server.forceShutdown());

function config(limits: Partial<ProviderConfig> = {}, endpoint = `http://127.0.0.1:${port}`, hubName = "hub-w"): ProviderConfig {
  return {
    appDir: "/app", hubName, connectionStringName: "C", settings: {}, warnings: ["a warning from the config"],
    connection: parseConnectionString(`Endpoint=${endpoint};Authentication=None`),
    maxConcurrentOrchestratorFunctions: 10, maxConcurrentActivityFunctions: 2, maxConcurrentEntityFunctions: 10, httpAsyncSleepMs: 30_000, ...limits,
  };
}

const until = (probe: () => boolean, what: string) => untilTrue(probe, what, 5000);

const activityItem = (n: number, name = "Slow"): pb.IWorkItem => ({
  completionToken: `a${n}`, activityRequest: { name, taskId: n, input: str(String(n)), orchestrationInstance: { instanceId: "o", executionId: str("x") } },
});

test("asks for host.json's limits, runs at most that many invocations at once, ignores health pings, logs each one", async () => {
  let running = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const app = new TestApp().activity("Slow", async (n: number) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    return n * 10;
  });
  const lines: string[] = [];
  calls.length = 0;
  const worker = await startDurableWorker(app, config({ maxConcurrentOrchestratorFunctions: 3, maxConcurrentActivityFunctions: 2, maxConcurrentEntityFunctions: 1 }), { log: (l) => lines.push(l) });
  await until(() => !!stream && calls.some((c) => c.method === "GetWorkItems"), "the stream");
  const get = calls.find((c) => c.method === "GetWorkItems")!;
  expect(get.request).toMatchObject({ maxConcurrentOrchestrationWorkItems: 3, maxConcurrentActivityWorkItems: 2, maxConcurrentEntityWorkItems: 1 });
  expect(get.metadata.get("taskhub")).toEqual(["hub-w"]);
  expect(lines[0]).toBe("[durable] a warning from the config");

  stream!.write({ healthPing: {} });
  for (let n = 1; n <= 5; n++) stream!.write(activityItem(n));
  await until(() => gates.length === 2, "two running");
  await new Promise((r) => setTimeout(r, 50));
  expect(running).toBe(2);
  while (calls.filter((c) => c.method === "CompleteActivityWorkItem").length < 5) {
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(peak).toBe(2);
  const completions = calls.filter((c) => c.method === "CompleteActivityWorkItem").map((c) => [c.request.completionToken, c.request.responseEvent.taskCompleted.result.value]);
  expect(completions.sort()).toEqual([["a1", "10"], ["a2", "20"], ["a3", "30"], ["a4", "40"], ["a5", "50"]]);
  // Each line is logged once the completion call has returned, which can be after the server saw the call.
  const succeeded = () => lines.filter((l) => /activity 'Slow' \(instance 'o', task \d\): succeeded in \d+ ms/.test(l));
  await until(() => succeeded().length >= 5, "five log lines");
  expect(succeeded()).toHaveLength(5);
  await worker.stop();
});

test("an item that cannot be processed is abandoned with the reason logged; the loop goes on", async () => {
  const app = new TestApp().activity("Fine", () => "ok");
  const lines: string[] = [];
  calls.length = 0;
  stream = undefined;
  const worker = await startDurableWorker(app, config(), { log: (l) => lines.push(l) });
  await until(() => !!stream, "the stream");
  // An entity id that is not one, and an orchestration without ExecutionStarted: neither can run.
  stream!.write({ completionToken: "e1", entityRequestV2: { instanceId: "not-an-entity", operationRequests: [] } });
  stream!.write({ completionToken: "o1", orchestratorRequest: { instanceId: "o1", newEvents: [event(0, { orchestratorStarted: {} })] } });
  stream!.write(activityItem(7, "Fine"));
  await until(() => calls.some((c) => c.method === "CompleteActivityWorkItem") && calls.filter((c) => c.method.startsWith("Abandon")).length === 2, "abandons and the completion");
  expect(calls.find((c) => c.method === "AbandonEntityWorkItem")!.request).toEqual({ completionToken: "e1", reason: "'not-an-entity' is not an entity id (expected '@name@key')" });
  expect(calls.find((c) => c.method === "AbandonOrchestrationWorkItem")!.request).toEqual({ completionToken: "o1" });
  expect(lines.some((l) => l.includes("entity 'not-an-entity': abandoned after") && l.includes("is not an entity id"))).toBe(true);
  expect(lines.some((l) => /orchestrator '\?' \(instance 'o1'\): abandoned after \d+ ms: Orchestration 'o1' has no ExecutionStarted event/.test(l))).toBe(true);
  await worker.stop();
});

test("a completion refused as stale (NOT_FOUND) is logged and not abandoned", async () => {
  const app = new TestApp().activity("Fine", () => "ok");
  const lines: string[] = [];
  calls.length = 0;
  stream = undefined;
  completeError = { code: grpc.status.NOT_FOUND, details: "The activity work item's completion token is unknown or expired" } as grpc.ServiceError;
  try {
    const worker = await startDurableWorker(app, config(), { log: (l) => lines.push(l) });
    await until(() => !!stream, "the stream");
    stream!.write(activityItem(1, "Fine"));
    await until(() => lines.some((l) => l.includes("result not accepted")), "the log line");
    expect(calls.filter((c) => c.method.startsWith("Abandon"))).toEqual([]);
    await worker.stop();
  } finally {
    completeError = undefined;
  }
});

test("stop() asks the scheduler to drain this worker, waits for running invocations, then hangs up", async () => {
  let release!: () => void;
  const app = new TestApp().activity("Slow", () => new Promise((resolve) => (release = () => resolve("late"))));
  calls.length = 0;
  stream = undefined;
  const worker = await startDurableWorker(app, config(), { log: () => undefined });
  await until(() => !!stream, "the stream");
  const open = stream!;
  stream!.write(activityItem(1));
  await until(() => release !== undefined, "the invocation");
  let stopped = false;
  const stopping = worker.stop().then(() => (stopped = true));
  await until(() => calls.some((c) => c.method === "BeginWorkerDrain"), "the drain request");
  expect(calls.find((c) => c.method === "BeginWorkerDrain")!.metadata.get("workerid")).toHaveLength(1);
  await new Promise((r) => setTimeout(r, 50));
  expect(stopped).toBe(false);
  release();
  await stopping;
  expect(calls.find((c) => c.method === "CompleteActivityWorkItem")!.request.responseEvent.taskCompleted.result.value).toBe('"late"');
  await until(() => open.cancelled, "the stream to close");
});

test("a wrong task hub stops the start with a message naming the scheduler and the hub", async () => {
  const dts = await startDts(["--store", "memory"]);
  try {
    await expect(startDurableWorker(new TestApp(), config({}, `http://localhost:${dts.port}`, "no-such-hub"), { log: () => undefined }))
      .rejects.toThrow(`Cannot use the Durable Task Scheduler at http://localhost:${dts.port} (task hub 'no-such-hub'): Task hub not found: no-such-hub`);
  } finally {
    await dts.stop();
  }
});

test("an unreachable scheduler only warns at start: the stream keeps trying", async () => {
  const lines: string[] = [];
  const worker = await startDurableWorker(new TestApp(), config({}, "http://127.0.0.1:1"), {
    log: (l) => lines.push(l), client: { retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 5 }, reconnect: { initialDelayMs: 20, maxDelayMs: 40 } },
  });
  expect(lines.some((l) => l.includes("is not reachable yet") && l.includes("will keep trying"))).toBe(true);
  await until(() => lines.some((l) => l.includes("work item stream lost")), "a reconnect attempt");
  await worker.stop();
});
