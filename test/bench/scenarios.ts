// The scenarios: each runs on a fresh target (scheduler + worker, or the in-process backend) after one
// warm-up HelloCities5, and returns one row of figures.
import { WRITER_THREAD_NAME } from "../../src/store/sqlite-writer-client";
import { cpuSeconds, mainThreadCpuSeconds, MiB, namedThreadsCpuSeconds, peakRssBytes, resetPeakRss, rssBytes } from "./procfs";
import { EntityTarget, PathName, Target } from "./targets";
import { GO_EVENT } from "./workloads";
import { helloBesideOldInstances } from "./retention";
import { steps } from "./steps";
import { preciseNow } from "./worker-trace";
import { families, total } from "../helpers/prometheus";

export type ScenarioName = "hello" | "fanout" | "sequence" | "latency" | "steps" | "entities" | "memory" | "startup" | "purge" | "kept";
export const SCENARIOS: ScenarioName[] = ["hello", "fanout", "sequence", "latency", "steps", "entities", "memory", "startup", "purge", "kept"];
export const SCENARIO_TITLES: Record<ScenarioName, string> = {
  hello: "HelloCities5", fanout: "fan-out/in", sequence: "sequence", latency: "latency", steps: "per-step trace", entities: "entities", memory: "memory", startup: "startup",
  purge: "HelloCities5 + purge", kept: "HelloCities5 + kept",
};
/** What the p50/p99 columns measure in each scenario. */
export const LATENCY_KINDS: Record<ScenarioName, string> = {
  hello: "completion: from each orchestration's start request to its completion",
  fanout: "activities: from the start request to when each activity ran",
  sequence: "per step: between consecutive activities of the sequence",
  latency: "end to end: start request to completion, one orchestration at a time",
  steps: "as latency, on a scheduler logging every work item (debug, JSON) and SDK workers recording theirs; the notes split the chain into legs",
  entities: "per transfer: from its start request to its completion (items: entity operations, the signals and the transfers' calls)",
  memory: "to waiting: from each start request to its first episode completed",
  startup: "to waiting: from each start request to its first episode completed (before the crash)",
  purge: "completion, as hello, while retention purges the expired instances",
  kept: "completion, as hello, beside the same old instances with retention off",
};

export interface Row {
  path: PathName;
  scenario: ScenarioName;
  size: number;
  skipped?: string;
  error?: string;
  seconds?: number;
  orchestrations?: number;
  orchestrationsPerSecond?: number;
  workItems?: number;
  workItemsPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  latencyKind?: string;
  schedulerPeakRssMiB?: number;
  schedulerCpuSeconds?: number;
  /** Of schedulerCpuSeconds, the main threads' (the event loops); the rest is the SQLite writer's and V8's helper threads'. */
  schedulerMainCpuSeconds?: number;
  schedulerWriterCpuSeconds?: number;
  /** null for inprocess: one process does everything (its CPU is in schedulerCpuSeconds). */
  workerCpuSeconds?: number | null;
  clientCpuSeconds?: number;
  /** This row's seconds / the inprocess row's seconds for the same scenario and size. */
  timeVsInProcess?: number;
  notes?: string;
  memory?: {
    baselineRssMiB: number; waitingRssMiB: number; idleSeconds: number; idleRssMiB: number;
    baselineHeapUsedMiB?: number; idleHeapUsedMiB?: number; rssPerInstanceKiB: number; heapPerInstanceKiB?: number;
    /** Only from 10,000 instances up: fewer are too noisy to extrapolate. */
    projectedRssMiBAt100k?: number; eventToCompletedMs: number;
  };
  startup?: {
    rssBeforeCrashMiB: number; listenSeconds: number; readySeconds: number; eventToCompletedMs: number;
    rssAfterRestartMiB: number; restartCpuSeconds: number;
  };
}

export interface ScenarioContext {
  label: string;
  /** Epoch ms by which the scenario must have finished. */
  deadline: number;
  sizes: Record<ScenarioName, number>;
  /** Unmeasured runs before the latency scenario's measured ones. */
  latencyWarmup: number;
  idleSeconds: number;
  /** Start requests in flight at once when creating waiting instances. */
  window: number;
  isAborted(): boolean;
}

// ---- progress ----

/**
 * A line on stderr every second: done/total. Ticks and heartbeats print too, so the in-process path
 * (whose test worker keeps the event loop busy with microtasks, starving timers) still reports.
 */
