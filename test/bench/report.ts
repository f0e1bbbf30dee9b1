// The bench's output: an aligned text table (one row per path x scenario) with a legend, or one JSON document.
import { execFileSync } from "child_process";
import * as os from "os";
import { REPO_ROOT } from "../helpers/func-process";
import { LATENCY_KINDS, Row, SCENARIO_TITLES, ScenarioName } from "./scenarios";

/** Sets timeVsInProcess on every row that has an inprocess row for the same scenario and size. */
export function addRatios(rows: Row[]): void {
  for (const row of rows) {
    const ref = rows.find((r) => r.path === "inprocess" && r.scenario === row.scenario && r.size === row.size && r.seconds);
    if (ref?.seconds && row.seconds !== undefined && row.scenario !== "startup") row.timeVsInProcess = +(row.seconds / ref.seconds).toFixed(2);
  }
}

export function machine() {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return undefined;
    }
  };
  const status = git("status", "--porcelain", "--untracked-files=no");
  return {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()}`, node: process.version,
    commit: git("rev-parse", "HEAD"), dirty: status === undefined ? undefined : status.length > 0,
    loadAverage: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

const fmt = (x: number | null | undefined, digits?: number): string => {
  if (x === undefined || x === null || Number.isNaN(x)) return "-";
  if (digits !== undefined) return x.toFixed(digits);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
};

export function table(rows: Row[]): string {
  const header = ["path", "scenario", "size", "secs", "orch/s", "items/s", "p50 ms", "p99 ms", "sched MiB", "sched CPU s", "main s", "writer s", "worker CPU s", "time x ref", "notes"];
  const lines = rows.map((r) => [
    r.path, SCENARIO_TITLES[r.scenario], String(r.size),
    fmt(r.seconds), fmt(r.orchestrationsPerSecond), fmt(r.workItemsPerSecond), fmt(r.p50Ms), fmt(r.p99Ms),
    fmt(r.schedulerPeakRssMiB, 0), fmt(r.schedulerCpuSeconds), fmt(r.schedulerMainCpuSeconds), fmt(r.schedulerWriterCpuSeconds), r.workerCpuSeconds === null ? "(same)" : fmt(r.workerCpuSeconds),
    fmt(r.timeVsInProcess), r.error ? `FAILED: ${r.error}` : r.skipped ? `skipped: ${r.skipped}` : (r.notes ?? ""),
  ]);
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const left = new Set([0, 1]);
  const render = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [render(header), render(widths.map((w) => "-".repeat(w)).concat("-----")), ...lines.map(render)].join("\n");
}

export function legend(scenarios: ScenarioName[]): string {
  return [
    "secs: wall time of the measured phase (after one warm-up HelloCities5; latency and steps: after --latency-warmup unmeasured runs); orch/s: orchestrations completed (memory/startup: brought to waiting) per second;",
    "items/s: work items per second = orchestrator episodes + activity executions, counted from the instances' histories;",
    "sched MiB: the scheduler process's peak RSS (VmHWM) during the phase; sched CPU s / worker CPU s: CPU seconds (user+system, all threads) of the",
    "scheduler and the worker process (functions: the `dts func start` host) during the phase; inprocess: one process, the bench itself, so its",
    "figures include the client; main s / writer s: of sched CPU s, the main thread's (the event loop) and the SQLite writer thread's (0 on the",
    "other stores); the rest is V8's helper threads (garbage collection, compilation); time x ref: secs / the inprocess secs for the same scenario and size (2.0 = twice as long as the SDK alone).",
    "p50/p99:",
    ...scenarios.map((s) => `  ${SCENARIO_TITLES[s]}: ${LATENCY_KINDS[s]}`),
  ].join("\n");
}
