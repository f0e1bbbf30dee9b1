// One entity work item for an app on durable-functions 4 (the gRPC protocol): the batch goes to the
// entityTrigger as a base64 EntityBatchRequest (the scheduler's V2 request's operations, protobuf to
// protobuf), and the EntityBatchResult it returns goes through core/ as the 3.x bridge's does. An
// answer that is not a valid result for this batch fails every operation with the reason, state kept.
import { pb } from "../proto";
import { str } from "../core/events";
import { FunctionApp } from "./function-app";
import { EntityResult, EntityWorkItem, entityCompletion, failedBatch, readEntityBatch } from "./entity-bridge";
import { ENTITY_TRIGGER, findFunction, notFoundMessage } from "./functions";
import { decodeWorkerPayload, WorkerPayloadError, workerPayloadRequest } from "./worker-payload";

export async function runGrpcEntity(app: FunctionApp, item: EntityWorkItem, now: () => number = Date.now): Promise<EntityResult> {
  const batch = readEntityBatch(item);
  const notes: string[] = [];
  const fn = findFunction(app, batch.name, ENTITY_TRIGGER);
  if (!fn) {
    const failure = { errorType: "FunctionNotFound", errorMessage: notFoundMessage(app, "entity", batch.name, ENTITY_TRIGGER), isNonRetriable: true };
    return entityCompletion(item, batch, failedBatch(batch, failure, notes), notes, now());
  }

  const request: pb.IEntityBatchRequest = {
    instanceId: batch.entityId,
    entityState: str(batch.state),
    operations: batch.operations.map((e) => {
      const op = e.entityOperationSignaled ?? e.entityOperationCalled!;
      return { operation: op.operation ?? "", requestId: op.requestId ?? "", input: op.input };
    }),
  };
  // A throw is not an operation's failure (the worker catches those): the batch is abandoned and retried.
  const res = await app.invoke(fn.name, workerPayloadRequest(fn.triggerBindingName, pb.EntityBatchRequest.encode(request).finish()));

  let result: pb.IEntityBatchResult;
  try {
    result = decodeWorkerPayload(res.returnValue, (bytes) => pb.EntityBatchResult.decode(bytes), "EntityBatchResult");
    const count = result.results?.length ?? 0;
    if (!result.failureDetails && count !== batch.operations.length) {
      throw new WorkerPayloadError(`it has ${count} result(s) for ${batch.operations.length} operation(s)`);
    }
  } catch (err) {
    if (!(err instanceof WorkerPayloadError)) throw err;
    const failure = { errorType: "InvalidWorkerResponse", errorMessage: `Entity function '${fn.name}' returned an invalid result: ${err.message}`, isNonRetriable: true };
    return entityCompletion(item, batch, failedBatch(batch, failure, notes), notes, now());
  }
  // The worker reports a batch it could not run at all (e.g. no such entity registered) as a whole.
  if (result.failureDetails) return entityCompletion(item, batch, failedBatch(batch, result.failureDetails, notes), notes, now());
  return entityCompletion(item, batch, result, notes, now());
}