export class Progress {
  /** The progress being shown; heartbeat() lets code that starves timers print it. */
  private static current?: Progress;
  static heartbeat(): void {
    Progress.current?.maybePrint();
  }

  done = 0;
  private last = 0;
  private readonly t0 = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(private label: string, public total: number, public unit: string) {}

  start(): this {
    Progress.current = this;
    this.last = Date.now();
    this.timer = setInterval(() => this.maybePrint(), 250);
    return this;
  }

  tick(n = 1): void {
    this.done += n;
    this.maybePrint();
  }

  private maybePrint(): void {
    const now = Date.now();
    if (now - this.last < 1000) return;
    this.last = now;
    process.stderr.write(`  ${this.label}: ${this.done}/${this.total} ${this.unit} (${((now - this.t0) / 1000).toFixed(0)} s)\n`);
  }

  stop(): void {
    clearInterval(this.timer);
    if (Progress.current === this) Progress.current = undefined;
  }
}

// ---- figures ----

export function percentile(sorted: number[], p: number): number | undefined {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const round = (x: number, digits = 1) => +x.toFixed(digits);

interface Usage {
  seconds: number;
  schedulerCpuSeconds: number;
  schedulerMainCpuSeconds: number;
  /** The SQLite writer thread's share of schedulerCpuSeconds (0 on the other stores). */
  schedulerWriterCpuSeconds: number;
  workerCpuSeconds: number | null;
  clientCpuSeconds: number;
  schedulerPeakRssMiB: number;
}

/** Starts the clocks: wall time, CPU of the scheduler, worker and this process; resets the scheduler's peak RSS. */
function startUsage(target: Target): () => Usage {
  const inProcess = target.schedulerPid === process.pid;
  resetPeakRss(target.schedulerPid);
  const t0 = Date.now();
  const schedulerPids = [target.schedulerPid, ...(target.peerSchedulerPids ?? [])];
  const schedulerCpu = () => schedulerPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const schedulerMainCpu = () => schedulerPids.reduce((sum, pid) => sum + mainThreadCpuSeconds(pid), 0);
  const schedulerWriterCpu = () => schedulerPids.reduce((sum, pid) => sum + namedThreadsCpuSeconds(pid, WRITER_THREAD_NAME), 0);
  const sched0 = schedulerCpu();
  const schedMain0 = schedulerMainCpu();
  const schedWriter0 = schedulerWriterCpu();
  const workersCpu = () => target.workerPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const worker0 = workersCpu();
  const client0 = process.cpuUsage();
  return () => {
    const client = process.cpuUsage(client0);
    return {
      seconds: (Date.now() - t0) / 1000,
      schedulerCpuSeconds: round(schedulerCpu() - sched0, 2),
      schedulerMainCpuSeconds: round(schedulerMainCpu() - schedMain0, 2),
      schedulerWriterCpuSeconds: round(schedulerWriterCpu() - schedWriter0, 2),
      workerCpuSeconds: inProcess ? null : round(workersCpu() - worker0, 2),
      clientCpuSeconds: round((client.user + client.system) / 1e6, 2),
      schedulerPeakRssMiB: round(peakRssBytes(target.schedulerPid) / MiB),
    };
  };
}

function figures(usage: Usage, orchestrations: number, workItems: number, latencies: number[]) {
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 0.5);
  const p99 = percentile(latencies, 0.99);
  return {
    ...usage, seconds: round(usage.seconds, 3), orchestrations, workItems,
    orchestrationsPerSecond: round(orchestrations / usage.seconds, orchestrations / usage.seconds < 10 ? 3 : 1),
    workItemsPerSecond: round(workItems / usage.seconds),
    p50Ms: p50 === undefined ? undefined : round(p50, 1), p99Ms: p99 === undefined ? undefined : round(p99, 1),
  };
}

/** Counters the scheduler's /metrics has so far; undefined without its dashboard. */
interface SchedulerCounts {
  /** Activities the Functions host ran inline with their orchestrator's episode. */
  inline: number;
  /** Group commits, and the changes they wrote. */
  groups: number;
  changes: number;
}

async function schedulerCounts(target: Target): Promise<SchedulerCounts | undefined> {
  if (target.dashboardPort === undefined) return undefined;
  const metrics = families(await (await fetch(`http://localhost:${target.dashboardPort}/metrics`)).text());
  const commits = metrics.get("dts_commit_batch_changes");
  return { inline: total(metrics.get("dts_work_items_inline_total")), groups: total(commits, "count"), changes: total(commits, "sum") };
}

