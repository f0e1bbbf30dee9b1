// Helpers for the scale tests: `dts scale ...` as a child process, a port nothing listens on, a
// BackendService client for making backlogs, and completing orchestrator work items through core/.
import { execFile } from "child_process";
import * as net from "net";
import { str } from "../../src/core/events";
import { pb } from "../../src/proto";
import { CLI, CliProcess, spawnCli } from "../helpers/dts-process";
import { answerOrchestration, RawClient } from "../helpers/raw";

const S = pb.OrchestrationStatus;

/** Runs `dts <args>` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export type ScalerProcess = CliProcess;

/** Spawns `dts scale keda --port 0 ...args`; resolves once it prints its port. */
export function startScaler(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ScalerProcess> {
  return spawnCli(["scale", "keda", "--port", "0", ...args], /listening on [^:]+:(\d+)/, { env });
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
  await answerOrchestration(raw, item, [{ id: 0, completeOrchestration: { orchestrationStatus: S.ORCHESTRATION_STATUS_COMPLETED, result: str('"done"') } }]);
}
