// One orchestrator work item for an app on durable-functions 4 (the gRPC protocol): the scheduler's
// OrchestratorRequest goes to the orchestrationTrigger as base64 protobuf, unchanged, and the
// OrchestratorResponse it returns is checked (base64, decodable, for this instance) and its actions
// go through the same core/ path as the 3.x bridge's. Whatever is wrong with the answer fails the
// orchestration with a reason naming it; nothing the worker returns can reach the scheduler unchecked.
import { pb } from "../proto";
import { val } from "../core/events";
import { Status } from "../core/model";
import { FunctionApp } from "./function-app";
import { findFunction, notFoundMessage, ORCHESTRATION_TRIGGER } from "./functions";
import { BridgeOptions, openEpisode, OrchestrationResult, OrchestrationWorkItem } from "./orchestration-bridge";
import { decodeWorkerPayload, WorkerPayloadError, workerPayloadRequest } from "./worker-payload";

const OUTCOMES: Partial<Record<Status, OrchestrationResult["outcome"]>> = {
  [Status.ORCHESTRATION_STATUS_COMPLETED]: "completed",
  [Status.ORCHESTRATION_STATUS_FAILED]: "failed",
  [Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW]: "continued as new",
  [Status.ORCHESTRATION_STATUS_TERMINATED]: "terminated",
};

export async function runGrpcOrchestration(app: FunctionApp, item: OrchestrationWorkItem, options: BridgeOptions = {}): Promise<OrchestrationResult> {
  const episode = openEpisode(item, options);
  if (episode.answered) return episode.answered;
  const { instanceId, name, complete, fail } = episode;

  const fn = findFunction(app, name, ORCHESTRATION_TRIGGER);
  if (!fn) return fail({ errorType: "FunctionNotFound", errorMessage: notFoundMessage(app, "orchestrator", name, ORCHESTRATION_TRIGGER), isNonRetriable: true });

  // A throw is the library's or the host's failure, not the orchestrator's (the worker turns those
  // into a failed completion): the item is abandoned and retried, as on the 3.x path.
  const res = await app.invoke(fn.name, workerPayloadRequest(fn.triggerBindingName, pb.OrchestratorRequest.encode(item.orchestratorRequest).finish()));

  let response: pb.OrchestratorResponse;
  try {
    response = decodeWorkerPayload(res.returnValue, (bytes) => pb.OrchestratorResponse.decode(bytes), "OrchestratorResponse");
    if (response.instanceId !== instanceId) {
      throw new WorkerPayloadError(`it is an OrchestratorResponse for instance '${response.instanceId}', not '${instanceId}'`);
    }
  } catch (err) {
    if (!(err instanceof WorkerPayloadError)) throw err;
    return fail({ errorType: "InvalidWorkerResponse", errorMessage: `Orchestrator function '${fn.name}' returned an invalid result: ${err.message}`, isNonRetriable: true });
  }

  const actions = response.actions ?? [];
  const customStatus = val(response.customStatus);
  const end = actions.find((a) => a.completeOrchestration)?.completeOrchestration;
  const outcome = (end && OUTCOMES[end.orchestrationStatus ?? Status.ORCHESTRATION_STATUS_RUNNING]) || "running";
  if (end?.failureDetails?.errorMessage) episode.notes.push(end.failureDetails.errorMessage);
  try {
    return complete(actions, outcome, customStatus);
  } catch (err) {
    // core/ refuses actions it cannot apply (unknown kinds, bad targets): that is the response's fault.
    return fail({ errorType: "InvalidWorkerResponse", errorMessage: `Orchestrator function '${fn.name}' returned actions the scheduler cannot apply: ${(err as Error).message}`, isNonRetriable: true });
  }
}
