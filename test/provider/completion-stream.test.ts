// The completion stream (dts.v1.CompletionStream): the scheduler offers it on its GetWorkItems
// headers and acknowledges each completion after its commit, refusals with the unary call's status;
// the provider's worker uses it when offered, and whatever a lost stream did not acknowledge goes by
// the standard unary RPC. A scheduler that does not offer it keeps getting unary calls
// (durable-worker.test.ts).
import * as grpc from "@grpc/grpc-js";
import { OrchestrationStatus } from "@microsoft/durabletask-js";
import { event, str } from "../../src/core/events";
import { ProviderConfig } from "../../src/provider/config";
import { parseConnectionString } from "../../src/provider/connection-string";
import { startDurableWorker } from "../../src/provider/durable-worker";
import { pb } from "../../src/proto";
import { CAPABILITIES_HEADER, COMPLETION_STREAM } from "../../src/proto/capabilities";
import { backendDefinition, completionStreamDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { scrape, value } from "../helpers/prometheus";
import { client, completed } from "../helpers/sdk";
import { TestApp } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Ack = pb.dts.v1.IWorkItemCompletionAck;

function config(endpoint: string): ProviderConfig {
  return {
    appDir: "/app", hubName: "default", connectionStringName: "C", settings: {}, warnings: [],
    connection: parseConnectionString(`Endpoint=${endpoint};Authentication=None`),
    maxConcurrentOrchestratorFunctions: 10, maxConcurrentActivityFunctions: 10, maxConcurrentEntityFunctions: 10, httpAsyncSleepMs: 30_000,
  };
}

async function until(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const metadata = (hub = "default") => {
  const md = new grpc.Metadata();
  md.set("taskhub", hub);
  return md;
};

describe("on the real scheduler", () => {
  let dts: DtsProcess;
  beforeAll(async () => {
    dts = await startDts([]);
  });
  afterAll(async () => {
    await dts?.stop();
  });

  test("GetWorkItems headers offer the stream; refusals come back with the unary call's status, paired by id", async () => {
    const Ctor = grpc.makeGenericClientConstructor({ ...backendDefinition, ...completionStreamDefinition }, "Raw");
    const raw = new Ctor(dts.address, grpc.credentials.createInsecure()) as any;
    try {
      const items = raw.GetWorkItems({}, metadata());
      const headers = await new Promise<grpc.Metadata>((resolve) => items.on("metadata", resolve));
      items.on("error", () => undefined);
      items.cancel();
      expect(headers.get(CAPABILITIES_HEADER)).toEqual([COMPLETION_STREAM]);

      const call = raw.CompleteWorkItems(metadata());
      const acks: Ack[] = [];
      call.on("data", (m: pb.dts.v1.IWorkItemCompletionAcks) => acks.push(...(m.acks ?? [])));
      const ended = new Promise<void>((resolve) => call.on("end", resolve));
      call.write({ id: 7, activity: { completionToken: "no-such-token", responseEvent: event(Date.now(), { taskCompleted: { taskScheduledId: 0, result: str("1") } }) } });
      call.write({ id: 8 });
      call.end();
      await ended; // the scheduler ends its side once every completion it got is answered
      const byId = new Map(acks.map((a) => [a.id, a]));
      expect(byId.get(7)).toMatchObject({ code: grpc.status.NOT_FOUND });
      expect(byId.get(7)!.details).toMatch(/token/i);
      expect(byId.get(8)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: "a WorkItemCompletion must carry an orchestration, activity or entity completion" });
      expect(acks).toHaveLength(2);
    } finally {
      raw.close();
    }
  });

  test("a task hub that does not exist ends the stream with NOT_FOUND", async () => {
    const Ctor = grpc.makeGenericClientConstructor(completionStreamDefinition, "Raw");
    const raw = new Ctor(dts.address, grpc.credentials.createInsecure()) as any;
    try {
      const call = raw.CompleteWorkItems(metadata("no-such-hub"));
      const err = await new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
      expect(err.code).toBe(grpc.status.NOT_FOUND);
      expect(err.details).toMatch(/no-such-hub/);
    } finally {
      raw.close();
    }
  });

  test("the provider's worker completes every work item over the stream, none by unary call", async () => {
    const app = new TestApp()
      .orchestration("Greetings", function* (ctx: any) {
        const a = yield ctx.df.callActivity("Greet", "Tokyo");
        const b = yield ctx.df.callActivity("Greet", "Lima");
        return [a, b];
      })
      .activity("Greet", (name: string) => `Hello, ${name}!`);
    const worker = await startDurableWorker(app, config(`http://${dts.address}`), { log: () => undefined });
    const c = client(dts.address);
    try {
      const id = await c.scheduleNewOrchestration("Greetings");
      const s = await completed(c, id);
      expect(s.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
      expect(JSON.parse(s.serializedOutput!)).toEqual(["Hello, Tokyo!", "Hello, Lima!"]);
    } finally {
      await c.stop();
      await worker.stop();
    }
    // A stream is counted when it ends: the worker's ended with its stop.
    const calls = (await scrape(dts.dashboardPort)).get("dts_grpc_calls_total");
    expect(Number(value(calls, { service: "CompletionStream", method: "CompleteWorkItems" }) ?? 0)).toBeGreaterThanOrEqual(1);
    for (const method of ["CompleteOrchestrationWorkItem", "CompleteActivityWorkItem"]) expect(value(calls, { method, code: "OK" })).toBeUndefined();
  });
});

describe("against a scheduler that offers the stream and misbehaves", () => {
  let server: grpc.Server;
  let port: number;
  let items: grpc.ServerWritableStream<any, any> | undefined;
  let completions: grpc.ServerDuplexStream<any, any> | undefined;
  const received: { via: string; request: any }[] = [];
  let answer: (call: grpc.ServerDuplexStream<any, any>, m: any) => void = () => undefined;

  beforeAll(async () => {
    server = new grpc.Server();
    const unary = (method: string) => (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      received.push({ via: method, request: call.request });
      cb(null, {});
    };
    server.addService(backendDefinition, {
      ...Object.fromEntries(["Ping", "CompleteActivityWorkItem", "AbandonActivityWorkItem", "BeginWorkerDrain"].map((m) => [m, unary(m)])),
      GetWorkItems: (call: grpc.ServerWritableStream<any, any>) => {
        const headers = new grpc.Metadata();
        headers.set(CAPABILITIES_HEADER, `something-else, ${COMPLETION_STREAM}`);
        call.sendMetadata(headers);
        items = call;
      },
    });
    server.addService(completionStreamDefinition, {
      CompleteWorkItems: (call: grpc.ServerDuplexStream<any, any>) => {
        completions = call;
        call.on("data", (m: any) => {
          received.push({ via: "stream", request: m });
          answer(call, m);
        });
      },
    });
    port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  });
  afterAll(() => server.forceShutdown());

  const activityItem = (n: number): pb.IWorkItem => ({
    completionToken: `a${n}`, activityRequest: { name: "Fine", taskId: n, input: str(String(n)), orchestrationInstance: { instanceId: "o", executionId: str("x") } },
  });

  async function withWorker(run: (lines: string[]) => Promise<void>): Promise<void> {
    received.length = 0;
    items = undefined;
    const lines: string[] = [];
    const worker = await startDurableWorker(new TestApp().activity("Fine", (n: number) => n * 10), config(`http://127.0.0.1:${port}`), { log: (l) => lines.push(l) });
    try {
      await until(() => !!items, "the work item stream");
      await run(lines);
    } finally {
      await worker.stop();
    }
  }

  test("a refusal acknowledged on the stream is logged as a stale result and not abandoned", async () => {
    answer = (call, m) => call.write({ acks: [{ id: m.id, code: grpc.status.NOT_FOUND, details: "The activity work item's completion token is unknown or expired" }] });
    await withWorker(async (lines) => {
      items!.write(activityItem(1));
      await until(() => lines.some((l) => l.includes("result not accepted")), "the log line");
      expect(received.map((r) => r.via)).toEqual(["Ping", "stream"]);
      expect(received[1].request.activity).toMatchObject({ completionToken: "a1", responseEvent: { taskCompleted: { taskScheduledId: 1, result: { value: "10" } } } });
    });
  });

  test("completions the stream did not acknowledge before it ended go by unary call; later ones open a new stream", async () => {
    answer = () => undefined; // never acknowledged
    await withWorker(async (lines) => {
      items!.write(activityItem(1));
      await until(() => received.some((r) => r.via === "stream"), "the completion on the stream");
      const first = completions!;
      first.emit("error", { code: grpc.status.UNAVAILABLE, details: "going away" });
      await until(() => received.some((r) => r.via === "CompleteActivityWorkItem"), "the unary call");
      expect(received.find((r) => r.via === "CompleteActivityWorkItem")!.request.completionToken).toBe("a1");
      expect(lines.some((l) => /completion stream ended \(UNAVAILABLE: going away\); 1 completion\(s\) go by unary call/.test(l))).toBe(true);
      await until(() => lines.some((l) => /activity 'Fine' \(instance 'o', task 1\): succeeded/.test(l)), "the first item's log line");

      answer = (call, m) => call.write({ acks: [{ id: m.id }] });
      items!.write(activityItem(2));
      await until(() => lines.some((l) => /activity 'Fine' \(instance 'o', task 2\): succeeded/.test(l)), "the second item's log line");
      expect(completions).not.toBe(first);
      expect(received.filter((r) => r.via === "stream").map((r) => r.request.activity.completionToken)).toEqual(["a1", "a2"]);
      expect(received.filter((r) => r.via.startsWith("Abandon"))).toEqual([]);
    });
  });
});
