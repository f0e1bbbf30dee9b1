// Traces from a real `dts serve` to a real OTLP/HTTP receiver (an HTTP server this test starts, taking
// POST /v1/traces as the exporter sends it): the spans of one HelloCities5 and their parent links,
// first with the SDK untraced (the scheduler's spans form the tree alone), then with the SDK traced in
// this process (the client's span parents the orchestration's; the SDK worker's spans hang under ours).
import * as http from "http";
import { AddressInfo } from "net";
import { SpanKind, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ActivityContext, EntityInstanceId, HistoryEventType, OrchestrationContext, TaskCompletedEvent, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { startDurableWorker } from "../../src/provider/durable-worker";
import { providerConfig, TestApp } from "../provider/harness";
import { DtsProcess, runCli, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { client, completed, CounterEntity, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A span as the receiver got it (OTLP/JSON), ids in hex. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
  service?: string;
  startMs: number;
  endMs: number;
  links: { traceId: string; spanId: string }[];
}

const received: ReceivedSpan[] = [];
const requests: { path?: string; type?: string }[] = [];
let receiver: http.Server;
let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;
let otelEnv: Record<string, string>;

/** OTLP/JSON ids are hex; a receiver also accepts the base64 some encoders write. */
function hexId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  return /^[0-9a-f]+$/i.test(id) && (id.length === 16 || id.length === 32) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

function attributes(list: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) out[a.key] = a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue;
  return out;
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => {
      requests.push({ path: req.url, type: req.headers["content-type"] });
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const rs of body.resourceSpans ?? []) {
        const service = attributes(rs.resource?.attributes)["service.name"] as string | undefined;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            received.push({ traceId: hexId(s.traceId)!, spanId: hexId(s.spanId)!, parentSpanId: hexId(s.parentSpanId), name: s.name, attributes: attributes(s.attributes), status: s.status, service,
              startMs: Number(BigInt(s.startTimeUnixNano) / 1_000_000n), endMs: Number(BigInt(s.endTimeUnixNano) / 1_000_000n),
              links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: hexId(l.traceId)!, spanId: hexId(l.spanId)! })) });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  otelEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: "dts-under-test", OTEL_BSP_SCHEDULE_DELAY: "100" };
  dts = await startDts(["--store", "memory"], { env: otelEnv });
  c = client(dts.address);
  w = worker(dts.address);
  register(w);
  await w.start();
});

