// The five paths the bench measures, behind one interface:
//   sqlite     `dts serve --store sqlite` + the official SDK worker in its own process
//   memory     `dts serve --store memory` + the same worker
//   postgres   `dts serve --store postgres` on a PostgreSQL server of its own (test/helpers/postgres-server.ts) + the same worker
//   functions  `dts serve --store sqlite` + `dts func start` on the repository's sample app (the
//              Functions provider adapter runs the app's orchestrations), started by name through
//              the SDK client on the app's task hub
//   functions-v4  the same with test/df4-app: the same HelloCities and FanOutFanIn on durable-functions 4
//              (protobuf work items, no JSON translation in the host)
//   inprocess  the SDK's own in-process test backend (InMemoryOrchestrationBackend,
//              TestOrchestrationClient, TestOrchestrationWorker) in this process: the reference for
//              what the worker alone can do
import * as fs from "fs";
import * as path from "path";
import { ChildProcess } from "child_process";
import {
  EntityInstanceId, HistoryEventType, InMemoryOrchestrationBackend, NoOpLogger, OrchestrationState, OrchestrationStatus,
  TaskHubGrpcClient, TestOrchestrationClient, TestOrchestrationWorker,
} from "@microsoft/durabletask-js";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";
import { owners, shares } from "../helpers/cluster";
import { DEFAULT_PARTITIONS } from "../../src/core/partition";
import { DF4_APP, ensureDf4App } from "../helpers/df4-app";
import { connectionString, FuncHostProcess, REPO_ROOT, startFuncHost } from "../helpers/func-process";
import { spawnTracked, stopProcess, track } from "./procfs";
import { Progress } from "./scenarios";
import { bearerMetadata } from "./auth";
import { ACCOUNT_ENTITY, fanOutFanIn, helloCities, longSequence, registerWorkloads, transfer, waitForGo } from "./workloads";

export type PathName = "sqlite" | "memory" | "postgres" | "functions" | "functions-v4" | "inprocess";
export const PATHS: PathName[] = ["sqlite", "memory", "postgres", "functions", "functions-v4", "inprocess"];
/** Without --paths: every path but postgres, which needs PostgreSQL's binaries installed. */
export const DEFAULT_PATHS = PATHS.filter((p) => p !== "postgres");

/** The paths that run a function app under `dts func start` (3.x sample, or the 4.x one). */
export const isFunctionsPath = (p: PathName) => p === "functions" || p === "functions-v4";

/** What a scenario starts: HelloCities5, the fan-out, the long sequence, or an instance waiting on an event. */
export type Workload = "hello" | "fanout" | "sequence" | "wait";

export interface TargetOptions {
  /** Extra node flags for the scheduler process (--node-arg). */
  nodeArgs: string[];
  /** Extra node flags for the SDK worker processes (--worker-node-arg). */
  workerNodeArgs?: string[];
  /** How many SDK worker processes the sqlite and memory paths start (--workers; default 1). */
  workers?: number;
  /** dts serve nodes on the postgres path (--nodes; default 1), one cluster on one database. */
  nodes?: number;
  /** SQLite data directory to use (the restart scenario reuses it); a new temporary one otherwise. */
  dataDir?: string;
  /** Port for the scheduler (the restart scenario restarts on the same one); a free one otherwise. */
  port?: number;
  /** --auth: the scheduler checks tokens; the worker, the client and the functions host send them. */
  auth?: BenchAuth;
  /** More `dts serve` flags (the retention scenarios' policy). */
  serveArgs?: string[];
  /** The SDK workers write when they receive and complete each work item to a file in the data directory (the per-step trace). */
  traceWorkers?: boolean;
}

export interface BenchAuth {
  /** `dts serve` flags: the issuer and the role assignments. */
  serveArgs: string[];
  /** A Worker's token (SDK workers), a Contributor's (the bench's client), and the Worker token in a file (the functions host). */
  workerToken: string;
  clientToken: string;
  workerTokenFile: string;
}

/** The SDK client the bench starts and waits with; with auth, it sends the Contributor's token. */
function benchClient(address: string, auth: BenchAuth | undefined): TaskHubGrpcClient {
  return new TaskHubGrpcClient({ hostAddress: address, logger: new NoOpLogger(), metadataGenerator: auth ? bearerMetadata(auth.clientToken) : undefined });
}

