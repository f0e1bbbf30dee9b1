// End-to-end: `dts serve` under faults a client or worker can cause: a task hub deleted and created
// again while work runs on it, more task hubs than --max-hubs, work items whose worker stream dies
// every time (--max-delivery-attempts), sub-orchestration id cycles in recursive purge and terminate,
// workers asking for more in-flight items than the server allows, and one connection opening too
// many GetWorkItems streams. Raw GetWorkItems streams play the worker where a test must hold or drop
// individual work items; the official SDK plays it everywhere else.
import { ActivityContext, HistoryEventType, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { pb } from "../../src/proto";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil, within } from "../helpers/poll";
import { activityResponse, answerWithActivities, isActivity, isOrchestration, RawClient, WorkStream } from "../helpers/raw";
import { client, completed, grpcCode, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;
const P = pb.OrchestrationStatus;
const CODE = { NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 };

/** Task hubs created and deleted under load (sqlite, hubs only through CreateTaskHub). */
let churn: DtsProcess;
/** --dynamic-hubs --max-hubs 3. */
let capped: DtsProcess;
/** --max-delivery-attempts 3 --max-activities-per-worker 2, a hub per test (--dynamic-hubs). */
let faults: DtsProcess;
/** Nothing else connects to it: the per-connection stream count is its test's alone. */
let streams: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  [churn, capped, faults, streams] = await Promise.all([
    startDts([]),
    startDts(["--store", "memory", "--dynamic-hubs", "--max-hubs", "3"]),
    startDts(["--dynamic-hubs", "--max-delivery-attempts", "3", "--max-activities-per-worker", "2"]),
    startDts(["--store", "memory"]),
  ]);
});

afterAll(() => stopAll({ raws, workers, clients, servers: [churn, capped, faults, streams] }));

function sdkClient(server: DtsProcess, hub?: string): TaskHubGrpcClient {
  const c = client(server.address, hub);
  clients.push(c);
  return c;
}

function sdkWorker(server: DtsProcess, hub?: string): TaskHubGrpcWorker {
  const w = worker(server.address, hub);
  workers.push(w);
  return w;
}

function rawClient(server: DtsProcess, hub?: string, definition?: typeof backendDefinition): RawClient {
  const r = new RawClient(server.address, hub, definition);
  raws.push(r);
  return r;
}

/** No commit failed, the store never stopped, no handler threw something unexpected. */
function expectCleanOutput(server: DtsProcess): void {
  expect(server.output()).not.toMatch(/a commit failed/);
  expect(server.output()).not.toMatch(/fatal/i);
  expect(server.output()).not.toMatch(/unexpected error/);
}

/** The server still answers and its process is alive. */
async function expectServing(server: DtsProcess, hub?: string): Promise<void> {
  await rawClient(server, hub).call("Hello", {});
  expect(server.proc.exitCode).toBeNull();
  expect(server.proc.signalCode).toBeNull();
}

