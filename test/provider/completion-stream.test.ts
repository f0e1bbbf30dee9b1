// The completion stream (dts.v1.CompletionStream): the scheduler offers it on its GetWorkItems
// headers and acknowledges each completion after its commit, refusals with the unary call's status;
// the provider's worker uses it when offered, and whatever a lost stream did not acknowledge goes by
// the standard unary RPC. A scheduler that does not offer it keeps getting unary calls
// (durable-worker.test.ts).
import * as grpc from "@grpc/grpc-js";
import { HistoryEventType, OrchestrationStatus, TaskCompletedEvent, TaskFailedEvent, TaskScheduledEvent } from "@microsoft/durabletask-js";
import { event, str } from "../../src/core/events";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../../src/core/limits";
import { ProviderConfig } from "../../src/provider/config";
import { startDurableWorker } from "../../src/provider/durable-worker";
import { pb } from "../../src/proto";
import { CAPABILITIES_HEADER, COMPLETION_STREAM, CONTINUED_EPISODES, HISTORY_LIMIT_HEADER, PAYLOAD_LIMIT_HEADER } from "../../src/proto/capabilities";
import { backendDefinition, completionStreamDefinition } from "../../src/proto/services";
import { DEFAULT_ENGINE_OPTIONS } from "../../src/scheduler/options";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { untilTrue } from "../helpers/poll";
import { scrape, value } from "../helpers/prometheus";
import { client, completed } from "../helpers/sdk";
import { providerConfig, TestApp } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Ack = pb.dts.v1.IWorkItemCompletionAck;

