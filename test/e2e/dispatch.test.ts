// End-to-end: how `dts serve` hands work to worker streams: spreading over workers, late workers,
// per-stream flow control, completion tokens, abandon, recovery from a killed worker process,
// health pings, and leases that stay with live workers (a frozen one loses them through keepalive). Raw GetWorkItems streams play the worker where the test
// needs to see or withhold individual work items. Each test uses its own task hub (--dynamic-hubs).
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  ActivityContext, HistoryEventType, OrchestrationContext, OrchestrationState, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll,
} from "@microsoft/durabletask-js";
import { pb } from "../../src/proto";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { activityResponse, answerWithActivities, deferred, isActivity, isOrchestration, isPing, RawClient } from "../helpers/raw";
import { client, grpcCode, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;
const FIXTURE = path.resolve(__dirname, "../fixtures/hanging-worker.js");

let dts: DtsProcess;
let lockDts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  [dts, lockDts] = await Promise.all([
    startDts(["--dynamic-hubs", "--health-ping-interval", "1", "--max-activities-per-worker", "5"]),
    startDts(["--store", "memory", "--dynamic-hubs", "--activity-lock-timeout", "1", "--lock-timeout", "1", "--keepalive-interval", "1", "--keepalive-timeout", "1"]),
  ]);
});

afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const r of raws) r.close();
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all([dts?.stop(), lockDts?.stop()]);
  for (const p of [dts, lockDts]) if (p) fs.rmSync(p.dataDir, { recursive: true, force: true });
});

function sdkClient(hub?: string, server = dts): TaskHubGrpcClient {
  const c = client(server.address, hub);
  clients.push(c);
  return c;
}

function sdkWorker(hub?: string, server = dts): TaskHubGrpcWorker {
  const w = worker(server.address, hub);
  workers.push(w);
  return w;
}

function rawClient(hub?: string, server = dts): RawClient {
  const r = new RawClient(server.address, hub);
  raws.push(r);
  return r;
}

async function completed(c: TaskHubGrpcClient, id: string): Promise<OrchestrationState> {
  const s = await c.waitForOrchestrationCompletion(id, true, 60);
  if (!s) throw new Error(`instance ${id} not found`);
  return s;
}

const taskCompletedResults = (item: pb.WorkItem) =>
  (item.orchestratorRequest!.newEvents ?? []).filter((e) => e.taskCompleted).map((e) => e.taskCompleted!.result?.value);

test("work is spread across two connected workers", async () => {
  const hub = "spread";
  const ran: Record<"A" | "B", number[]> = { A: [], B: [] };
  const bothBusy = deferred();
  const make = (name: "A" | "B") => {
    const w = sdkWorker(hub);
    w.addNamedOrchestrator("FanOut", async function* (ctx: OrchestrationContext, n: number): AsyncGenerator<Task<any>, any, any> {
      const tasks: Task<number>[] = [];
      for (let i = 0; i < n; i++) tasks.push(ctx.callActivity("Work", i));
      return yield whenAll(tasks);
    });
    // Each activity holds its worker until both workers have run one: with the server's limit of 5
    // in-flight activities per stream, the rest must go to the other worker, whenever it connects.
    w.addNamedActivity("Work", async (_ctx: ActivityContext, i: number) => {
      ran[name].push(i);
      if (ran.A.length > 0 && ran.B.length > 0) bothBusy.resolve();
      await bothBusy.promise;
      return i * 2;
    });
    return w;
  };
  const a = make("A");
  const b = make("B");
  await Promise.all([a.start(), b.start()]);
  const c = sdkClient(hub);
  const id = await c.scheduleNewOrchestration("FanOut", 40);
  const s = await completed(c, id);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(s.serializedOutput!)).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
  expect(ran.A.length).toBeGreaterThan(0);
  expect(ran.B.length).toBeGreaterThan(0);
  expect([...ran.A, ...ran.B].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
});

test("a worker that connects after work was queued gets it", async () => {
  const hub = "late";
  const c = sdkClient(hub);
  const ids = [await c.scheduleNewOrchestration("Late", "x"), await c.scheduleNewOrchestration("Late", "y")];
  for (const id of ids) expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.PENDING);

  const w = sdkWorker(hub);
  w.addNamedOrchestrator("Late", async function* (ctx: OrchestrationContext, input: string): AsyncGenerator<Task<any>, any, any> {
    return yield ctx.callActivity("Shout", input);
  });
  w.addNamedActivity("Shout", (_ctx: ActivityContext, input: string) => input.toUpperCase());
  await w.start();
  expect((await completed(c, ids[0])).serializedOutput).toBe('"X"');
  expect((await completed(c, ids[1])).serializedOutput).toBe('"Y"');
});

