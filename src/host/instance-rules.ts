// Which Durable HTTP management operations an instance's state allows, and the status code and
// message the Durable extension answers when it does not. The extension reads the instance's status
// first and answers from it; the host does the same, so these answers do not depend on how the
// scheduler treats, say, suspending an instance that is already suspended.
import { STATUS_NAMES } from "../core/model";
import { pb } from "../proto";

const S = pb.OrchestrationStatus;

export type InstanceOperation = "terminate" | "suspend" | "resume" | "raiseEvent" | "rewind" | "restart" | "purge";

export interface Refusal {
  status: number;
  message: string;
}

const FINISHED = new Set([S.ORCHESTRATION_STATUS_COMPLETED, S.ORCHESTRATION_STATUS_FAILED, S.ORCHESTRATION_STATUS_TERMINATED, S.ORCHESTRATION_STATUS_CANCELED]);

export function isFinished(status: pb.OrchestrationStatus | null | undefined): boolean {
  return status !== null && status !== undefined && FINISHED.has(status);
}

const name = (status: pb.OrchestrationStatus) => STATUS_NAMES[status] ?? String(status);

/**
 * The refusal for `op` on an instance in `status` (undefined: no such instance), or undefined when
 * the operation goes ahead. `restart` here is restart under the same id (restartWithNewInstanceId=false);
 * with a new id any existing instance can be restarted.
 */
export function refusal(op: InstanceOperation, instanceId: string, status: pb.OrchestrationStatus | null | undefined, sameId = false): Refusal | undefined {
  if (status === undefined || status === null) {
    switch (op) {
      case "rewind": return { status: 404, message: `No orchestration with instance ID "${instanceId}" found.` };
      // The extension's restart looks the instance up and answers a missing one as a bad argument.
      case "restart": return { status: 400, message: "InstanceId does not match a valid orchestration instance." };
      default: return { status: 404, message: `No instance with ID '${instanceId}' found.` };
    }
  }
  const finished = isFinished(status);
  switch (op) {
    case "terminate":
    case "raiseEvent":
      // 410 Gone: durable-functions' client takes it as "already done" and resolves.
      return finished ? gone(op, instanceId, status) : undefined;
    case "suspend":
      if (finished) return gone(op, instanceId, status);
      return status === S.ORCHESTRATION_STATUS_SUSPENDED ? wrongState("suspend", instanceId, status) : undefined;
    case "resume":
      if (finished) return gone(op, instanceId, status);
      return status !== S.ORCHESTRATION_STATUS_SUSPENDED ? wrongState("resume", instanceId, status) : undefined;
    case "rewind":
      return status === S.ORCHESTRATION_STATUS_FAILED ? undefined
        : { status: 412, message: `This orchestration has status ${name(status)}, but only orchestrations in the "Failed" state can be rewound.` };
    case "restart":
      return sameId && !finished ? { status: 409, message: "A non-terminal instance with this instance ID already exists." } : undefined;
    case "purge":
      return finished ? undefined
        : { status: 412, message: `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${name(status)}` };
  }
}

function gone(op: InstanceOperation, instanceId: string, status: pb.OrchestrationStatus): Refusal {
  return { status: 410, message: `Cannot ${op === "raiseEvent" ? "raise an event for" : op} the orchestration instance ${instanceId} because instance is in the ${name(status)} state.` };
}

function wrongState(op: string, instanceId: string, status: pb.OrchestrationStatus): Refusal {
  return { status: 400, message: `Cannot ${op} the orchestration instance ${instanceId} because instance is in the ${name(status)} state.` };
}