/** The entity workloads of a target whose worker hosts them (the sqlite and memory paths). */
export interface EntityTarget {
  /** Signals one operation with a number to the bench account `key`. */
  signal(key: string, operation: string, input: number): Promise<void>;
  /** The account's state once nothing waits in its queue; undefined while something does. */
  settled(key: string): Promise<number | undefined>;
  /** Starts a transfer of `amount` from one account to another inside a critical section. */
  startTransfer(from: string, to: string, amount: number): Promise<string>;
}

export interface Target {
  path: PathName;
  /** The entity workloads, where the path runs them. */
  entities?: EntityTarget;
  /** The process whose RSS and CPU count as the scheduler's (this process for inprocess). */
  schedulerPid: number;
  /** More scheduler processes whose CPU counts too (the other nodes of a cluster). */
  peerSchedulerPids?: number[];
  /** The worker processes (the SDK workers, or the functions host); none for inprocess (one process does everything). */
  workerPids: number[];
  /** The scheduler's port (gRPC paths). */
  port?: number;
  /** Its dashboard's port (gRPC paths). */
  dashboardPort?: number;
  /** What the scheduler process printed so far (gRPC paths; empty in process). */
  schedulerOutput(): string;
  /** What the SDK worker processes wrote to their trace files so far, or the functions host's output (empty where there are none). */
  workerTrace(): string;
  dataDir?: string;
  /** Why this path cannot run a workload, or undefined when it can. */
  unsupported(workload: Workload): string | undefined;
  /** Starts one orchestration of the workload (size: the fan-out width or sequence length). */
  start(workload: Workload, size?: number): Promise<string>;
  /** Waits until the instance completes (throws if it fails or the deadline passes); returns its output when asked. */
  waitCompleted(id: string, deadline: number, withOutput?: boolean): Promise<string | undefined>;
  /** Waits until the instance's first episode has completed (it is RUNNING). */
  waitStarted(id: string, deadline: number): Promise<void>;
  raiseEvent(id: string, name: string, data: unknown): Promise<void>;
  /** Rejects when one of the target's processes exits while it should be running (the scenario fails at once). */
  failed: Promise<never>;
  /** Orchestrator episodes + activity executions in the instance's history. */
  workItems(id: string): Promise<number>;
  /** Forces a full GC in the scheduler; resolves with its heap in use, or undefined when it cannot. */
  forceGc(): Promise<number | undefined>;
  /**
   * A crash and restart (sqlite path): SIGKILLs the scheduler, stops the worker, starts a new worker
   * that connects as soon as the port opens, and restarts the scheduler on the same port and data.
   * Resolves with the moment the restart was spawned and the milliseconds until it listened.
   */
  crashAndRestart(): Promise<{ spawnedAt: number; listenMs: number }>;
  stop(): Promise<void>;
}

const GC_PRELOAD = path.join(__dirname, "gc-on-signal.js");
const TERMINAL = new Set([OrchestrationStatus.COMPLETED, OrchestrationStatus.FAILED, OrchestrationStatus.TERMINATED]);

function checkCompleted(id: string, state: OrchestrationState | undefined): OrchestrationState {
  if (!state) throw new Error(`instance ${id} not found`);
  if (state.runtimeStatus !== OrchestrationStatus.COMPLETED) {
    throw new Error(`instance ${id} ended ${OrchestrationStatus[state.runtimeStatus]}${state.failureDetails ? `: ${state.failureDetails.message}` : ""}`);
  }
  return state;
}

/** Repeats a bounded wait until it answers or the deadline passes (long waits end server-side after minutes). */
async function untilDeadline<T>(id: string, deadline: number, what: string, once: (timeoutSeconds: number) => Promise<T>): Promise<T> {
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`instance ${id} did not ${what} before the scenario's time limit`);
    try {
      return await once(Math.max(1, Math.min(120, Math.ceil(left / 1000))));
    } catch (e) {
      const err = e as { code?: number; message?: string };
      const timedOut = err.code === 4 || /Timed out waiting|did not reach the awaited state/.test(err.message ?? "");
      if (!timedOut) throw e;
    }
  }
}

/** The trace file of the n-th SDK worker process of a target (its data directory holds them). */
const workerTraceFile = (dataDir: string, n: number) => path.join(dataDir, `worker-trace-${n}.log`);

