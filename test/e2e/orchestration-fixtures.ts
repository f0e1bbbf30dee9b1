// Orchestrators, activities and waiting helpers shared by the orchestration end-to-end suites.
// Everything is registered by name on one worker per test file; instance ids are unique per test.
import { randomUUID } from "crypto";
import * as fs from "fs";
import {
  ActivityContext, HistoryEvent, HistoryEventType, OrchestrationContext, OrchestrationStatus,
  Task, TaskFailedError, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll, whenAny,
} from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { client, WarningRecorder, worker } from "../helpers/sdk";

type Orchestrator = (ctx: OrchestrationContext, input: any) => AsyncGenerator<Task<any>, any, any>;

export const H = HistoryEventType;
export const S = OrchestrationStatus;

export function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

// ---- test-controlled state the activities consult ---------------------------------------------

/** Latches an activity can block on until the test opens them (keyed by instance id). */
const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
function gate(key: string) {
  let g = gates.get(key);
  if (!g) {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    gates.set(key, (g = { promise, open }));
  }
  return g;
}
export const openGate = (key: string) => gate(key).open();
/** Opens every gate, so no activity is left blocking a worker's shutdown. */
export const openAllGates = () => gates.forEach((g) => g.open());

/** Attempts per key of the Flaky activity: the first attempt of each key fails. */
export const flakyAttempts = new Map<string, number>();
/** Runs per key of the Counted activity (to prove a restart ran the orchestration again). */
export const countedRuns = new Map<string, number>();

// ---- activities ---------------------------------------------------------------------------------

const activities: Record<string, (ctx: ActivityContext, input: any) => unknown> = {
  Hello: (_ctx, name: string) => `Hello, ${name}!`,
  Double: (_ctx, n: number) => n * 2,
  Fail: (_ctx, message: string) => {
    throw new Error(message);
  },
  Gate: (_ctx, key: string) => gate(key).promise.then(() => "opened"),
  Flaky: (_ctx, key: string) => {
    const n = (flakyAttempts.get(key) ?? 0) + 1;
    flakyAttempts.set(key, n);
    if (n === 1) throw new Error(`transient failure of ${key}`);
    return `ok ${key}`;
  },
  Counted: (_ctx, input: { key: string; value: number }) => {
    countedRuns.set(input.key, (countedRuns.get(input.key) ?? 0) + 1);
    return input.value * 2;
  },
};

// ---- orchestrators ------------------------------------------------------------------------------

function failureOf(e: unknown) {
  const err = e as TaskFailedError;
  return { name: err.name, message: err.message, errorType: err.details.errorType, detailsMessage: err.details.message };
}