/** The phase's notes from the scheduler's counters: activities run inline, and group commits (how many, how large). */
async function phaseNotes(target: Target): Promise<(activities: number) => Promise<{ notes?: string }>> {
  const before = await schedulerCounts(target);
  return async (activities) => {
    const after = await schedulerCounts(target);
    if (!before || !after) return {};
    const notes: string[] = [];
    const ran = after.inline - before.inline;
    if (ran > 0) notes.push(`${ran} of ${activities} activities ran inline with their orchestrator's episode`);
    const groups = after.groups - before.groups;
    if (groups > 0) notes.push(`${groups} group commits, ${((after.changes - before.changes) / groups).toFixed(1)} changes each`);
    return notes.length > 0 ? { notes: notes.join("; ") } : {};
  };
}

// ---- scenarios ----

/**
 * One HelloCities5 to completion: connects everything and warms the JIT before the clocks start. The
 * scheduler's /metrics is read once too: the bench's first fetch() loads and compiles Node's HTTP
 * client, which slowed the first seconds of the phase that followed it (phaseNotes reads /metrics
 * just before each phase; the latency scenario's p50 was 1.3-1.7 ms higher for it on the memory path).
 */
export async function warmUp(target: Target, deadline: number): Promise<void> {
  const id = await target.start("hello");
  await target.waitCompleted(id, Math.min(deadline, Date.now() + 120_000));
  await schedulerCounts(target);
}

/** (1) N HelloCities5 started at once (in start batches of 100); completion latency from each start request. */
async function hello(target: Target, ctx: ScenarioContext): Promise<Partial<Row>> {
  const n = ctx.sizes.hello;
  const progress = new Progress(ctx.label, n, "completed").start();
  try {
    const notes = await phaseNotes(target);
    const usage = startUsage(target);
    const latencies: number[] = [];
    const waits: Promise<void>[] = [];
    let first: string | undefined;
    for (let i = 0; i < n && !ctx.isAborted(); i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, async () => {
        const startedAt = Date.now();
        return { id: await target.start("hello"), startedAt };
      }));
      first ??= batch[0].id;
      for (const { id, startedAt } of batch) {
        const wait = target.waitCompleted(id, ctx.deadline).then(() => {
          latencies.push(Date.now() - startedAt);
          progress.tick();
        });
        wait.catch(() => undefined); // handled by the Promise.all below, which may only be reached later
        waits.push(wait);
      }
    }
    await Promise.all(waits);
    const u = usage();
    // Every HelloCities5 has the same history: count one instance's episodes and activities.
    const perOrchestration = first ? await target.workItems(first) : 0;
    return { ...figures(u, n, perOrchestration * n, latencies), ...(await notes(5 * n)) };
  } finally {
    progress.stop();
  }
}

/** (2) One orchestration fanning out to N activities and in again. */
async function fanout(target: Target, ctx: ScenarioContext): Promise<Partial<Row>> {
  const n = ctx.sizes.fanout;
  const progress = new Progress(ctx.label, 1, `completed (1 orchestration, ${n} activities)`).start();
  try {
    const notes = await phaseNotes(target);
    const usage = startUsage(target);
    const startedAt = Date.now();
    const id = await target.start("fanout", n);
    const output = JSON.parse((await target.waitCompleted(id, ctx.deadline, true)) ?? "null");
    const u = usage();
    progress.tick();
    const row = { ...figures(u, 1, await target.workItems(id), Array.isArray(output) ? output.map((t: number) => t - startedAt) : []), ...(await notes(n)) };
    return Array.isArray(output) ? row : { ...row, notes: `${row.notes ? `${row.notes}; ` : ""}the sample's ${output?.count ?? "?"} MeasureItem activities do not record when they ran: no p50/p99` };
  } finally {
    progress.stop();
  }
}

/** (3) One orchestration calling N activities in sequence: the time per step. */
async function sequence(target: Target, ctx: ScenarioContext): Promise<Partial<Row>> {
  const n = ctx.sizes.sequence;
  const progress = new Progress(ctx.label, 1, `completed (${n} sequential activities)`).start();
  try {
    const usage = startUsage(target);
    const id = await target.start("sequence", n);
    const times = JSON.parse((await target.waitCompleted(id, ctx.deadline, true)) ?? "[]") as number[];
    const u = usage();
    progress.tick();
    const steps = times.slice(1).map((t, i) => t - times[i]);
    return figures(u, 1, await target.workItems(id), steps);
  } finally {
    progress.stop();
  }
}