test("delete and create of a task hub under load: old instances gone, streams ended, the same SDK worker gets work again, racing starts fail cleanly", async () => {
  const hub = "churn-x";
  const r = rawClient(churn, hub);
  await r.call("CreateTaskHub", {});

  const w = sdkWorker(churn, hub);
  w.addNamedOrchestrator("Chain", async function* (ctx: OrchestrationContext, n: number): AsyncGenerator<Task<any>, any, any> {
    const a = yield ctx.callActivity("Inc", n);
    return yield ctx.callActivity("Inc", a);
  });
  w.addNamedActivity("Inc", (_ctx: ActivityContext, n: number) => n + 1);
  await w.start();

  // The load: six callers each starting a 2-activity chain and waiting for it, back to back, for the whole test.
  const c = sdkClient(churn, hub);
  const acknowledged: string[] = [];
  const refused: { code?: number; details?: string }[] = [];
  const waitsFailed: { code?: number; details?: string }[] = [];
  const waitsOutlasted: string[] = [];
  let stop = false;
  const failure = (e: unknown) => ({ code: (e as { code?: number }).code, details: (e as { details?: string }).details ?? (e as Error).message });
  const load = async () => {
    while (!stop) {
      let id: string;
      try {
        id = await c.scheduleNewOrchestration("Chain", 0);
      } catch (e) {
        refused.push(failure(e));
        continue;
      }
      acknowledged.push(id);
      try {
        await c.waitForOrchestrationCompletion(id, false, 10);
      } catch (e) {
        // The SDK's own timer (no gRPC status) only says this machine was slow; where the instance ended up is checked below.
        if ((e as { code?: number }).code === undefined) waitsOutlasted.push(id);
        else waitsFailed.push(failure(e));
      }
    }
  };
  const loops = Array.from({ length: 6 }, load);

  /** One round: `churnHub` runs while the load runs; what was started before it must be gone after. */
  const round = async (churnHub: () => Promise<void>, ended: RegExp) => {
    // Work flows: an instance started in this round completes.
    const n0 = acknowledged.length;
    await pollUntil(async () => acknowledged.length, (n) => n >= n0 + 6, "starts on the hub");
    expect((await completed(c, acknowledged[n0])).runtimeStatus).toBe(S.COMPLETED);
    const watcher = r.workItems();
    await pollUntil(async () => acknowledged.length, (n) => n >= n0 + 12, "more starts on the hub");

    const before = acknowledged.slice();
    await churnHub();

    // The server ended the old hub's worker streams (the SDK worker's and this raw one) itself.
    const err = await within(watcher.closed(), "the server to end the old hub's worker stream");
    expect(err?.code).toBe(CODE.UNAVAILABLE);
    expect(err?.details).toMatch(ended);

    // Everything acknowledged before the delete is gone with the old hub.
    for (const id of before) {
      const got = await r.call("GetInstance", { instanceId: id });
      expect({ id, exists: got.exists }).toEqual({ id, exists: false });
    }

    // Starts on the new hub run to completion on the same SDK worker object, reconnected by itself.
    const fresh = await Promise.all(Array.from({ length: 5 }, () => c.scheduleNewOrchestration("Chain", 0)));
    for (const id of fresh) {
      const s = await completed(c, id);
      expect(s.runtimeStatus).toBe(S.COMPLETED);
      expect(s.serializedOutput).toBe("2");
    }
  };

  try {
    await round(async () => {
      await r.call("DeleteTaskHub", {});
      await r.call("CreateTaskHub", {});
    }, /was deleted/);
    await round(() => r.call("CreateTaskHub", { recreateIfExists: true }), /deleted and created again/);
  } finally {
    // Also when a round failed: callers left running would spin on a stopped client.
    stop = true;
    await Promise.all(loops);
  }

  // Starts that raced the churn succeeded or got a status that says what happened, never INTERNAL.
  for (const e of refused) {
    expect([CODE.NOT_FOUND, CODE.UNAVAILABLE]).toContain(e.code);
    expect(e.details).toMatch(/task hub/i);
  }
  // A wait cut short by the churn says why (its hub went away), not that time ran out.
  expect(waitsFailed.filter((e) => e.code !== CODE.NOT_FOUND && e.code !== CODE.UNAVAILABLE)).toEqual([]);
  // An instance whose wait outlasted the client's patience went with its hub or completes: it is never stuck.
  for (const id of waitsOutlasted) {
    const got = await r.call("GetInstance", { instanceId: id });
    if (got.exists) expect((await completed(c, id)).runtimeStatus).toBe(S.COMPLETED);
  }
  expectCleanOutput(churn);
  await expectServing(churn, hub);
}, 30_000);

test("--max-hubs: with default and two more hubs served, the third and fourth new hub names are RESOURCE_EXHAUSTED naming --max-hubs", async () => {
  // `default` is served from the start: h1 and h2 make 3.
  await rawClient(capped, "h1").call("Hello", {});
  await rawClient(capped, "H2").call("Hello", {});
  // Names are case-insensitive: these are the same hubs, not new ones.
  await rawClient(capped, "H1").call("Hello", {});
  await rawClient(capped, "h2").call("Hello", {});
  for (const name of ["h3", "h4"]) {
    const r = rawClient(capped, name);
    for (const call of [r.call("Hello", {}), r.call("StartInstance", { name: "X" }), r.call("CreateTaskHub", {})]) {
      const e = await grpcCode(call);
      expect(e.code).toBe(CODE.RESOURCE_EXHAUSTED);
      expect(e.details).toMatch(/--max-hubs 3/);
    }
    const stream = r.workItems();
    const err = await within(stream.closed(), `the server to refuse a stream on ${name}`);
    expect(err?.code).toBe(CODE.RESOURCE_EXHAUSTED);
    expect(err?.details).toMatch(/--max-hubs 3/);
  }
  // Deleting a hub frees its slot.
  await rawClient(capped, "h1").call("DeleteTaskHub", {});
  await rawClient(capped, "h3").call("Hello", {});
  expect((await grpcCode(rawClient(capped, "h4").call("Hello", {}))).code).toBe(CODE.RESOURCE_EXHAUSTED);
  expectCleanOutput(capped);
});