const orchestrators: Record<string, Orchestrator> = {
  async *Sequence(ctx, cities: string[]) {
    const out: string[] = [];
    for (const c of cities) out.push(yield ctx.callActivity("Hello", c));
    return out;
  },
  async *FanOut(ctx, numbers: number[]) {
    const results: number[] = yield whenAll(numbers.map((n) => ctx.callActivity("Double", n)));
    return { results, sum: results.reduce((a, b) => a + b, 0) };
  },
  async *SubFanOut(ctx, numbers: number[]) {
    return yield whenAll(numbers.map((n) => ctx.callSubOrchestrator("Child", n)));
  },
  async *CatchActivityFailure(ctx, message: string) {
    try {
      yield ctx.callActivity("Fail", message);
      return "not failed";
    } catch (e) {
      return failureOf(e);
    }
  },
  async *UncaughtActivityFailure(ctx, message: string) {
    yield ctx.callActivity("Fail", message);
    return "not failed";
  },
  async *Parent(ctx, n: number) {
    const explicit: number = yield ctx.callSubOrchestrator("Child", n, { instanceId: `${ctx.instanceId}-child` });
    const defaultId: number = yield ctx.callSubOrchestrator("Child", n + 1);
    return { explicit, defaultId };
  },
  async *Child(ctx, n: number) {
    return yield ctx.callActivity("Double", n);
  },
  async *ParentCatches(ctx, message: string) {
    try {
      yield ctx.callSubOrchestrator("FailingChild", message, { instanceId: `${ctx.instanceId}-child` });
      return "not failed";
    } catch (e) {
      return failureOf(e);
    }
  },
  async *ParentUncaught(ctx, message: string) {
    yield ctx.callSubOrchestrator("FailingChild", message, { instanceId: `${ctx.instanceId}-child` });
    return "not failed";
  },
  async *FailingChild(_ctx, message: string) {
    throw new Error(message);
  },
  async *Timer(ctx, seconds: number) {
    yield ctx.createTimer(seconds);
    return "fired";
  },
  async *StartTime(ctx) {
    return ctx.currentUtcDateTime.getTime();
  },
  async *WaitEvent(ctx, name: string) {
    return yield ctx.waitForExternalEvent(name);
  },
  async *EventAfterGate(ctx) {
    yield ctx.callActivity("Gate", ctx.instanceId);
    return yield ctx.waitForExternalEvent("Late");
  },
  async *SendTo(ctx, input: { target: string; name: string; data: unknown }) {
    ctx.sendEvent(input.target, input.name, input.data);
    return "sent";
  },
  async *RaceEvent(ctx, timeoutSeconds: number) {
    const evt = ctx.waitForExternalEvent("Answer");
    const winner: Task<unknown> = yield whenAny([evt, ctx.createTimer(timeoutSeconds)]);
    return winner === evt ? { by: "event", data: evt.getResult() } : { by: "timer" };
  },
  async *CustomStatus(ctx) {
    ctx.setCustomStatus({ stage: "waiting" });
    yield ctx.waitForExternalEvent("next");
    ctx.setCustomStatus({ stage: "done" });
    return "ok";
  },
  async *Echo(_ctx, input: unknown) {
    return input;
  },
  async *Counter(ctx, n: number) {
    if (n < 5) {
      ctx.continueAsNew(n + 1, false);
      return;
    }
    return n;
  },
  async *GatedCounter(ctx, n: number) {
    if (n === 0) {
      yield ctx.waitForExternalEvent("next");
      ctx.continueAsNew(1, false);
      return;
    }
    return `finished with ${n}`;
  },
  /** Each generation starts a default-id child: ids derive from the execution id, so they must not collide. */
  async *CounterWithChild(ctx, input: { n: number; sum: number }) {
    const doubled: number = yield ctx.callSubOrchestrator("Child", input.n);
    if (input.n < 3) {
      ctx.continueAsNew({ n: input.n + 1, sum: input.sum + doubled }, false);
      return;
    }
    return input.sum + doubled;
  },
  async *CarryOver(ctx, input: { iter: number; save: boolean }) {
    if (input.iter === 0) {
      yield ctx.waitForExternalEvent("go");
      ctx.continueAsNew({ iter: 1, save: input.save }, input.save);
      return;
    }
    const evt = ctx.waitForExternalEvent("carry");
    // Without saveEvents the event is gone: a short timer ends the wait.
    const winner: Task<unknown> = yield whenAny([evt, ctx.createTimer(input.save ? 3600 : 0.3)]);
    return winner === evt ? { carried: evt.getResult() } : "dropped";
  },
  async *WaitForever(ctx) {
    yield ctx.waitForExternalEvent("never");
    return "woken";
  },
  async *ParentOfWaiter(ctx) {
    yield ctx.callSubOrchestrator("WaitForever", undefined, { instanceId: `${ctx.instanceId}-child` });
    return "child finished";
  },
  async *Restartable(ctx, input: { key: string; value: number }) {
    return yield ctx.callActivity("Counted", input);
  },
  async *Rewindable(ctx, key: string) {
    const first: string = yield ctx.callActivity("Hello", "step");
    const second: string = yield ctx.callActivity("Flaky", key);
    return [first, second];
  },
  async *FlakyChild(ctx, key: string) {
    return yield ctx.callActivity("Flaky", key);
  },
  async *RewindParent(ctx, key: string) {
    const r: string = yield ctx.callSubOrchestrator("FlakyChild", key, { instanceId: `${ctx.instanceId}-child` });
    return `parent got ${r}`;
  },
  /** Fails on its own activity while its child (waiting for "never") still runs. */
  async *RewindWithRunningChild(ctx, key: string) {
    const child = ctx.callSubOrchestrator("WaitForever", undefined, { instanceId: `${ctx.instanceId}-child` });
    const mine: string = yield ctx.callActivity("Flaky", key);
    const theirs: string = yield child;
    return [mine, theirs];
  },
  /** Fails at once on Flaky while its Gate activity and a timer are still pending. */
  async *RewindFanOut(ctx, key: string) {
    const gated = ctx.callActivity("Gate", key);
    const timer = ctx.createTimer(1);
    const flaky: string = yield ctx.callActivity("Flaky", key);
    const opened: string = yield gated;
    yield timer;
    return [opened, flaky];
  },
  async *WaitThenEcho(ctx, input: unknown) {
    yield ctx.waitForExternalEvent("go");
    return { input, version: ctx.version };
  },
};

export function registerAll(w: TaskHubGrpcWorker): void {
  for (const [name, fn] of Object.entries(orchestrators)) w.addNamedOrchestrator(name, fn);
  for (const [name, fn] of Object.entries(activities)) w.addNamedActivity(name, fn);
}

// ---- waiting helpers ----------------------------------------------------------------------------

/** Waits until the instance's history holds an event matching pred (i.e. a worker processed it). */
export function historyHas(c: TaskHubGrpcClient, id: string, pred: (e: HistoryEvent) => boolean, what: string): Promise<HistoryEvent[]> {
  return pollUntil(() => c.getOrchestrationHistory(id), (h) => h.some(pred), what);
}

export { completed as completion, started } from "../helpers/sdk";

export const types = (h: HistoryEvent[]) => h.map((e) => e.type);

export function executionIdOf(h: HistoryEvent[]): string | undefined {
  const e = h.find((x) => x.type === H.ExecutionStarted);
  return e && e.type === H.ExecutionStarted ? e.orchestrationInstance?.executionId : undefined;
}

/** The eventId of the history's ExecutionStarted (0, as in the managed service's histories). */
export const startEventId = (h: HistoryEvent[]) => h.find((e) => e.type === H.ExecutionStarted)?.eventId;

export function json(s: string | undefined): unknown {
  return s === undefined ? undefined : JSON.parse(s);
}

/**
 * One `dts serve` with a client and a worker that has every fixture registered, for a whole test file;
 * `log` keeps the worker's warnings.
 */
export function serveWithWorker(args: string[], ready: (s: { dts: DtsProcess; c: TaskHubGrpcClient; w: TaskHubGrpcWorker; log: WarningRecorder }) => void): void {
  let dts: DtsProcess | undefined;
  let c: TaskHubGrpcClient | undefined;
  let w: TaskHubGrpcWorker | undefined;
  beforeAll(async () => {
    dts = await startDts(args);
    c = client(dts.address);
    const log = new WarningRecorder();
    w = worker(dts.address, undefined, log);
    registerAll(w);
    await w.start();
    ready({ dts, c, w, log });
  });
  afterAll(async () => {
    openAllGates();
    await w?.stop();
    await c?.stop();
    await dts?.stop();
    if (dts) fs.rmSync(dts.dataDir, { recursive: true, force: true });
  });
}
