// npm run bench [-- options]: the throughput benchmark. See USAGE below and README "Benchmarks".
import * as fs from "fs";
import { parseArgs } from "util";
import { startBenchAuth } from "./auth";
import { stopAll, runningChildren } from "./procfs";
import { addRatios, legend, machine, table } from "./report";
import { LATENCY_KINDS, Row, RUNNERS, SCENARIO_TITLES, ScenarioContext, ScenarioName, SCENARIOS, skipReason, warmUp } from "./scenarios";
import { DEFAULT_PATHS, PathName, PATHS, removeAllDataDirs, removeDataDir, startTarget, Target } from "./targets";
import { oldInstancesDataDir, retentionServeArgs } from "./retention";
import { STEPS_SERVE_ARGS } from "./steps";

const DEFAULTS = { count: 5000, fanOut: 1000, sequence: 500, latencyRuns: 200, latencyWarmup: 2000, entitySignals: 1000, memory: 100_000, startup: 100_000, purge: 100_000, idleSeconds: 10, window: 100, timeout: 1800 };

const USAGE = `Usage: npm run bench [-- options]

Runs each selected scenario on each selected path, every one on a fresh scheduler and worker (after one
warm-up HelloCities5), and prints a table (one row per path x scenario) or, with --json, one JSON document.
Progress goes to stderr every second. Every process the bench starts is stopped at the end, on failure
and on Ctrl-C.

Paths (--paths a,b; default all but postgres):
  sqlite      dts serve --store sqlite, the official SDK worker (@microsoft/durabletask-js) in its own process
  memory      dts serve --store memory, the same worker
  postgres    dts serve --store postgres on a PostgreSQL server the bench starts (Debian's postgresql
              binaries), the same worker; only with --paths
  functions   dts serve --store sqlite, dts func start on the repository's sample app (its HelloCities and
              FanOutFanIn orchestrations, started by name through the SDK client); no sequence/memory/startup
  functions-v4  the same on test/df4-app: the same orchestrations written for durable-functions 4 (gRPC protocol)
  inprocess   the SDK's in-process test backend (InMemoryOrchestrationBackend + TestOrchestrationWorker) in
              the bench's own process: the reference for what the worker alone can do

Scenarios (--scenarios a,b; default hello,fanout,sequence,latency,entities, plus memory/startup when their flag is given):
  hello       --count N         HelloCities5 (five activities in sequence), N started at once (default ${DEFAULTS.count})
  fanout      --fan-out N       one orchestration fanning out to N activities and in (default ${DEFAULTS.fanOut})
  sequence    --sequence N      one orchestration calling N activities one after another (default ${DEFAULTS.sequence})
  latency     --latency-runs N  HelloCities5 on an idle system, one at a time, N runs (default ${DEFAULTS.latencyRuns}), after
              --latency-warmup N  unmeasured runs the same way (default ${DEFAULTS.latencyWarmup}; 0: none), so that the
                                processes run as ones that have run a while (their CPU per run levels off
                                after 1,500-2,000 runs: README "Idle latency of warm processes")
  steps       --latency-runs N  opt-in: latency with the per-step trace (the scheduler's debug log, the SDK workers'
                                and the client's moments); the notes give each leg of the chain (README "Benchmarks")
  entities    --entity-signals N  N signals at once to 10 entities until applied, then N/10 transfers at once
                                between them, each in a critical section locking two (default ${DEFAULTS.entitySignals});
                                sqlite, memory and postgres paths
  memory      --memory [N]      N instances waiting on an event; the scheduler's RSS, and after an idle period
                                and a forced GC (default ${DEFAULTS.memory} when the flag has no number; opt-in: slow)
  startup     --startup [N]     N waiting instances on SQLite, SIGKILL the scheduler, restart it on the same
                                data: seconds until it listens and until a raised event is dispatched and
                                completed (sqlite path only; default ${DEFAULTS.startup}; opt-in: slow)
  purge       --purge [N]       --count HelloCities5 while retention purges N instances that finished 60 days
                                ago (written into the data directory first; sqlite path only; default ${DEFAULTS.purge}; opt-in)
  kept        --purge [N]       the same with retention off (--retention-days 0): the figure to compare with

Other options:
  --idle-seconds N   the memory scenario's idle period before the forced GC (default ${DEFAULTS.idleSeconds})
  --window N         start requests in flight while creating waiting instances (default ${DEFAULTS.window})
  --timeout S        a scenario fails if not done within S seconds (default ${DEFAULTS.timeout})
  --node-arg FLAG    a node flag for the scheduler process (repeatable), e.g. --node-arg=--cpu-prof
  --worker-node-arg FLAG  the same for the SDK worker processes and the functions host
  --workers N        SDK worker processes on the sqlite and memory paths (default 1); worker CPU s is their sum
  --nodes N          dts serve nodes on the postgres path, one cluster on one database (default 1): the client
                     talks to the first, SDK workers are spread over all (at least one each); scheduler CPU s is their sum
  --auth             authentication on: a local OpenID Connect provider issues tokens, the scheduler checks
                     them on every call (Worker role for the workers, Contributor for the bench's client)
  --json             one JSON document on stdout: every row, the options and the machine (cpus, node, git commit)
  -h, --help         this text

The defaults (the five main scenarios on the five default paths) take about 3 minutes on a 2-core machine;
--memory and --startup at 100,000 add several minutes each.`;