test("flow control: a stream asking for 2 activities never holds more than 2", async () => {
  const hub = "flow";
  const r = rawClient(hub);
  const s = r.workItems({ maxConcurrentActivityWorkItems: 2 });
  const c = sdkClient(hub);
  await c.scheduleNewOrchestration("RawFanOut");
  const { index } = await answerWithActivities(r, s, ["Act", "Act", "Act", "Act", "Act"]);

  const first = await s.waitFor(isActivity, index + 1);
  const second = await s.waitFor(isActivity, first + 1);
  // The server sends everything it may send at once, then goes silent; the health ping (sent only
  // after a second of silence) proves no third activity was on its way.
  const ping1 = await s.waitFor(isPing, second + 1);
  const held = s.items.slice(index + 1, ping1).filter(isActivity);
  expect(held.length).toBe(2);

  // Completing one frees one slot: exactly one more activity arrives.
  await r.call("CompleteActivityTask", activityResponse(held[0], "done"));
  const third = await s.waitFor(isActivity, ping1 + 1);
  const ping2 = await s.waitFor(isPing, third + 1);
  const next = s.items.slice(ping1 + 1, ping2).filter(isActivity);
  expect(next.length).toBe(1);
  const taskIds = [...held, ...next].map((i) => i.activityRequest!.taskId);
  expect(new Set(taskIds).size).toBe(3);
});

test("a completion with a stale or unknown token is NOT_FOUND and changes nothing", async () => {
  const hub = "stale";
  const r = rawClient(hub);
  const s = r.workItems();
  const c = sdkClient(hub);
  const id = await c.scheduleNewOrchestration("RawOne");
  const { index, item: orchItem } = await answerWithActivities(r, s, ["Act"]);
  const ai = await s.waitFor(isActivity, index + 1);
  const act = s.items[ai];

  const rejected = async (method: string, req: object) => {
    const e = await grpcCode(r.call(method, req));
    expect(e.code).toBe(5);
    return e;
  };
  const e = await rejected("CompleteActivityTask", activityResponse(act, "bogus", "no-such-token"));
  expect(e.details).toMatch(/completion token/);
  await rejected("CompleteActivityTask", activityResponse(act, "bogus", ""));
  // An orchestration's (already used) token is not an activity token either.
  await rejected("CompleteActivityTask", activityResponse(act, "bogus", orchItem.completionToken));
  await rejected("CompleteOrchestratorTask", {
    instanceId: id, completionToken: orchItem.completionToken,
    actions: [{ id: 2, completeOrchestration: { orchestrationStatus: pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED, result: { value: '"bogus"' } } }],
  });

  // Nothing was applied: the instance still runs and its history has no result.
  expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
  const history = await c.getOrchestrationHistory(id);
  expect(history.some((h) => h.type === HistoryEventType.TaskCompleted || h.type === HistoryEventType.ExecutionCompleted)).toBe(false);

  // The real token still works, once.
  await r.call("CompleteActivityTask", activityResponse(act, "real"));
  await rejected("CompleteActivityTask", activityResponse(act, "again"));

  const next = await s.next(isOrchestration, ai + 1);
  expect(taskCompletedResults(next)).toEqual(['"real"']);
  await r.call("CompleteOrchestratorTask", {
    instanceId: id, completionToken: next.completionToken,
    actions: [{ id: 2, completeOrchestration: { orchestrationStatus: pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED, result: { value: '"finished"' } } }],
  });
  const done = await completed(c, id);
  expect(done.serializedOutput).toBe('"finished"');
  // A completion for the finished work item is refused and does not reopen anything.
  await rejected("CompleteOrchestratorTask", { instanceId: id, completionToken: next.completionToken, actions: [] });
  expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.COMPLETED);
});

test("AbandonTaskActivityWorkItem hands the activity out again later", async () => {
  const hub = "abandon";
  const r = rawClient(hub);
  const s = r.workItems();
  const c = sdkClient(hub);
  const id = await c.scheduleNewOrchestration("RawOne");
  const { index } = await answerWithActivities(r, s, ["Act"]);
  const ai = await s.waitFor(isActivity, index + 1);
  const first = s.items[ai];

  await r.call("AbandonTaskActivityWorkItem", { completionToken: first.completionToken });
  const again = await s.next(isActivity, ai + 1);
  expect(again.activityRequest!.name).toBe("Act");
  expect(again.activityRequest!.taskId).toBe(first.activityRequest!.taskId);
  expect(again.activityRequest!.orchestrationInstance!.instanceId).toBe(id);
  expect(again.activityRequest!.input?.value).toBe(first.activityRequest!.input?.value);
  expect(again.completionToken).not.toBe(first.completionToken);

  // The abandoned token is dead.
  expect((await grpcCode(r.call("CompleteActivityTask", activityResponse(first, "old")))).code).toBe(5);
  expect((await grpcCode(r.call("AbandonTaskActivityWorkItem", { completionToken: first.completionToken }))).code).toBe(5);
  expect((await grpcCode(r.call("AbandonTaskActivityWorkItem", { completionToken: "no-such-token" }))).code).toBe(5);

  await r.call("CompleteActivityTask", activityResponse(again, "new"));
  const orch = await s.next(isOrchestration, ai + 1);
  expect(taskCompletedResults(orch)).toEqual(['"new"']);
});

