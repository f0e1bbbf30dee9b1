// Helpers for the scale tests: `dts scale ...` as a child process, a port nothing listens on, a
// BackendService client for making backlogs, and completing orchestrator work items through core/.
import { str } from "../../src/core/events";
import { pb } from "../../src/proto";
import { CliProcess, spawnCli } from "../helpers/dts-process";
import { answerOrchestration, RawClient } from "../helpers/raw";

export { deadPort, runCli } from "../helpers/dts-process";

const S = pb.OrchestrationStatus;

export type ScalerProcess = CliProcess;

/** Spawns `dts scale keda --port 0 ...args`; resolves once it prints its port. */
export function startScaler(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ScalerProcess> {
  return spawnCli(["scale", "keda", "--port", "0", ...args], /listening on [^:]+:(\d+)/, { env });
}

/** Starts `count` orchestrations named Hello through BackendService (no worker needed). */
export async function createBacklog(raw: RawClient, prefix: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) await raw.call("CreateInstance", { instanceId: `${prefix}-${n}`, name: "Hello" });
}

/** Plays a Functions host for one orchestrator work item: completes the orchestration at once. */
export async function completeOrchestration(raw: RawClient, item: pb.WorkItem): Promise<void> {
  await answerOrchestration(raw, item, [{ id: 0, completeOrchestration: { orchestrationStatus: S.ORCHESTRATION_STATUS_COMPLETED, result: str('"done"') } }]);
}