describe("poison work items (--max-delivery-attempts 3)", () => {
  /** Opens a stream, waits for the first item matching `predicate`, then drops the stream as a dying worker would. */
  async function deliverAndDie(r: RawClient, predicate: (i: pb.WorkItem) => boolean): Promise<pb.WorkItem> {
    const s = r.workItems();
    const item = await within(s.next(predicate), "a delivery of the work item");
    s.cancel();
    await s.closed();
    return item;
  }

  test("poison work item: an activity whose stream dies 3 times is failed as PoisonWorkItem, and the orchestration calling it fails naming the delivery count", async () => {
    const hub = "poison-activity";
    const c = sdkClient(faults, hub);
    const id = await c.scheduleNewOrchestration("CallPoison", "x");
    const r = rawClient(faults, hub);

    // The first episode, played on a raw stream: schedule activity 1 "Poison", as the SDK's orchestrator below does.
    const first = r.workItems();
    await answerWithActivities(r, first, ["Poison"]);
    const a1 = await first.next(isActivity);
    first.cancel();
    await first.closed();
    const a2 = await deliverAndDie(r, isActivity);
    const a3 = await deliverAndDie(r, isActivity);
    for (const a of [a1, a2, a3]) {
      expect(a.activityRequest!.name).toBe("Poison");
      expect(a.activityRequest!.taskId).toBe(1);
      expect(a.activityRequest!.orchestrationInstance!.instanceId).toBe(id);
    }
    expect(new Set([a1, a2, a3].map((a) => a.completionToken)).size).toBe(3);

    // The SDK worker connects only now: it gets the orchestration with the failure, never the activity.
    const ran: unknown[] = [];
    const w = sdkWorker(faults, hub);
    w.addNamedOrchestrator("CallPoison", async function* (ctx: OrchestrationContext, input: string): AsyncGenerator<Task<any>, any, any> {
      return yield ctx.callActivity("Poison", input);
    });
    w.addNamedActivity("Poison", (_ctx: ActivityContext, input: unknown) => ran.push(input));
    await w.start();
    const s = await completed(c, id, 10);
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.failureDetails?.message).toMatch(/delivered 3 times/);
    expect(s.failureDetails?.message).toMatch(/--max-delivery-attempts 3/);
    expect(ran).toEqual([]);

    const failed = (await c.getOrchestrationHistory(id)).filter((e) => e.type === HistoryEventType.TaskFailed) as any[];
    expect(failed.length).toBe(1);
    expect(failed[0].taskScheduledId).toBe(1);
    expect(failed[0].failureDetails.errorType).toBe("PoisonWorkItem");
    expect(failed[0].failureDetails.message).toMatch(/Activity 'Poison' failed: .*delivered 3 times/);
    expectCleanOutput(faults);
  });

  test("poison work item: an orchestration work item whose stream dies 3 times fails the instance as PoisonWorkItem", async () => {
    const hub = "poison-orchestration";
    const c = sdkClient(faults, hub);
    const id = await c.scheduleNewOrchestration("Doomed");
    const r = rawClient(faults, hub);
    for (let n = 0; n < 3; n++) expect((await deliverAndDie(r, isOrchestration)).orchestratorRequest!.instanceId).toBe(id);
    // No worker is connected: the server failed it by itself.
    const s = await completed(c, id, 10);
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.failureDetails?.errorType).toBe("PoisonWorkItem");
    expect(s.failureDetails?.message).toMatch(/Orchestration 'Doomed' failed: .*delivered 3 times/);
    // Nothing is left to dispatch.
    const m = (await rawClient(faults, hub, backendDefinition).call("GetMetrics", {})).metrics;
    expect(m.orchestratorWorkItems.pending ?? 0).toBe(0);
    expect(m.orchestratorWorkItems.active ?? 0).toBe(0);
  });

  test("poison work item: two lost deliveries are not enough; the third delivery can still complete", async () => {
    const hub = "poison-almost";
    const c = sdkClient(faults, hub);
    const id = await c.scheduleNewOrchestration("Survivor");
    const r = rawClient(faults, hub);
    for (let n = 0; n < 2; n++) await deliverAndDie(r, isOrchestration);
    const s = r.workItems();
    const item = await s.next(isOrchestration);
    await r.call("CompleteOrchestratorTask", {
      instanceId: id, completionToken: item.completionToken,
      actions: [{ id: 1, completeOrchestration: { orchestrationStatus: P.ORCHESTRATION_STATUS_COMPLETED, result: { value: '"made it"' } } }],
    });
    const done = await completed(c, id);
    expect(done.runtimeStatus).toBe(S.COMPLETED);
    expect(done.serializedOutput).toBe('"made it"');
  });
});