/** The hanging-worker fixture in a child process: it takes CallHang's activity and never finishes it. */
function hangingWorker(server: DtsProcess, hub: string) {
  const child = spawn(process.execPath, [FIXTURE, server.address, hub], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const started = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/started/.test(out)) resolve();
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    exited.then(() => reject(new Error(`hanging worker exited early:\n${out}`)));
  });
  return { child, started, exited, output: () => out };
}

/** A healthy in-process worker for CallHang whose activity finishes at once; `ran` lists its inputs. */
async function recoveringWorker(hub: string, server = dts): Promise<unknown[]> {
  const ran: unknown[] = [];
  const w = sdkWorker(hub, server);
  w.addNamedOrchestrator("CallHang", async function* (ctx: OrchestrationContext, input: unknown): AsyncGenerator<Task<any>, any, any> {
    return yield ctx.callActivity("Hang", input);
  });
  w.addNamedActivity("Hang", (_ctx: ActivityContext, input: unknown) => {
    ran.push(input);
    return `recovered ${input}`;
  });
  await w.start();
  return ran;
}

test("an activity of a worker process killed mid-run goes to another worker when its stream closes", async () => {
  const hub = "kill";
  const hanging = hangingWorker(dts, hub);
  const c = sdkClient(hub);
  const id = await c.scheduleNewOrchestration("CallHang", "payload");
  await hanging.started;
  expect(hanging.output()).toContain('started "payload"');

  // A healthy worker joins; the activity stays with the hung process until that process dies.
  const ranHere = await recoveringWorker(hub);
  hanging.child.kill("SIGKILL");
  await hanging.exited;

  // The default activity lock timeout is 10 minutes: finishing now means the closed stream released it.
  const s = await completed(c, id);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(s.serializedOutput).toBe('"recovered payload"');
  expect(ranHere).toEqual(["payload"]);
});

test("a silent stream receives HealthPing work items (--health-ping-interval 1)", async () => {
  const r = rawClient("ping");
  const s = r.workItems();
  const ping = await s.next(isPing);
  expect(ping.healthPing).toBeTruthy();
  expect(ping.completionToken).toBe("");
  // And they keep coming while the stream stays silent.
  const i = await s.waitFor(isPing);
  await s.waitFor(isPing, i + 1);
  expect(s.items.every(isPing)).toBe(true);
});

test("a 5 s activity with a 1 s lock timeout runs once: a live worker keeps its work item", async () => {
  const hub = undefined;
  const runs: string[] = [];
  const w = sdkWorker(hub, lockDts);
  w.addNamedOrchestrator("Slow", async function* (ctx: OrchestrationContext, input: string): AsyncGenerator<Task<any>, any, any> {
    return yield ctx.callActivity("FiveSeconds", input);
  });
  w.addNamedActivity("FiveSeconds", async (_ctx: ActivityContext, input: string) => {
    runs.push(input);
    // The activity's own running time is what is tested: five lock periods.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return `done ${input}`;
  });
  await w.start();
  const c = sdkClient(hub, lockDts);
  const s = await completed(c, await c.scheduleNewOrchestration("Slow", "once"));
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(s.serializedOutput).toBe('"done once"');
  expect(runs).toEqual(["once"]);
}, 30_000);

test("a worker process that stops answering (SIGSTOP) loses its activity through keepalive, and another worker runs it", async () => {
  const hub = "frozen";
  const hanging = hangingWorker(lockDts, hub);
  const c = sdkClient(hub, lockDts);
  const id = await c.scheduleNewOrchestration("CallHang", "frozen payload");
  await hanging.started;
  // Frozen, its TCP connection stays open but HTTP/2 pings go unanswered (--keepalive-interval 1 --keepalive-timeout 1).
  hanging.child.kill("SIGSTOP");
  const ranHere = await recoveringWorker(hub, lockDts);
  const s = await completed(c, id);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(s.serializedOutput).toBe('"recovered frozen payload"');
  expect(ranHere).toEqual(["frozen payload"]);
  hanging.child.kill("SIGKILL");
  await hanging.exited;
}, 30_000);