/** HelloCities5, and an orchestration that calls a counter entity. */
function register(w: TaskHubGrpcWorker): void {
  w.addActivity(function sayHello(_ctx: ActivityContext, city: string) {
    return `Hello, ${city}!`;
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  w.addOrchestrator(async function* helloCities5(ctx: OrchestrationContext): any {
    const out: string[] = [];
    for (const city of ["Tokyo", "Seattle", "London", "Cairo", "Lima"]) out.push(yield ctx.callActivity("sayHello", city));
    return out;
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  w.addOrchestrator(async function* callCounter(ctx: OrchestrationContext): any {
    return yield ctx.entities.callEntity(new EntityInstanceId("counter", "traced"), "add", 2);
  });
  w.addNamedEntity("counter", () => new CounterEntity());
}

afterAll(async () => {
  await w?.stop();
  await c?.stop();
  await dts?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  trace.disable();
});

/** The scheduler's spans of one instance once all six (the orchestration and five activities) arrived. */
async function spansOf(instanceId: string): Promise<{ orchestration: ReceivedSpan; activities: ReceivedSpan[] }> {
  const mine = () => received.filter((s) => s.attributes["durabletask.task.instance_id"] === instanceId);
  await pollUntil(async () => mine(), (l) => l.filter((s) => s.name === "activity:sayHello").length === 5 && l.some((s) => s.name === "orchestration:helloCities5"),
    `the spans of ${instanceId} at the OTLP receiver`);
  const orchestration = mine().find((s) => s.name === "orchestration:helloCities5")!;
  return { orchestration, activities: mine().filter((s) => s.name === "activity:sayHello") };
}

test("the SDK untraced: one orchestration span, five activity spans under it, sent over OTLP/HTTP", async () => {
  expect(dts.output()).toMatch(/dts: traces to http:\/\/127\.0\.0\.1:\d+ \(OTLP\/HTTP\)/);
  const id = await c.scheduleNewOrchestration("helloCities5");
  expect((await completed(c, id)).serializedOutput).toContain("Hello, Lima!");
  const { orchestration, activities } = await spansOf(id);

  expect(requests.every((r) => r.path === "/v1/traces" && r.type === "application/json")).toBe(true);
  expect(orchestration.service).toBe("dts-under-test");
  expect(orchestration.parentSpanId).toBeUndefined(); // nothing traced its start: a root
  expect(orchestration.attributes).toMatchObject({ "durabletask.type": "orchestration", "durabletask.task.name": "helloCities5", "durabletask.task.status": "Completed" });
  expect(activities).toHaveLength(5);
  for (const a of activities) {
    expect(a.traceId).toBe(orchestration.traceId);
    expect(a.parentSpanId).toBe(orchestration.spanId);
    expect(a.attributes).toMatchObject({ "durabletask.type": "activity", "durabletask.task.name": "sayHello" });
  }
  expect(new Set(activities.map((a) => a.spanId)).size).toBe(5);
  expect(new Set(activities.map((a) => a.attributes["durabletask.task.task_id"])).size).toBe(5);
});

test("a Functions host's inline activities: the same activity spans, from each TaskScheduled to its result, a failure with an error status", async () => {
  const app = new TestApp()
    .orchestration("helloCities5", function* (ctx: any) {
      const out: string[] = [];
      for (const city of ["Tokyo", "Seattle", "London", "Cairo", "Lima"]) out.push(yield ctx.df.callActivity("sayHello", city));
      try {
        yield ctx.df.callActivity("explode");
      } catch {
        out.push("caught");
      }
      return out;
    })
    .activity("sayHello", (city: string) => `Hello, ${city}!`)
    .activity("explode", () => {
      throw new Error("boom");
    });
  // A scheduler of its own, so the SDK worker above does not take this orchestration's work.
  const functionsDts = await startDts(["--store", "memory"], { env: otelEnv });
  // The host logs an episode's inline runs once the scheduler has answered its completion, which may
  // be after the client saw the orchestration complete: the test waits for the sixth line.
  const inline = / in \d+ ms, inline$/;
  const lines: string[] = [];
  let sixLogged: () => void = () => undefined;
  const logged = new Promise<void>((resolve) => (sixLogged = resolve));
  const host = await startDurableWorker(app, providerConfig(functionsDts.address), {
    log: (l) => {
      lines.push(l);
      if (lines.filter((x) => inline.test(x)).length === 6) sixLogged();
    },
  });
  const fc = client(functionsDts.address);
  try {
    const id = await fc.scheduleNewOrchestration("helloCities5");
    expect(JSON.parse((await completed(fc, id)).serializedOutput!)).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!", "Hello, Cairo!", "Hello, Lima!", "caught"]);
    await logged;
    expect(lines.filter((l) => inline.test(l))).toHaveLength(6);
    const { orchestration, activities } = await spansOf(id);
    const history = await fc.getOrchestrationHistory(id);
    for (const a of activities) {
      expect(a.traceId).toBe(orchestration.traceId);
      expect(a.parentSpanId).toBe(orchestration.spanId);
      expect(a.attributes).toMatchObject({ "durabletask.type": "activity", "durabletask.task.name": "sayHello", "durabletask.task.instance_id": id });
      // From its TaskScheduled to its TaskCompleted.
      const taskId = Number(a.attributes["durabletask.task.task_id"]);
      const scheduled = history.find((e) => e.type === HistoryEventType.TaskScheduled && e.eventId === taskId)!;
      const done = history.find((e) => e.type === HistoryEventType.TaskCompleted && (e as TaskCompletedEvent).taskScheduledId === taskId)!;
      expect([a.startMs, a.endMs]).toEqual([scheduled.timestamp.getTime(), done.timestamp.getTime()]);
      expect(a.status?.code ?? 0).not.toBe(2);
    }
    expect(new Set(activities.map((a) => a.attributes["durabletask.task.task_id"])).size).toBe(5);
    await pollUntil(async () => received.filter((s) => s.name === "activity:explode" && s.attributes["durabletask.task.instance_id"] === id), (l) => l.length === 1, "the failed activity's span");
    const failed = received.find((s) => s.name === "activity:explode" && s.attributes["durabletask.task.instance_id"] === id)!;
    expect(failed.parentSpanId).toBe(orchestration.spanId);
    expect(failed.status).toMatchObject({ code: 2, message: "boom" });
  } finally {
    await fc.stop();
    await host.stop();
    await functionsDts.stop();
  }
});

test("an entity batch: one span under the orchestration that called it, and one per operation: a call under its caller, a signal under its batch", async () => {
  const id = await c.scheduleNewOrchestration("callCounter");
  await completed(c, id);
  const spans = await pollUntil(async () => received.filter((s) => s.name.startsWith("entity:counter") || (s.name === "orchestration:callCounter" && s.attributes["durabletask.task.instance_id"] === id)),
    (l) => l.length === 3, "the entity batch's, its operation's and the orchestration's spans");
  const orchestration = spans.find((s) => s.name === "orchestration:callCounter")!;
  const batch = spans.find((s) => s.name === "entity:counter")!;
  expect(batch.attributes).toMatchObject({ "durabletask.type": "entity", "durabletask.task.instance_id": "@counter@traced", "durabletask.entity.operation": "add" });
  expect(batch.traceId).toBe(orchestration.traceId);
  expect(batch.parentSpanId).toBe(orchestration.spanId);
  const call = spans.find((s) => s.name === "entity:counter:add")!;
  expect(call.attributes).toMatchObject({ "durabletask.type": "entity_call", "durabletask.task.instance_id": "@counter@traced", "durabletask.entity.operation": "add" });
  expect(call.parentSpanId).toBe(orchestration.spanId);
  expect(call.traceId).toBe(orchestration.traceId);

  // A signal from a client has no caller span here: its operation's span is a child of its batch's.
  const before = received.length;
  await c.signalEntity(new EntityInstanceId("counter", "signalled"), "add", 1);
  const signalled = await pollUntil(async () => received.slice(before).filter((s) => s.attributes["durabletask.task.instance_id"] === "@counter@signalled"),
    (l) => l.length === 2, "the signalled batch's and operation's spans");
  const signalBatch = signalled.find((s) => s.name === "entity:counter")!;
  const signal = signalled.find((s) => s.name === "entity:counter:add")!;
  expect(signal.attributes["durabletask.type"]).toBe("entity_signal");
  expect(signal.parentSpanId).toBe(signalBatch.spanId);
  expect(signal.traceId).toBe(signalBatch.traceId);
});

test("the SDK traced: its client span parents the orchestration's, and its worker spans are children of the scheduler's", async () => {
  // The official SDK makes spans when @opentelemetry/api has a provider: register one in this process.
  const local = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(local)] });
  expect(trace.setGlobalTracerProvider(provider)).toBe(true);

  const id = await c.scheduleNewOrchestration("helloCities5");
  await completed(c, id);
  const { orchestration, activities } = await spansOf(id);
  const sdk: ReadableSpan[] = local.getFinishedSpans();
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  const create = sdk.find((s) => s.name === "create_orchestration:helloCities5" && s.attributes["durabletask.task.instance_id"] === id)!;
  expect(create).toBeDefined();
  expect(orchestration.traceId).toBe(create.spanContext().traceId);
  expect(orchestration.parentSpanId).toBe(create.spanContext().spanId);

  // Each episode the worker ran is a child of the scheduler's orchestration span.
  const episodes = sdk.filter((s) => s.name === "orchestration:helloCities5" && s.attributes["durabletask.task.instance_id"] === id);
  expect(episodes.length).toBeGreaterThanOrEqual(2);
  for (const e of episodes) expect(parentOf(e)).toBe(orchestration.spanId);

  // Each activity the worker ran is a child of the scheduler's span for that work item, in the same trace.
  const runs = sdk.filter((s) => s.name === "activity:sayHello" && s.kind === SpanKind.SERVER && s.attributes["durabletask.task.instance_id"] === id);
  expect(runs).toHaveLength(5);
  for (const a of activities) {
    expect(a.traceId).toBe(orchestration.traceId);
    expect(a.parentSpanId).toBe(orchestration.spanId);
    // The context the orchestrator sent with ScheduleTask is kept as a link (the SDK never exports that span id).
    expect(a.links).toHaveLength(1);
    expect(a.links[0].traceId).toBe(orchestration.traceId);
    expect(runs.filter((r) => parentOf(r) === a.spanId)).toHaveLength(1);
  }
});

test("spans still buffered at shutdown are sent before the process exits", async () => {
  // A batch delay longer than the test: only the shutdown flush can deliver these spans.
  const port = (receiver.address() as AddressInfo).port;
  const second = await startDts(["--store", "memory", "--no-dashboard"], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: "600000" } });
  const c2 = client(second.address);
  const w2 = worker(second.address);
  register(w2);
  try {
    await w2.start();
    const id = await c2.scheduleNewOrchestration("helloCities5");
    await completed(c2, id);
    await w2.stop();
    expect(received.some((s) => s.attributes["durabletask.task.instance_id"] === id)).toBe(false);
    expect(await second.stop()).toBe(0);
    const names = received.filter((s) => s.attributes["durabletask.task.instance_id"] === id).map((s) => s.name).sort();
    expect(names).toEqual(["activity:sayHello", "activity:sayHello", "activity:sayHello", "activity:sayHello", "activity:sayHello", "orchestration:helloCities5"]);
  } finally {
    await w2.stop().catch(() => undefined); // stopped already unless the test failed early
    await c2.stop();
    await second.stop();
  }
});

test("an OTLP endpoint that is not an http(s) URL: exit code 2 and a message naming the variable", async () => {
  const r = await runCli(["serve", "--store", "memory", "--port", "0", "--no-dashboard"], { OTEL_EXPORTER_OTLP_ENDPOINT: "localhost 4318" });
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe("dts: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (the OTLP/HTTP receiver, e.g. http://localhost:4318), got 'localhost 4318'");
});