/** The harness's configuration for a scheduler at `endpoint` (an http:// URL here). */
const config = (endpoint: string): ProviderConfig => providerConfig(endpoint.replace(/^http:\/\//, ""));

const until = (probe: () => boolean, what: string) => untilTrue(probe, what, 10_000);

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
      expect(headers.get(CAPABILITIES_HEADER)).toEqual([`${COMPLETION_STREAM},${CONTINUED_EPISODES}`]);
      expect(headers.get(PAYLOAD_LIMIT_HEADER)).toEqual([String(DEFAULT_MAX_PAYLOAD_BYTES)]);
      expect(headers.get(HISTORY_LIMIT_HEADER)).toEqual([String(DEFAULT_ENGINE_OPTIONS.maxHistoryEvents)]);

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

  describe("inline activities: the host runs an episode's new activities and sends their results with the episode", () => {
    /** The scheduler's counters so far: activities dispatched as work items and run inline, orchestrator work items dispatched. */
    const counts = async (on: DtsProcess) => {
      const m = await scrape(on.dashboardPort);
      const n = (family: string, kind = "activities") => Number(value(m.get(family), { hub: "default", kind }) ?? 0);
      return { dispatched: n("dts_work_items_dispatched_total"), inline: n("dts_work_items_inline_total"), episodes: n("dts_work_items_dispatched_total", "orchestrations") };
    };

    /** A worker over `app`, and a way to run one orchestration on it: its output, history, log lines and the counters' change. */
    async function host(app: TestApp, extra: Partial<ProviderConfig> = {}, on: DtsProcess = dts) {
      const lines: string[] = [];
      const worker = await startDurableWorker(app, { ...config(`http://${on.address}`), ...extra }, { log: (l) => lines.push(l) });
      const c = client(on.address);
      return {
        lines,
        async run(name: string, during?: (id: string) => Promise<void>) {
          const before = await counts(on);
          const id = await c.scheduleNewOrchestration(name);
          await during?.(id);
          const s = await completed(c, id);
          const after = await counts(on);
          return {
            status: s.runtimeStatus, output: s.serializedOutput === undefined ? undefined : JSON.parse(s.serializedOutput), history: await c.getOrchestrationHistory(id),
            dispatched: after.dispatched - before.dispatched, inline: after.inline - before.inline, orchestratorItems: after.episodes - before.episodes,
          };
        },
        raise: (id: string, name: string, data: unknown) => c.raiseOrchestrationEvent(id, name, data),
        async stop() {
          await c.stop();
          await worker.stop();
        },
      };
    }

    async function runOnce(app: TestApp, name: string, extra: Partial<ProviderConfig> = {}, on: DtsProcess = dts) {
      const h = await host(app, extra, on);
      try {
        return { ...(await h.run(name)), lines: h.lines };
      } finally {
        await h.stop();
      }
    }

    const greetings = () => new TestApp()
      .orchestration("Trip", function* (ctx: any) {
        const first = yield ctx.df.callActivity("Greet", "Tokyo");
        const rest = yield ctx.df.Task.all([ctx.df.callActivity("Greet", "Lima"), ctx.df.callActivity("Greet", "Oslo")]);
        return [first, ...rest];
      })
      .activity("Greet", (name: string) => `Hello, ${name}!`);

    test("no activity becomes a work item; the history holds each TaskScheduled answered once with its own result", async () => {
      const r = await runOnce(greetings(), "Trip");
      expect(r.status).toBe(OrchestrationStatus.COMPLETED);
      expect(r.output).toEqual(["Hello, Tokyo!", "Hello, Lima!", "Hello, Oslo!"]);
      expect({ dispatched: r.dispatched, inline: r.inline }).toEqual({ dispatched: 0, inline: 3 });
      const scheduled = r.history.filter((e) => e.type === HistoryEventType.TaskScheduled) as TaskScheduledEvent[];
      const answered = r.history.filter((e) => e.type === HistoryEventType.TaskCompleted) as TaskCompletedEvent[];
      expect(scheduled.map((e) => [e.eventId, e.name, e.input])).toEqual([[0, "Greet", '"Tokyo"'], [1, "Greet", '"Lima"'], [2, "Greet", '"Oslo"']]);
      expect(answered.map((e) => [e.taskScheduledId, e.result]).sort()).toEqual([[0, '"Hello, Tokyo!"'], [1, '"Hello, Lima!"'], [2, '"Hello, Oslo!"']]);
      // Each answer follows the episode that scheduled it.
      for (const a of answered) expect(r.history.indexOf(a)).toBeGreaterThan(r.history.findIndex((e) => e.eventId === a.taskScheduledId && e.type === HistoryEventType.TaskScheduled));
      expect(r.lines.filter((l) => /activity 'Greet' \(instance '[^']+', task \d\): succeeded in \d+ ms, inline$/.test(l))).toHaveLength(3);
    });

    test("an inline activity's failure is its TaskFailed, which the orchestrator can catch", async () => {
      const app = new TestApp()
        .orchestration("Careful", function* (ctx: any) {
          try {
            yield ctx.df.callActivity("Explode");
            return "not reached";
          } catch (err) {
            return `caught: ${(err as Error).message}`;
          }
        })
        .activity("Explode", () => {
          throw new RangeError("the activity exploded");
        });
      const r = await runOnce(app, "Careful");
      expect(r.output).toMatch(/^caught: .*the activity exploded/);
      expect({ dispatched: r.dispatched, inline: r.inline }).toEqual({ dispatched: 0, inline: 1 });
      const failed = r.history.find((e) => e.type === HistoryEventType.TaskFailed) as TaskFailedEvent;
      expect(failed.failureDetails).toMatchObject({ errorType: "RangeError", message: "the activity exploded" });
    });

    test("an activity that outlives the wait goes to the scheduler, whose work item takes the inline run's result: it runs once", async () => {
      let runs = 0;
      let open: () => void = () => undefined;
      let gate = new Promise<void>((resolve) => (open = resolve));
      const app = new TestApp()
        .orchestration("Wait", function* (ctx: any) {
          return yield ctx.df.callActivity("Gated", "x");
        })
        .activity("Gated", async (x: string) => {
          runs++;
          await gate;
          return `${x}${runs}`;
        });
      const h = await host(app, { inlineActivityMaxWaitMs: 20 });
      try {
        const slow = await h.run("Wait", async () => {
          await until(() => h.lines.some((l) => l.includes("(scheduled 1 activity; 1 of them still running inline)")), "the episode's completion without the result");
          open();
        });
        expect(slow.output).toBe("x1");
        expect(runs).toBe(1);
        expect({ dispatched: slow.dispatched, inline: slow.inline }).toEqual({ dispatched: 1, inline: 0 });
        expect(h.lines.some((l) => /activity 'Gated' .*: succeeded in \d+ ms, its inline run's result$/.test(l))).toBe(true);

        // It was slow, so the next one is a work item (which the host runs when it comes).
        const next = await h.run("Wait");
        expect({ output: next.output, dispatched: next.dispatched, inline: next.inline }).toEqual({ output: "x2", dispatched: 1, inline: 0 });
        expect(runs).toBe(2);
      } finally {
        await h.stop();
      }
    });

    test("a fan-out larger than the free activity slots goes to the scheduler whole", async () => {
      const app = new TestApp()
        .orchestration("Wide", function* (ctx: any) {
          return yield ctx.df.Task.all(["a", "b", "c"].map((x) => ctx.df.callActivity("Greet", x)));
        })
        .activity("Greet", (name: string) => `Hello, ${name}!`);
      const r = await runOnce(app, "Wide", { maxConcurrentActivityFunctions: 2 });
      expect(r.output).toEqual(["Hello, a!", "Hello, b!", "Hello, c!"]);
      expect({ dispatched: r.dispatched, inline: r.inline }).toEqual({ dispatched: 3, inline: 0 });
    });

    test("inlineActivityMaxWaitMs 0 turns it off: every activity is a work item", async () => {
      const r = await runOnce(greetings(), "Trip", { inlineActivityMaxWaitMs: 0 });
      expect(r.output).toEqual(["Hello, Tokyo!", "Hello, Lima!", "Hello, Oslo!"]);
      expect({ dispatched: r.dispatched, inline: r.inline }).toEqual({ dispatched: 3, inline: 0 });
    });

    describe("continued episodes: once an episode's activities all ran inline, the host runs the next episode at once, and sends them as one completion", () => {
      // A long wait, so that how fast this machine is does not decide how far the host continues.
      const patient = { inlineActivityMaxWaitMs: 10_000 };
      const shape = (history: { type: HistoryEventType }[]): string[] => history.map((e) => e.type);

      test("the whole orchestration is one work item, and its history is event for event the one work items write", async () => {
        const sequence = () => new TestApp()
          .orchestration("Seq", function* (ctx: any) {
            const out: string[] = [];
            for (const city of ["Tokyo", "Lima", "Oslo"]) out.push(yield ctx.df.callActivity("Greet", city));
            return out;
          })
          .activity("Greet", (name: string) => `Hello, ${name}!`);
        const continued = await runOnce(sequence(), "Seq", patient);
        const separate = await runOnce(sequence(), "Seq", { inlineActivityMaxWaitMs: 0 });
        expect(continued.output).toEqual(["Hello, Tokyo!", "Hello, Lima!", "Hello, Oslo!"]);
        expect({ items: continued.orchestratorItems, dispatched: continued.dispatched, inline: continued.inline }).toEqual({ items: 1, dispatched: 0, inline: 3 });
        expect({ items: separate.orchestratorItems, dispatched: separate.dispatched }).toEqual({ items: 4, dispatched: 3 });
        expect(shape(continued.history)).toEqual(shape(separate.history));
        expect(continued.lines.filter((l) => / in \d+ ms, continued$/.test(l))).toHaveLength(3);

        // A fan-out's results come in one continued episode.
        const trip = await runOnce(greetings(), "Trip", patient);
        expect({ items: trip.orchestratorItems, inline: trip.inline }).toEqual({ items: 1, inline: 3 });
        expect(shape(trip.history)).toEqual([
          "OrchestratorStarted", "ExecutionStarted", "TaskScheduled",
          "OrchestratorStarted", "TaskCompleted", "TaskScheduled", "TaskScheduled",
          "OrchestratorStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted",
        ]);
      });

      test("an event raised while they run waits in the inbox for the next work item, as if it came after them", async () => {
        let open: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (open = resolve));
        const app = new TestApp()
          .orchestration("Steps", function* (ctx: any) {
            const a = yield ctx.df.callActivity("Gated", "a");
            const b = yield ctx.df.callActivity("Echo", "b");
            const go = yield ctx.df.waitForExternalEvent("Go");
            return [a, b, go];
          })
          .activity("Gated", async (x: string) => {
            await gate;
            return x;
          })
          .activity("Echo", (x: string) => x);
        const h = await host(app, patient);
        try {
          const r = await h.run("Steps", async (id) => {
            await h.raise(id, "Go", "now");
            open();
          });
          expect(r.output).toEqual(["a", "b", "now"]);
          const types = shape(r.history);
          // The two activity steps were one work item; the event came in the next.
          expect(r.orchestratorItems).toBe(2);
          expect(types.indexOf("EventRaised")).toBeGreaterThan(types.lastIndexOf("TaskCompleted"));
          expect(types.slice(-3)).toEqual(["OrchestratorStarted", "EventRaised", "ExecutionCompleted"]);
        } finally {
          await h.stop();
        }
      });

      test("results over the scheduler's payload limit end the run: that result goes as a message and becomes PayloadTooLarge, which the orchestrator catches", async () => {
        const small = await startDts(["--max-payload-bytes", "2000"]);
        try {
          const app = new TestApp()
            .orchestration("Sizes", function* (ctx: any) {
              const a = yield ctx.df.callActivity("Make", 10);
              try {
                yield ctx.df.callActivity("Make", 3000);
                return "not reached";
              } catch (err) {
                return [a.length, (err as Error).message];
              }
            })
            .activity("Make", (n: number) => "x".repeat(n));
          const r = await runOnce(app, "Sizes", patient, small);
          expect(r.output[0]).toBe(10);
          expect(r.output[1]).toMatch(/The result of activity 'Make' is 3002 bytes; the limit is 2000 bytes/);
          expect({ items: r.orchestratorItems, inline: r.inline }).toEqual({ items: 2, inline: 2 });
        } finally {
          await small.stop();
        }
      });

      test("an episode whose history would pass the scheduler's limit is left to a work item of its own, and fails there as separate work items do", async () => {
        const capped = await startDts(["--max-history-events", "10"]);
        try {
          const steps = () => new TestApp()
            .orchestration("Long", function* (ctx: any) {
              for (const n of [1, 2, 3, 4, 5]) yield ctx.df.callActivity("Echo", n);
              return "not reached";
            })
            .activity("Echo", (n: number) => n);
          const continued = await runOnce(steps(), "Long", patient, capped);
          const separate = await runOnce(steps(), "Long", { inlineActivityMaxWaitMs: 0 }, capped);
          expect([continued.status, separate.status]).toEqual([OrchestrationStatus.FAILED, OrchestrationStatus.FAILED]);
          // Three episodes (nine events) were one work item; the fourth would have made twelve, so it ran
          // as the next work item and failed alone, with the three results in the history.
          expect(shape(continued.history)).toEqual(shape(separate.history));
          expect(continued.history.filter((e) => e.type === HistoryEventType.TaskCompleted)).toHaveLength(3);
          expect(continued.orchestratorItems).toBe(2);
          expect(continued.lines.filter((l) => l.includes("not continued on this host (its history would have 12 events, past the scheduler's limit of 10)"))).toHaveLength(1);
        } finally {
          await capped.stop();
        }
      });
    });
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
