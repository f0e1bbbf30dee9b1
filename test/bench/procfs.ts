// Process figures from /proc (Linux), and the registry of every child process the bench starts so a
// finally, Ctrl-C or a failure stops them all.
import { ChildProcess, spawn, SpawnOptions } from "child_process";
import * as fs from "fs";

const CLOCK_TICKS = 100; // USER_HZ: 100 on Linux

function statFields(pid: number, tid?: number): string[] {
  const text = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may contain spaces: fields after it start at 3.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** User + system CPU seconds of a process so far (all its threads), or of its thread `tid`. */
export function cpuSeconds(pid: number, tid?: number): number {
  const f = statFields(pid, tid);
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** The same for its main thread alone (a Node process's event loop). */
export function mainThreadCpuSeconds(pid: number): number {
  return cpuSeconds(pid, pid);
}

/** The same for its threads named `name` (/proc/<pid>/task/<tid>/comm); 0 when it has none. */
export function namedThreadsCpuSeconds(pid: number, name: string): number {
  let sum = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      if (fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim() === name) sum += cpuSeconds(pid, Number(tid));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return sum;
}

function statusKiB(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** Resident set size now, in bytes. */
export function rssBytes(pid: number): number {
  return statusKiB(pid, "VmRSS") * 1024;
}

/** Peak resident set size (the kernel's high-water mark, VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  return statusKiB(pid, "VmHWM") * 1024;
}

/** Resets the peak RSS to the current RSS (writes 5 to /proc/<pid>/clear_refs); false if not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export const MiB = 2 ** 20;

// ---- children ----

const children = new Set<ChildProcess>();

/** Registers a child started elsewhere (the test helpers' scheduler and host processes). */
export function track(proc: ChildProcess): ChildProcess {
  if (proc.exitCode === null && proc.signalCode === null) {
    children.add(proc);
    proc.once("exit", () => children.delete(proc));
  }
  return proc;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

export function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once("exit", () => resolve()));
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
export async function stopProcess(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited(proc), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill("SIGKILL");
    await exited(proc);
  }
}

/** Stops every child still running. */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...children].map((p) => stopProcess(p, graceMs)));
}

export function runningChildren(): number[] {
  return [...children].filter((p) => p.exitCode === null && p.signalCode === null).map((p) => p.pid!);
}

// Last resort if the bench exits some other way: no child outlives it.
process.on("exit", () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});