describe("recursive purge and terminate over an id cycle", () => {
  test("recursive purge over an id cycle: an orchestration that created a sub-orchestration with its own id is purged once, and the server keeps answering", async () => {
    const hub = "cycle-purge";
    const w = sdkWorker(faults, hub);
    w.addNamedOrchestrator("Ouroboros", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
      return yield ctx.callSubOrchestrator("Ouroboros", "child", { instanceId: ctx.instanceId });
    });
    await w.start();
    const c = sdkClient(faults, hub);
    const id = await c.scheduleNewOrchestration("Ouroboros", undefined, "ouroboros");
    // The child cannot be created (its id is running: the parent itself); the parent does not handle that.
    const s = await completed(c, id);
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.failureDetails?.message).toMatch(/ouroboros/);
    const history = await c.getOrchestrationHistory(id);
    const created = history.filter((e) => e.type === HistoryEventType.SubOrchestrationInstanceCreated) as any[];
    expect(created.map((e) => e.instanceId)).toEqual([id]);
    expect(history.some((e) => e.type === HistoryEventType.SubOrchestrationInstanceFailed)).toBe(true);

    const r = rawClient(faults, hub);
    const purged = await r.call("PurgeInstances", { instanceId: id, recursive: true });
    expect(purged.deletedInstanceCount).toBe(1);
    expect((await r.call("GetInstance", { instanceId: id })).exists).toBe(false);
    await expectServing(faults, hub);
    expectCleanOutput(faults);
  });

  test("recursive terminate over an id cycle: a running instance whose history names itself as an unfinished sub-orchestration is terminated", async () => {
    const hub = "cycle-terminate";
    const id = "self-ref";
    const c = sdkClient(faults, hub);
    await c.scheduleNewOrchestration("SelfRef", undefined, id);
    const r = rawClient(faults, hub);
    const s = r.workItems();

    // Episode 1: create a sub-orchestration with its own id (and, implicitly, wait for more events).
    const i1 = await s.waitFor(isOrchestration);
    await r.call("CompleteOrchestratorTask", {
      instanceId: id, completionToken: s.items[i1].completionToken,
      actions: [{ id: 1, createSubOrchestration: { instanceId: id, name: "SelfRef" } }],
    });
    // Episode 2 carries the child's creation failure; held, so the history still names a running child: itself.
    const i2 = await s.waitFor(isOrchestration, i1 + 1);
    const held = s.items[i2].orchestratorRequest!;
    expect(held.pastEvents!.filter((e) => e.subOrchestrationInstanceCreated).map((e) => e.subOrchestrationInstanceCreated!.instanceId)).toEqual([id]);
    expect(held.newEvents!.some((e) => e.subOrchestrationInstanceFailed)).toBe(true);

    await r.call("TerminateInstance", { instanceId: id, recursive: true, output: { value: '"stop"' } });
    await expectServing(faults, hub);

    // The worker finishes the held episode, then gets the termination (once) and ends the instance as the SDKs do.
    await r.call("CompleteOrchestratorTask", { instanceId: id, completionToken: s.items[i2].completionToken, actions: [] });
    const i3 = await s.waitFor(isOrchestration, i2 + 1);
    const terminations = s.items[i3].orchestratorRequest!.newEvents!.filter((e) => e.executionTerminated);
    expect(terminations.length).toBe(1);
    expect(terminations[0].executionTerminated!.recurse).toBe(true);
    await r.call("CompleteOrchestratorTask", {
      instanceId: id, completionToken: s.items[i3].completionToken,
      actions: [{ id: -1, completeOrchestration: { orchestrationStatus: P.ORCHESTRATION_STATUS_TERMINATED, result: { value: '"stop"' } } }],
    });
    const done = await completed(c, id);
    expect(done.runtimeStatus).toBe(S.TERMINATED);
    expect(done.serializedOutput).toBe('"stop"');

    expect((await r.call("PurgeInstances", { instanceId: id, recursive: true })).deletedInstanceCount).toBe(1);
    await expectServing(faults, hub);
    expectCleanOutput(faults);
  });
});

