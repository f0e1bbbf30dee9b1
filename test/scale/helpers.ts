// Helpers for the scale tests: `dts scale ...` as a child process, a port nothing listens on, a
// BackendService client for making backlogs, and completing orchestrator work items through core/.
import { ChildProcess, execFile, spawn } from "child_process";
import * as net from "net";
import { applyEpisode } from "../../src/core/orchestration";
import { outcomeToRequest } from "../../src/core/precomputed-completion";
import { str } from "../../src/core/events";
import { pb } from "../../src/proto";
import { CLI } from "../helpers/dts-process";
import { RawClient } from "../helpers/raw";

const S = pb.OrchestrationStatus;

/** Runs `dts <args>` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface ScalerProcess {
  port: number;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

/** Spawns `dts scale keda --port 0 ...args`; resolves once it prints its port. */
export function startScaler(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ScalerProcess> {
  const proc = spawn(process.execPath, [CLI, "scale", "keda", "--port", "0", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let out = "";
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => {
    running.delete(proc);
    resolve(code);
  }));
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (!m) return;
      proc.stdout!.off("data", onData);
      proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      resolve({
        port: Number(m[1]), proc, output: () => out,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
          return exited;
        },
      });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    exited.then((code) => reject(new Error(`dts scale keda exited with ${code} before listening:\n${out}`)));
  });
}

/** A local port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `count` orchestrations named Hello through BackendService (no worker needed). */
export async function createBacklog(raw: RawClient, prefix: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) await raw.call("CreateInstance", { instanceId: `${prefix}-${n}`, name: "Hello" });
}

/** Plays a Functions host for one orchestrator work item: completes the orchestration at once. */
export async function completeOrchestration(raw: RawClient, item: pb.WorkItem): Promise<void> {
  const req = item.orchestratorRequest!;
  const past = req.pastEvents ?? [];
  const dispatched = req.newEvents ?? [];
  const started = [...past, ...dispatched].find((e) => e.executionStarted)!.executionStarted!;
  const outcome = applyEpisode({
    instance: {
      instanceId: req.instanceId ?? "", executionId: req.executionId?.value ?? "", name: started.name ?? "",
      status: past.length ? S.ORCHESTRATION_STATUS_RUNNING : S.ORCHESTRATION_STATUS_PENDING, createdAt: Date.now(), lastUpdatedAt: Date.now(),
    },
    history: past, dispatched, now: Date.now(), newExecutionId: () => "x",
    actions: [{ id: 0, completeOrchestration: { orchestrationStatus: S.ORCHESTRATION_STATUS_COMPLETED, result: str('"done"') } }],
  });
  await raw.call("CompleteOrchestrationWorkItem", outcomeToRequest(outcome, item.completionToken));
}