/** Spawns the SDK worker process; resolves once it prints `waitFor` ("ready", or "waiting" with --wait-for-port). */
export async function spawnWorker(address: string, waitForPort = false, nodeArgs: string[] = [], token?: string, traceFile?: string): Promise<ChildProcess> {
  const args = [...nodeArgs, path.join(__dirname, "worker-process.js"), address, ...(waitForPort ? ["--wait-for-port"] : []), ...(traceFile ? ["--trace", traceFile] : [])];
  const env = token ? { ...process.env, DTS_BENCH_TOKEN: token } : process.env;
  const proc = spawnTracked(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"], env });
  let out = "";
  const waitFor = waitForPort ? "waiting" : "ready";
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes(waitFor)) resolve();
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    proc.once("exit", (code) => reject(new Error(`the worker process exited with ${code} before it was ${waitFor}:\n${out}`)));
  });
  return proc;
}

/** Spawns options.workers (default 1) worker processes at once; stops them all if one fails to start. */
async function spawnWorkers(address: string, options: TargetOptions, waitForPort = false): Promise<ChildProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: options.workers ?? 1 }, (_, n) =>
    spawnWorker(address, waitForPort, options.workerNodeArgs, options.auth?.workerToken, options.traceWorkers && options.dataDir ? workerTraceFile(options.dataDir, n) : undefined)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (!failed) return started.map((r) => (r as PromiseFulfilledResult<ChildProcess>).value);
  await Promise.all(started.map((r) => (r.status === "fulfilled" ? stopProcess(r.value) : undefined)));
  throw failed.reason;
}

/** The sqlite, memory and functions paths: a `dts serve` child, a worker child, the SDK's gRPC client. */
class GrpcTarget implements Target {
  schedulerPid: number;
  workerPids: number[];
  port: number;
  dashboardPort?: number;
  dataDir: string;
  client: TaskHubGrpcClient;
  entities?: EntityTarget;
  failed: Promise<never>;
  private fail!: (e: Error) => void;
  private stopping = false;

  schedulerOutput(): string {
    return this.dts.output();
  }

  /** The postgres path's database server, stopped after the scheduler. */
  postgres?: PostgresServer;
  /** The other nodes of the postgres path's cluster (--nodes), and their pids. */
  peers: DtsProcess[] = [];
  peerSchedulerPids?: number[];

  workerTrace(): string {
    if (this.host) return this.host.output();
    return this.workers.map((_, n) => workerTraceFile(this.dataDir, n)).map((f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "")).join("");
  }