/** One run of the latency scenario as the client saw it: epoch ms, sub-millisecond. */
export interface ClientRun {
  instanceId: string;
  /** scheduleNewOrchestration called. */
  calledAt: number;
  /** Its answer (the start is durable). */
  startedAt: number;
  /** The wait for completion returned. */
  completedAt: number;
}

/**
 * (4) An idle system: one HelloCities5 at a time, N times; end-to-end latency. Each run goes to `record`.
 * Unmeasured runs come first: a scheduler that has run for a while has its hot paths compiled by V8's
 * optimising compiler, and so has a worker; the first few hundred steps of fresh processes are slower.
 */
async function latency(target: Target, ctx: ScenarioContext, record?: (run: ClientRun) => void): Promise<Partial<Row>> {
  const n = ctx.sizes.latency;
  const warming = new Progress(ctx.label, ctx.latencyWarmup, "warm-up runs (one at a time, not measured)").start();
  try {
    for (let i = 0; i < ctx.latencyWarmup && !ctx.isAborted(); i++) {
      await target.waitCompleted(await target.start("hello"), ctx.deadline);
      warming.tick();
    }
  } finally {
    warming.stop();
  }
  const progress = new Progress(ctx.label, n, "completed (one at a time)").start();
  try {
    const notes = await phaseNotes(target);
    const usage = startUsage(target);
    const latencies: number[] = [];
    let last = "";
    for (let i = 0; i < n && !ctx.isAborted(); i++) {
      const calledAt = preciseNow();
      last = await target.start("hello");
      const startedAt = preciseNow();
      await target.waitCompleted(last, ctx.deadline);
      const completedAt = preciseNow();
      latencies.push(completedAt - calledAt);
      record?.({ instanceId: last, calledAt, startedAt, completedAt });
      progress.tick();
    }
    const u = usage();
    return { ...figures(u, n, (await target.workItems(last)) * n, latencies), ...(await notes(5 * n)) };
  } finally {
    progress.stop();
  }
}

/**
 * Starts N instances that wait on an external event, `window` start requests in flight, each followed
 * by a wait until its first episode has completed (RUNNING). Returns the ids and start-to-waiting latencies.
 */