class UsageError extends Error {}

function positive(name: string, value: string | undefined, fallback: number, least = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/[_,]/g, ""));
  if (!Number.isInteger(n) || n < least) throw new UsageError(`--${name} must be a whole number >= ${least}, got '${value}'`);
  return n;
}

/** --memory and --startup take an optional number: without one (end of line or another flag next) they use the default. */
function withOptionalValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    out.push(argv[i]);
    if ((argv[i] === "--memory" || argv[i] === "--startup" || argv[i] === "--purge") && (i + 1 >= argv.length || argv[i + 1].startsWith("-"))) out.push("default");
  }
  return out;
}

const ALIASES: Record<string, ScenarioName> = {
  hello: "hello", hellocities: "hello", hellocities5: "hello", fanout: "fanout", "fan-out": "fanout", sequence: "sequence",
  latency: "latency", steps: "steps", trace: "steps", entities: "entities", entity: "entities", memory: "memory", startup: "startup", restart: "startup",
  purge: "purge", retention: "purge", kept: "kept",
};

function list<T extends string>(name: string, value: string | undefined, all: readonly T[], map: (s: string) => T | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  const out: T[] = [];
  for (const item of items) {
    const v = map(item);
    if (!v) throw new UsageError(`--${name}: unknown '${item}' (one of ${all.join(", ")})`);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: withOptionalValues(argv), strict: true,
    options: {
      count: { type: "string" }, "fan-out": { type: "string" }, sequence: { type: "string" }, "latency-runs": { type: "string" }, "latency-warmup": { type: "string" }, "entity-signals": { type: "string" },
      memory: { type: "string" }, startup: { type: "string" }, purge: { type: "string" }, paths: { type: "string" }, scenarios: { type: "string" },
      "idle-seconds": { type: "string" }, window: { type: "string" }, timeout: { type: "string" },
      "node-arg": { type: "string", multiple: true }, "worker-node-arg": { type: "string", multiple: true }, workers: { type: "string" }, nodes: { type: "string" }, auth: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" },
    },
  });
  const opt = (name: "memory" | "startup" | "purge") => (values[name] === "default" ? undefined : values[name]);
  const sizes: Record<ScenarioName, number> = {
    hello: positive("count", values.count, DEFAULTS.count), fanout: positive("fan-out", values["fan-out"], DEFAULTS.fanOut),
    sequence: positive("sequence", values.sequence, DEFAULTS.sequence), latency: positive("latency-runs", values["latency-runs"], DEFAULTS.latencyRuns),
    steps: positive("latency-runs", values["latency-runs"], DEFAULTS.latencyRuns),
    entities: positive("entity-signals", values["entity-signals"], DEFAULTS.entitySignals),
    memory: positive("memory", opt("memory"), DEFAULTS.memory), startup: positive("startup", opt("startup"), DEFAULTS.startup),
    purge: positive("purge", opt("purge"), DEFAULTS.purge), kept: positive("purge", opt("purge"), DEFAULTS.purge),
  };
  const paths = list("paths", values.paths, PATHS, (s) => PATHS.find((p) => p === s)) ?? DEFAULT_PATHS;
  let scenarios = list("scenarios", values.scenarios, SCENARIOS, (s) => ALIASES[s]);
  if (!scenarios) {
    scenarios = ["hello", "fanout", "sequence", "latency", "entities"];
    if (values.memory !== undefined) scenarios.push("memory");
    if (values.startup !== undefined) scenarios.push("startup");
    if (values.purge !== undefined) scenarios.push("kept", "purge");
  }
  scenarios = SCENARIOS.filter((s) => scenarios!.includes(s));
  return {
    help: !!values.help, json: !!values.json, auth: !!values.auth, nodeArgs: values["node-arg"] ?? [], workerNodeArgs: values["worker-node-arg"] ?? [], workers: positive("workers", values.workers, 1), nodes: positive("nodes", values.nodes, 1), sizes, paths, scenarios,
    latencyWarmup: positive("latency-warmup", values["latency-warmup"], DEFAULTS.latencyWarmup, 0),
    idleSeconds: positive("idle-seconds", values["idle-seconds"], DEFAULTS.idleSeconds), window: positive("window", values.window, DEFAULTS.window),
    timeoutSeconds: positive("timeout", values.timeout, DEFAULTS.timeout),
  };
}