  constructor(public path: PathName, public dts: DtsProcess, public workers: ChildProcess[], public host: FuncHostProcess | undefined, private options: TargetOptions) {
    this.schedulerPid = dts.proc.pid!;
    this.workerPids = host ? [host.proc.pid!] : workers.map((w) => w.pid!);
    this.port = dts.port;
    this.dashboardPort = dts.dashboardPort;
    this.dataDir = dts.dataDir;
    this.client = benchClient(dts.address, options.auth);
    if (path !== "functions") this.entities = entityTarget(this.client);
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => undefined);
    this.watch(dts.proc, "scheduler", () => this.dts.output());
    for (const worker of workers) this.watch(worker, "worker");
    if (host) this.watch(host.proc, "dts func start", () => host.output());
  }

  /** The other nodes of the cluster: their CPU counts as the scheduler's, and one exiting fails the scenario. */
  addPeers(peers: DtsProcess[]): void {
    this.peers = peers;
    this.peerSchedulerPids = peers.map((p) => p.proc.pid!);
    for (const p of peers) this.watch(p.proc, "scheduler (another node)", () => p.output());
  }

  private watch(proc: ChildProcess, name: string, output?: () => string): void {
    proc.once("exit", (code, signal) => {
      if (this.stopping) return;
      const tail = output?.().slice(-2000).trim();
      this.fail(new Error(`the ${name} process (pid ${proc.pid}) exited (${signal ?? `code ${code}`}) during the scenario${tail ? `; its last output:\n${tail}` : ""}`));
    });
  }

  unsupported(workload: Workload): string | undefined {
    if (!isFunctionsPath(this.path)) return undefined;
    if (workload === "sequence") return "the sample app has no long-sequence orchestration";
    if (workload === "wait") return "the sample app has no orchestration that only waits on an event";
    return undefined;
  }

  start(workload: Workload, size = 0): Promise<string> {
    if (isFunctionsPath(this.path)) {
      if (workload === "hello") return this.client.scheduleNewOrchestration("HelloCities");
      if (workload === "fanout") return this.client.scheduleNewOrchestration("FanOutFanIn", { items: Array.from({ length: size }, (_, i) => `item-${i}`) });
      throw new Error(this.unsupported(workload));
    }
    return startWorkload(this.client, workload, size);
  }

  waitCompleted(id: string, deadline: number, withOutput = false): Promise<string | undefined> {
    return waitCompletedOn(this.client, id, deadline, withOutput);
  }

  async waitStarted(id: string, deadline: number): Promise<void> {
    const state = await untilDeadline(id, deadline, "start", (t) => this.client.waitForOrchestrationStart(id, false, t));
    if (!state || state.runtimeStatus !== OrchestrationStatus.RUNNING) throw new Error(`instance ${id} is ${state ? OrchestrationStatus[state.runtimeStatus] : "missing"}, not RUNNING`);
  }

  raiseEvent(id: string, name: string, data: unknown): Promise<void> {
    return this.client.raiseOrchestrationEvent(id, name, data);
  }

  async workItems(id: string): Promise<number> {
    const history = await this.client.getOrchestrationHistory(id);
    return history.filter((e) => e.type === HistoryEventType.OrchestratorStarted || e.type === HistoryEventType.TaskScheduled).length;
  }

  async forceGc(): Promise<number | undefined> {
    const before = this.dts.output().split("bench-gc ").length;
    this.dts.proc.kill("SIGUSR2");
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const parts = this.dts.output().split("bench-gc ");
      if (parts.length > before) {
        const m = JSON.parse(parts[parts.length - 1].split("\n")[0]) as { gc: boolean; heapUsed: number };
        return m.gc ? m.heapUsed : undefined;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  async crashAndRestart(): Promise<{ spawnedAt: number; listenMs: number }> {
    if (this.path !== "sqlite" || this.workers.length === 0) throw new Error("crash and restart is measured on the sqlite path");
    this.stopping = true;
    await this.dts.kill();
    await this.client.stop().catch(() => undefined);
    await Promise.all(this.workers.map((w) => stopProcess(w)));
    this.stopping = false;
    this.workers = await spawnWorkers(this.dts.address, this.options, true);
    for (const worker of this.workers) this.watch(worker, "worker");
    const spawnedAt = Date.now();
    this.dts = await startScheduler("sqlite", { ...this.options, dataDir: this.dataDir, port: this.port });
    const listenMs = Date.now() - spawnedAt;
    this.watch(this.dts.proc, "scheduler", () => this.dts.output());
    this.schedulerPid = this.dts.proc.pid!;
    this.dashboardPort = this.dts.dashboardPort;
    this.workerPids = this.workers.map((w) => w.pid!);
    this.client = benchClient(this.dts.address, this.options.auth);
    return { spawnedAt, listenMs };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.client.stop().catch(() => undefined);
    await Promise.all(this.workers.map((w) => stopProcess(w)));
    if (this.host) await stopProcess(this.host.proc);
    await Promise.all(this.peers.map((p) => stopProcess(p.proc)));
    await stopProcess(this.dts.proc);
    await this.postgres?.stop();
  }
}

/** Rejects if `p` has not settled within `ms` (a process that never prints that it listens). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms)))])
    .finally(() => clearTimeout(timer));
}

/** The other nodes of a cluster on the postgres path, started once the first has joined; resolves once each holds its share of the partitions. */
async function startPeers(url: string, first: DtsProcess, options: TargetOptions): Promise<DtsProcess[]> {
  const count = (options.nodes ?? 1) - 1;
  if (count <= 0) return [];
  const peers: DtsProcess[] = [];
  for (let i = 0; i < count; i++) peers.push(await startScheduler("postgres", { ...options, dataDir: newDataDir(), port: undefined }));
  const nodes = count + 1;
  const fair = (s: Record<string, number>) => Object.keys(s).length === nodes && Object.values(s).every((n) => n >= Math.floor(DEFAULT_PARTITIONS / nodes));
  const deadline = Date.now() + 120_000;
  while (!fair(shares(await owners(url)))) {
    if (Date.now() > deadline) throw new Error(`the ${nodes} nodes did not share the partitions within 2 minutes:\n${first.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return peers;
}

/** How many of `total` SDK workers go to node `i` of `nodes` (each node at least one). */
function workersOn(i: number, nodes: number, total: number): number {
  return Math.max(1, Math.floor(total / nodes) + (i < total % nodes ? 1 : 0));
}

/** Starts `dts serve` with the GC preload; tracked so the bench's cleanup stops it. */
export async function startScheduler(store: "sqlite" | "memory" | "postgres", options: TargetOptions): Promise<DtsProcess> {
  const args = ["--store", store, ...(options.port !== undefined ? ["--port", String(options.port)] : []), ...(options.auth?.serveArgs ?? []), ...(options.serveArgs ?? [])];
  const dts = await within(startDts(args, { dataDir: options.dataDir, nodeArgs: ["--expose-gc", "-r", GC_PRELOAD, ...options.nodeArgs] }), 120_000, "dts serve");
  track(dts.proc);
  return dts;
}

export async function startTarget(pathName: PathName, options: TargetOptions): Promise<Target> {
  if (pathName === "inprocess") return new InProcessTarget();
  const store = pathName === "memory" || pathName === "postgres" ? pathName : "sqlite";
  const dataDir = options.dataDir ?? newDataDir();
  let dts: DtsProcess | undefined;
  let postgres: PostgresServer | undefined;
  try {
    if (store === "postgres") postgres = await startPostgres({ durable: true });
    const serveArgs = postgres ? ["--postgres-url", await postgres.createDatabase("bench"), ...(options.serveArgs ?? [])] : options.serveArgs;
    dts = await startScheduler(store, { ...options, dataDir, serveArgs });
    if (isFunctionsPath(pathName)) {
      if (pathName === "functions-v4") ensureDf4App();
      const host = await within(startFuncHost(pathName === "functions" ? REPO_ROOT : DF4_APP, {
        DURABLE_TASK_SCHEDULER_CONNECTION_STRING: options.auth
          ? `Endpoint=http://localhost:${dts.port};TaskHub=default;Authentication=TokenFile;TokenFilePath=${options.auth.workerTokenFile}`
          : connectionString(dts.port),
        TASKHUB_NAME: "default", DTS_LOG_LEVEL: options.traceWorkers ? "debug" : "warning",
      }, options.workerNodeArgs), 120_000, "dts func start");
      track(host.proc);
      return new GrpcTarget(pathName, dts, [], host, options);
    }
    const url = serveArgs?.[1];
    const peers = postgres && url ? await startPeers(url, dts, { ...options, serveArgs }) : [];
    const workers = peers.length === 0
      ? await within(spawnWorkers(dts.address, { ...options, dataDir }), 60_000, "the worker processes")
      // Spread over the nodes, as behind a load balancer: worker n on node n mod N.
      : (await Promise.all([dts, ...peers].map((node, i, all) => within(spawnWorkers(node.address, { ...options, dataDir, workers: workersOn(i, all.length, options.workers ?? 1) }), 60_000, "the worker processes")))).flat();
    const target = new GrpcTarget(pathName, dts, workers, undefined, options);
    target.postgres = postgres;
    target.addPeers(peers);
    return target;
  } catch (e) {
    if (dts) await stopProcess(dts.proc);
    await postgres?.stop();
    if (!options.dataDir) removeDataDir(dataDir);
    throw e;
  }
}