test("worker in-flight limits are capped by the server: a stream asking for 1e9 activities holds at most --max-activities-per-worker 2", async () => {
  const hub = "cap";
  const r = rawClient(faults, hub);
  const metrics = rawClient(faults, hub, backendDefinition);
  const s: WorkStream = r.workItems({ maxConcurrentActivityWorkItems: 1e9 });
  const c = sdkClient(faults, hub);
  for (let n = 0; n < 5; n++) await c.scheduleNewOrchestration("OneActivity");
  let from = 0;
  for (let n = 0; n < 5; n++) from = (await answerWithActivities(r, s, ["Act"], from)).index + 1;

  // All five activities exist once the answers returned; only two were sent (every send takes a lease).
  const first = await s.waitFor(isActivity);
  const second = await s.waitFor(isActivity, first + 1);
  let m = (await metrics.call("GetMetrics", {})).metrics;
  expect(m.activityWorkItems.active).toBe(2);
  expect(m.activityWorkItems.pending).toBe(3);
  expect(s.items.filter(isActivity).length).toBe(2);

  // Completing one frees one slot: a third arrives, and still no more than two are in flight.
  await r.call("CompleteActivityTask", activityResponse(s.items[first], "done"));
  const third = await within(s.waitFor(isActivity, second + 1), "a third activity once one completed");
  m = (await metrics.call("GetMetrics", {})).metrics;
  expect(m.activityWorkItems.active).toBe(2);
  expect(m.activityWorkItems.pending).toBe(2);
  expect(s.items.filter(isActivity).length).toBe(3);
  expect(new Set([first, second, third].map((i) => s.items[i].activityRequest!.orchestrationInstance!.instanceId)).size).toBe(3);
});

test("streams per connection bounded: the 17th GetWorkItems stream on one connection is RESOURCE_EXHAUSTED; closing one lets a new one open", async () => {
  const r = rawClient(streams);
  const metrics = rawClient(streams, undefined, backendDefinition);
  const workers = async () => (await metrics.call("GetMetrics", {})).metrics.connectedWorkers?.count ?? 0;
  const open = Array.from({ length: 16 }, () => r.workItems());
  await pollUntil(workers, (n) => n === 16, "16 connected streams");

  const extra = r.workItems();
  const err = await within(extra.closed(), "the server to refuse the 17th stream");
  expect(err?.code).toBe(CODE.RESOURCE_EXHAUSTED);
  expect(err?.details).toMatch(/already has 16 GetWorkItems streams open/);
  expect(open.every((s) => !s.ended)).toBe(true);
  expect(await workers()).toBe(16);

  open[0].cancel();
  await open[0].closed();
  await pollUntil(workers, (n) => n === 15, "the closed stream to be gone");
  const again = r.workItems();
  await pollUntil(workers, (n) => n === 16, "the new stream to connect");
  expect(again.ended).toBe(false);
  // It is a working stream: with the others closed, it gets the work.
  for (const s of open.slice(1)) s.cancel();
  await rawClient(streams).call("StartInstance", { name: "AfterLimit", instanceId: "after-limit" });
  const item = await within(again.next(isOrchestration), "the new stream to get work");
  expect(item.orchestratorRequest!.instanceId).toBe("after-limit");
});