let aborted = false;

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = new Date();
  const rows: Row[] = [];
  // The reference runs first in each scenario, so its figure is there when the others are compared.
  const paths: PathName[] = [...o.paths].sort((a, b) => (a === "inprocess" ? -1 : b === "inprocess" ? 1 : 0));
  process.stderr.write(`bench: ${o.scenarios.map((s) => `${SCENARIO_TITLES[s]} (${o.sizes[s]})`).join(", ")} on ${paths.join(", ")}${o.auth ? ", auth on" : ""}\n`);
  const benchAuth = o.auth ? await startBenchAuth() : undefined;
  for (const scenario of o.scenarios) {
    for (const path of paths) {
      if (aborted) break;
      const base: Row = { path, scenario, size: o.sizes[scenario] };
      const label = `${path} / ${SCENARIO_TITLES[scenario]}`;
      const skip = skipReason(path, scenario);
      if (skip) {
        rows.push({ ...base, skipped: skip });
        continue;
      }
      const deadline = Date.now() + o.timeoutSeconds * 1000;
      const ctx: ScenarioContext = { label, deadline, sizes: o.sizes, latencyWarmup: o.latencyWarmup, idleSeconds: o.idleSeconds, window: o.window, isAborted: () => aborted };
      let target: Target | undefined;
      try {
        process.stderr.write(`${label}: starting\n`);
        const old = scenario === "purge" || scenario === "kept";
        target = await startTarget(path, {
          nodeArgs: o.nodeArgs, workerNodeArgs: o.workerNodeArgs, workers: o.workers, nodes: o.nodes, auth: benchAuth?.auth,
          dataDir: old ? oldInstancesDataDir(o.sizes[scenario]) : undefined,
          serveArgs: old ? retentionServeArgs(scenario === "purge") : scenario === "steps" ? STEPS_SERVE_ARGS : undefined,
          traceWorkers: scenario === "steps",
        });
        const t = target;
        const result = await Promise.race([t.failed, (async () => {
          await warmUp(t, deadline);
          await t.forceGc(); // start from a collected heap (in-process: the bench's own earlier garbage)
          return RUNNERS[scenario](t, ctx);
        })()]);
        const row: Row = { ...base, latencyKind: LATENCY_KINDS[scenario], ...result };
        rows.push(row);
        const v = (x: number | null | undefined) => (x === undefined || x === null ? "-" : String(x));
        process.stderr.write(`${label}: ${v(row.seconds)} s, ${v(row.orchestrationsPerSecond)} orch/s, ${v(row.workItemsPerSecond)} items/s, p50 ${v(row.p50Ms)} ms, p99 ${v(row.p99Ms)} ms` +
          `, scheduler ${v(row.schedulerCpuSeconds)} CPU s (main thread ${v(row.schedulerMainCpuSeconds)}, writer ${v(row.schedulerWriterCpuSeconds)}) / ${v(row.schedulerPeakRssMiB)} MiB, worker ${v(row.workerCpuSeconds)} CPU s${row.notes ? `; ${row.notes}` : ""}\n`);
      } catch (e) {
        if (aborted) break;
        const message = (e as Error).message ?? String(e);
        rows.push({ ...base, error: message.split("\n")[0] });
        process.stderr.write(`${label}: FAILED: ${(e as Error).stack ?? message}\n`);
      } finally {
        await target?.stop().catch((e) => process.stderr.write(`${label}: stopping: ${(e as Error).message}\n`));
        removeDataDir(target?.dataDir);
      }
    }
  }
  if (benchAuth) {
    await benchAuth.idp.stop();
    fs.rmSync(benchAuth.dir, { recursive: true, force: true });
  }
  if (aborted) return 130;
  addRatios(rows);
  const failed = rows.some((r) => r.error);
  if (o.json) {
    const doc = {
      benchmark: "dts throughput", startedAt: started.toISOString(), seconds: +((Date.now() - started.getTime()) / 1000).toFixed(1), machine: machine(),
      options: { paths: o.paths, scenarios: o.scenarios, sizes: o.sizes, latencyWarmup: o.latencyWarmup, idleSeconds: o.idleSeconds, window: o.window, timeoutSeconds: o.timeoutSeconds, nodeArgs: o.nodeArgs, workerNodeArgs: o.workerNodeArgs, workers: o.workers, nodes: o.nodes, auth: o.auth },
      rows,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const m = machine();
    process.stdout.write(`\n${m.cpus} x ${m.cpuModel}, node ${m.node}, commit ${m.commit?.slice(0, 12) ?? "?"}${m.dirty ? " (with uncommitted changes)" : ""}` +
      `${o.workers > 1 ? `, ${o.workers} SDK worker processes` : ""}${o.nodes > 1 ? `, ${o.nodes} dts serve nodes on the postgres path` : ""}${o.auth ? ", auth on (bearer tokens checked on every call)" : ""}\n\n`);
    process.stdout.write(`${table(rows)}\n\n${legend(o.scenarios)}\n`);
  }
  return failed ? 1 : 0;
}

async function shutdown(code: number): Promise<never> {
  await stopAll(3000);
  removeAllDataDirs();
  const left = runningChildren();
  if (left.length) process.stderr.write(`bench: processes still running: ${left.join(", ")}\n`);
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (aborted) return;
    aborted = true;
    process.stderr.write(`\nbench: ${signal}: stopping every process it started\n`);
    void shutdown(130);
  });
}
process.on("unhandledRejection", (e) => {
  if (!aborted) process.stderr.write(`bench: unhandled rejection: ${(e as Error)?.stack ?? e}\n`);
});

main().then(
  (code) => shutdown(code),
  (e) => {
    process.stderr.write(`${e instanceof UsageError ? `${e.message}\n\n${USAGE}` : (e as Error).stack ?? e}\n`);
    return shutdown(e instanceof UsageError ? 2 : 1);
  },
);