const dataDirs = new Set<string>();

export function newDataDir(): string {
  const dir = tempDir("dts-bench-");
  dataDirs.add(dir);
  return dir;
}

/** Removes a temporary data directory the bench created. */
export function removeDataDir(dir: string | undefined): void {
  if (dir && dataDirs.delete(dir)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Removes every data directory the bench created and has not removed yet (interrupted runs). */
export function removeAllDataDirs(): void {
  for (const dir of [...dataDirs]) removeDataDir(dir);
}

// ---- in-process reference ----

// The SDK's test worker builds its executors without a logger, so they log every event to the console
// (info/debug): silenced while an in-process target runs (errors still show). The bench's own output
// goes through process.stdout/stderr directly.
const QUIET_METHODS = ["log", "info", "debug", "warn"] as const;
type Quieted = Record<(typeof QUIET_METHODS)[number], (...args: unknown[]) => void>;
let savedConsole: Quieted | undefined;
function quietConsole(on: boolean): void {
  const c = console as unknown as Quieted;
  if (on && !savedConsole) {
    savedConsole = { log: c.log, info: c.info, debug: c.debug, warn: c.warn };
    for (const k of QUIET_METHODS) c[k] = () => undefined;
  } else if (!on && savedConsole) {
    Object.assign(c, savedConsole);
    savedConsole = undefined;
  }
}

class InProcessTarget implements Target {
  path: PathName = "inprocess";
  schedulerPid = process.pid;
  workerPids = [];
  backend = new InMemoryOrchestrationBackend();
  client = new TestOrchestrationClient(this.backend);
  worker = new TestOrchestrationWorker(this.backend);
  failed = new Promise<never>(() => undefined);
  schedulerOutput = () => "";
  workerTrace = () => "";
  private started: Promise<void>;
  private episodes = new Map<string, number>();

  constructor() {
    quietConsole(true);
    registerWorkloads(this.worker);
    // The test worker runs work items back to back on microtasks, so timers (the progress line) starve
    // while it has work: each completed episode gives the progress a chance to print.
    // Its history has one OrchestratorStarted per instance, not per episode: episodes are counted here.
    const complete = this.backend.completeOrchestration.bind(this.backend);
    this.backend.completeOrchestration = (...args) => {
      complete(...args);
      this.episodes.set(args[0], (this.episodes.get(args[0]) ?? 0) + 1);
      Progress.heartbeat();
    };
    this.started = this.worker.start();
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async start(workload: Workload, size = 0): Promise<string> {
    await this.started;
    return startWorkload(this.client, workload, size);
  }

  waitCompleted(id: string, deadline: number, withOutput = false): Promise<string | undefined> {
    return waitCompletedOn(this.client, id, deadline, withOutput);
  }

  async waitStarted(id: string, deadline: number): Promise<void> {
    const state = await untilDeadline(id, deadline, "start", (t) => this.client.waitForOrchestrationStart(id, false, t));
    if (!state || TERMINAL.has(state.runtimeStatus)) throw new Error(`instance ${id} is ${state ? OrchestrationStatus[state.runtimeStatus] : "missing"}, not RUNNING`);
  }

  raiseEvent(id: string, name: string, data: unknown): Promise<void> {
    return this.client.raiseOrchestrationEvent(id, name, data);
  }

  async workItems(id: string): Promise<number> {
    const history = this.backend.getInstance(id)?.history ?? [];
    return (this.episodes.get(id) ?? 0) + history.filter((e) => e.hasTaskscheduled()).length;
  }

  async forceGc(): Promise<number | undefined> {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return undefined;
    gc();
    return process.memoryUsage().heapUsed;
  }

  async crashAndRestart(): Promise<{ spawnedAt: number; listenMs: number }> {
    throw new Error("the in-process backend has no scheduler process");
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    this.backend.reset();
    quietConsole(false);
  }
}

/** What both SDK clients (gRPC and in-process) offer the bench. */
interface SdkClient {
  scheduleNewOrchestration(orchestrator: any, input?: unknown): Promise<string>; // eslint-disable-line @typescript-eslint/no-explicit-any
  waitForOrchestrationCompletion(id: string, fetchPayloads: boolean, timeoutSeconds: number): Promise<OrchestrationState | undefined>;
}

function startWorkload(client: SdkClient, workload: Workload, size: number): Promise<string> {
  switch (workload) {
    case "hello": return client.scheduleNewOrchestration(helloCities);
    case "fanout": return client.scheduleNewOrchestration(fanOutFanIn, size);
    case "sequence": return client.scheduleNewOrchestration(longSequence, size);
    case "wait": return client.scheduleNewOrchestration(waitForGo);
  }
}

async function waitCompletedOn(client: SdkClient, id: string, deadline: number, withOutput: boolean): Promise<string | undefined> {
  const state = await untilDeadline(id, deadline, "complete", (t) => client.waitForOrchestrationCompletion(id, withOutput, t));
  return checkCompleted(id, state).serializedOutput;
}

function entityTarget(client: TaskHubGrpcClient): EntityTarget {
  const account = (key: string) => new EntityInstanceId(ACCOUNT_ENTITY, key);
  return {
    signal: (key, operation, input) => client.signalEntity(account(key), operation, input),
    settled: async (key) => {
      const e = await client.getEntity<number>(account(key), true);
      return e && e.backlogQueueSize === 0 ? e.state : undefined;
    },
    startTransfer: (from, to, amount) => client.scheduleNewOrchestration(transfer, { from, to, amount }),
  };
}