async function createWaiting(target: Target, n: number, ctx: ScenarioContext): Promise<{ ids: string[]; latencies: number[] }> {
  const progress = new Progress(ctx.label, n, "waiting on their event").start();
  const ids: string[] = new Array(n);
  const latencies: number[] = [];
  let next = 0;
  try {
    const lane = async () => {
      while (next < n && !ctx.isAborted()) {
        const i = next++;
        const startedAt = Date.now();
        ids[i] = await target.start("wait");
        await target.waitStarted(ids[i], ctx.deadline);
        latencies.push(Date.now() - startedAt);
        progress.tick();
      }
    };
    await Promise.all(Array.from({ length: Math.min(ctx.window, n) }, lane));
    if (ctx.isAborted()) throw new Error("interrupted");
    return { ids, latencies };
  } finally {
    progress.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Raises the event on one waiting instance and waits for it to complete; returns the milliseconds. */
async function eventRoundTrip(target: Target, id: string, deadline: number): Promise<number> {
  const t = Date.now();
  await target.raiseEvent(id, GO_EVENT, "go");
  await target.waitCompleted(id, deadline);
  return Date.now() - t;
}

/** N instances waiting on an event: the scheduler's RSS, and again after an idle period and a forced GC. */
async function memory(target: Target, ctx: ScenarioContext): Promise<Partial<Row>> {
  const n = ctx.sizes.memory;
  const pid = target.schedulerPid;
  const baselineHeap = await target.forceGc();
  const baseline = rssBytes(pid);
  const usage = startUsage(target);
  const { ids, latencies } = await createWaiting(target, n, ctx);
  const u = usage();
  const waitingRss = rssBytes(pid);
  const idle = new Progress(ctx.label, ctx.idleSeconds, "s idle before a forced GC").start();
  for (let s = 0; s < ctx.idleSeconds && !ctx.isAborted(); s++) {
    await sleep(1000);
    idle.tick();
  }
  idle.stop();
  const heapUsed = await target.forceGc();
  await sleep(500);
  const idleRss = rssBytes(pid);
  const eventMs = await eventRoundTrip(target, ids[Math.floor(n / 2)], ctx.deadline);
  // Per instance: the growth of the heap in use (after GC) and of RSS, over the baseline taken after the warm-up.
  const heapPerInstance = heapUsed !== undefined && baselineHeap !== undefined ? (heapUsed - baselineHeap) / n : undefined;
  const rssPerInstance = Math.max(0, idleRss - baseline) / n;
  const projected = (baseline + rssPerInstance * 100_000) / MiB;
  const row = figures(u, n, n, latencies);
  const verdict = n >= 100_000 ? `${idleRss / MiB < 1024 ? "meets" : "misses"} the < 1 GiB target at ${n}`
    : n >= 10_000 ? `~${projected.toFixed(0)} MiB projected at 100,000 (target < 1024)` : "too few instances to project to 100,000";
  return {
    ...row,
    memory: {
      baselineRssMiB: round(baseline / MiB), waitingRssMiB: round(waitingRss / MiB), idleSeconds: ctx.idleSeconds, idleRssMiB: round(idleRss / MiB),
      baselineHeapUsedMiB: baselineHeap === undefined ? undefined : round(baselineHeap / MiB), idleHeapUsedMiB: heapUsed === undefined ? undefined : round(heapUsed / MiB),
      rssPerInstanceKiB: round(rssPerInstance / 1024, 2), heapPerInstanceKiB: heapPerInstance === undefined ? undefined : round(heapPerInstance / 1024, 2),
      projectedRssMiBAt100k: n >= 10_000 ? round(projected) : undefined, eventToCompletedMs: eventMs,
    },
    notes: `RSS ${(baseline / MiB).toFixed(0)} MiB before, ${(waitingRss / MiB).toFixed(0)} waiting, ${(idleRss / MiB).toFixed(0)} after ${ctx.idleSeconds} s idle + GC` +
      ` (${(rssPerInstance / 1024).toFixed(1)} KiB/instance` +
      `${heapPerInstance === undefined ? "; no GC available" : `; heap ${(heapUsed! / MiB).toFixed(0)} MiB, ${(heapPerInstance / 1024).toFixed(1)} KiB/instance`}); ${verdict}; event->completed ${eventMs} ms`,
  };
}

/** N waiting instances on SQLite; SIGKILL the scheduler, restart it on the same data: time to listen and to dispatch. */
async function startup(target: Target, ctx: ScenarioContext): Promise<Partial<Row>> {
  const n = ctx.sizes.startup;
  const usage = startUsage(target);
  const { ids, latencies } = await createWaiting(target, n, ctx);
  const u = usage();
  const rssBeforeCrash = rssBytes(target.schedulerPid);
  process.stderr.write(`  ${ctx.label}: SIGKILL the scheduler, restart it on the same data\n`);
  const { spawnedAt, listenMs } = await target.crashAndRestart();
  const raisedAt = Date.now();
  const eventMs = await eventRoundTrip(target, ids[Math.floor(n / 2)], ctx.deadline);
  const readyMs = Date.now() - spawnedAt;
  const restartCpu = cpuSeconds(target.schedulerPid);
  const rssAfter = rssBytes(target.schedulerPid);
  const row = figures(u, n, n, latencies);
  const goal = n >= 100_000 ? `; ${readyMs <= 10_000 ? "meets" : "misses"} the 10 s target` : "";
  return {
    ...row,
    startup: {
      rssBeforeCrashMiB: round(rssBeforeCrash / MiB), listenSeconds: round(listenMs / 1000, 3), readySeconds: round(readyMs / 1000, 3),
      eventToCompletedMs: Date.now() - raisedAt, rssAfterRestartMiB: round(rssAfter / MiB), restartCpuSeconds: round(restartCpu, 2),
    },
    notes: `restart: listening after ${(listenMs / 1000).toFixed(2)} s, an event raised then dispatched and completed after ${(readyMs / 1000).toFixed(2)} s` +
      ` (event->completed ${eventMs} ms)${goal}; RSS ${(rssBeforeCrash / MiB).toFixed(0)} MiB before the crash, ${(rssAfter / MiB).toFixed(0)} after the restart`,
  };
}

/** Entity accounts the entities scenario spreads its signals and transfers over. */
const ACCOUNTS = 10;

/** Waits until the account's queue is empty and it holds `expected`; fails when it holds more, or at the deadline. */
async function settledAt(e: EntityTarget, key: string, expected: number, ctx: ScenarioContext, what: string): Promise<void> {
  let state: number | undefined;
  while (Date.now() < ctx.deadline && !ctx.isAborted()) {
    state = await e.settled(key);
    if (state === expected) return;
    if (state !== undefined && state > expected) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`account ${key} did not ${what}: it holds ${state}, expected ${expected}`);
}

/**
 * (5) Entities: N signals at once, spread evenly over 10 accounts, until every account has applied
 * them; then N/10 transfers at once, each between two neighbouring accounts in a critical section
 * that locks both. The transfers go round the ring, so every balance ends where it started.
 */
async function entities(target: Target, ctx: ScenarioContext): Promise<Partial<Row>> {
  const e = target.entities!;
  const n = ctx.sizes.entities;
  const transfers = Math.max(1, Math.round(n / 10));
  const keys = Array.from({ length: ACCOUNTS }, (_, i) => `account-${i}`);
  const expected = (key: number) => Math.floor(n / ACCOUNTS) + (key < n % ACCOUNTS ? 1 : 0);
  const progress = new Progress(ctx.label, n + transfers, "signals applied and transfers completed").start();
  try {
    const t0 = Date.now();
    const usage = startUsage(target);
    await Promise.all(Array.from({ length: n }, (_, i) => e.signal(keys[i % ACCOUNTS], "add", 1)));
    await Promise.all(keys.map(async (key, i) => {
      await settledAt(e, key, expected(i), ctx, "apply its signals");
      progress.tick(expected(i));
    }));
    const signalSeconds = (Date.now() - t0) / 1000;
    const latencies: number[] = [];
    await Promise.all(Array.from({ length: transfers }, async (_, i) => {
      const startedAt = Date.now();
      const id = await e.startTransfer(keys[i % ACCOUNTS], keys[(i + 1) % ACCOUNTS], 1);
      await target.waitCompleted(id, ctx.deadline);
      latencies.push(Date.now() - startedAt);
      progress.tick();
    }));
    const u = usage();
    // The transfers go round the ring: every balance is back where it was once every call ran exactly once.
    await Promise.all(keys.map((key, i) => settledAt(e, key, expected(i), ctx, "end the transfers where it began")));
    const transferSeconds = u.seconds - signalSeconds;
    return {
      ...figures(u, transfers, n + 2 * transfers, latencies),
      notes: `${n} signals applied in ${signalSeconds.toFixed(2)} s (${Math.round(n / signalSeconds)}/s); ${transfers} transfers in ${transferSeconds.toFixed(2)} s (${(transfers / transferSeconds).toFixed(1)}/s)`,
    };
  } finally {
    progress.stop();
  }
}

export const RUNNERS: Record<ScenarioName, (target: Target, ctx: ScenarioContext) => Promise<Partial<Row>>> = {
  hello, fanout, sequence, latency, entities, memory, startup,
  steps: (t, ctx) => steps(t, ctx, latency),
  purge: (t, ctx) => helloBesideOldInstances(t, ctx, true, hello),
  kept: (t, ctx) => helloBesideOldInstances(t, ctx, false, hello),
};

/** Why a path does not run a scenario, or undefined when it does. */
export function skipReason(path: PathName, scenario: ScenarioName, target?: Target): string | undefined {
  if (path === "functions-v4" && (scenario === "startup" || scenario === "memory" || scenario === "sequence" || scenario === "entities")) return skipReason("functions", scenario, target);
  if (scenario === "startup") {
    if (path === "memory") return "the memory store keeps nothing across a restart";
    if (path === "postgres") return "the restart is measured on the sqlite path";
    if (path === "inprocess") return "no scheduler process to restart";
    if (path === "functions") return "same scheduler as the sqlite path; the sample app has no orchestration that only waits on an event";
  }
  if (scenario === "memory" && path === "functions") return "same scheduler as the sqlite path; the sample app has no orchestration that only waits on an event";
  if (path === "functions" && scenario === "sequence") return "the sample app has no long-sequence orchestration";
  if (scenario === "entities" && path === "functions") return "same scheduler as the sqlite path; the sample app has no bench entities";
  if (scenario === "entities" && path === "inprocess") return "the SDK's in-process test backend runs no entities";
  if (scenario === "entities") return undefined;
  if (scenario === "purge" || scenario === "kept") return path === "sqlite" ? undefined : "retention purges a SQLite store; measured on the sqlite path";
  if (scenario === "steps" && path === "inprocess") return "no scheduler process whose log to read";
  return target?.unsupported(scenario === "memory" || scenario === "startup" ? "wait" : scenario === "latency" || scenario === "steps" ? "hello" : scenario);
}
