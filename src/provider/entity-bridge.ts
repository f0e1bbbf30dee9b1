// One entity work item: the batch of operations goes to the app's entityTrigger function in the JSON
// form durable-functions' Entity reads (`{self, exists, state, batch}`); its output (new state, one
// result per operation, signals) is turned into an EntityBatchResult and through core/'s
// applyEntityBatch into the responses and signals the scheduler delivers.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { str, val } from "../core/events";
import { applyEntityBatch, normalizeEntityId } from "../core/entities";
import { FailureDetails, HistoryEvent, MessageRecord } from "../core/model";
import { FunctionApp, jsonData } from "./function-app";
import { ENTITY_TRIGGER, findFunction, notFoundMessage, WorkItemError } from "./functions";
import { returnedObject } from "./typed-data";

type CompleteRequest = pb.durabletask.protos.backend.v1.ICompleteEntityWorkItemRequest;

export interface EntityWorkItem {
  entityRequestV2: pb.IEntityRequest;
  completionToken: string;
}

export interface EntityResult {
  request: CompleteRequest;
  name: string;
  operations: number;
  failedOperations: number;
  notes: string[];
}

interface EntityOutput {
  entityExists?: boolean;
  entityState?: string | null;
  results?: { isError?: boolean; result?: string }[];
  signals?: { target?: { name?: string; key?: string }; name?: string; input?: string }[];
}

/** What a batch work item holds, read once for either protocol's bridge. */
export interface EntityBatch {
  entityId: string;
  name: string;
  key: string;
  state?: string;
  /** The operation events (signals and calls), in order. */
  operations: HistoryEvent[];
}

export function readEntityBatch(item: EntityWorkItem): EntityBatch {
  const req = item.entityRequestV2;
  const entityId = req.instanceId ?? "";
  const m = /^@([^@]+)@(.*)$/s.exec(entityId);
  if (!m) throw new WorkItemError(`'${entityId}' is not an entity id (expected '@name@key')`);
  const operations = (req.operationRequests ?? []).filter((e) => e.entityOperationSignaled || e.entityOperationCalled);
  return { entityId, name: m[1], key: m[2], state: val(req.entityState) || undefined, operations };
}

/** Every operation failed with `failureDetails`, the state kept (callers must not wait forever). */
export function failedBatch(batch: EntityBatch, failureDetails: FailureDetails, notes: string[]): pb.IEntityBatchResult {
  notes.push(failureDetails.errorMessage ?? "");
  return { entityState: str(batch.state), results: batch.operations.map(() => ({ failure: { failureDetails } })) };
}

/** The BackendService completion of a batch: core/ applies the result (responses to callers, signals). */
export function entityCompletion(item: EntityWorkItem, batch: EntityBatch, result: pb.IEntityBatchResult, notes: string[], now: number): EntityResult {
  const records: MessageRecord[] = batch.operations.map((event, seq) => ({ seq, instanceId: batch.entityId, visibleAt: 0, event }));
  const applied = applyEntityBatch({ state: batch.state }, records, result, now, randomUUID);
  const failedOperations = (result.results ?? []).filter((r) => r.failure).length;
  return {
    name: batch.name, operations: batch.operations.length, failedOperations, notes,
    request: {
      completionToken: item.completionToken, instanceId: batch.entityId, executionId: item.entityRequestV2.executionId ?? "",
      numberOperationsExecuted: batch.operations.length, entityState: str(applied.entity.state),
      messages: applied.messages.map((msg) => ({ instance: { instanceId: msg.instanceId, executionId: str(msg.executionId) }, event: msg.event })),
    },
  };
}

export async function runEntity(app: FunctionApp, item: EntityWorkItem, now: () => number = Date.now): Promise<EntityResult> {
  const batch = readEntityBatch(item);
  const { name, key, state, operations } = batch;
  const notes: string[] = [];

  let result: pb.IEntityBatchResult;
  const fn = findFunction(app, name, ENTITY_TRIGGER);
  if (!fn) {
    result = failedBatch(batch, { errorType: "FunctionNotFound", errorMessage: notFoundMessage(app, "entity", name, ENTITY_TRIGGER), isNonRetriable: true }, notes);
  } else {
    const ops = operations.map((e) => {
      const op = e.entityOperationSignaled ?? e.entityOperationCalled!;
      return { name: op.operation ?? "", input: val(op.input) ?? null, isSignal: !!e.entityOperationSignaled, id: op.requestId ?? "" };
    });
    const trigger = { self: { name, key }, exists: state !== undefined, state: state ?? null, batch: ops };
    // A throw here is not an operation's failure (durable-functions catches those): the batch is abandoned and retried.
    const res = await app.invoke(fn.name, { inputData: { [fn.triggerBindingName]: jsonData(trigger) }, trigger });
    const out = returnedObject(res.returnValue) as EntityOutput | undefined;
    if (!out || !Array.isArray(out.results)) {
      throw new WorkItemError(`Entity function '${fn.name}' returned no entity batch result: register it with df.app.entity`);
    }
    if (out.results.length !== ops.length) notes.push(`entity function '${fn.name}' returned ${out.results.length} results for ${ops.length} operations`);
    result = {
      entityState: out.entityExists === false ? undefined : str(out.entityState ?? undefined),
      results: out.results.map((r, i) => (r?.isError
        ? { failure: { failureDetails: operationFailure(r.result, ops[i]?.name ?? "") } }
        : { success: { result: str(r?.result ?? undefined) } })),
      actions: signalActions(out.signals ?? [], notes),
    };
  }
  return entityCompletion(item, batch, result, notes, now());
}

/** durable-functions stores JSON.stringify(error) as the result of a failed operation (often "{}" for an Error). */
function operationFailure(result: string | undefined, operation: string): FailureDetails {
  let parsed: unknown;
  try {
    parsed = result === undefined ? undefined : JSON.parse(result);
  } catch {
    parsed = result;
  }
  const o = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  const message = typeof o?.message === "string" ? o.message
    : typeof parsed === "string" && parsed !== "" ? parsed
      : `The entity operation '${operation}' failed${result && result !== "{}" ? `: ${result}` : ""}`;
  return { errorType: typeof o?.name === "string" ? o.name : "Error", errorMessage: message };
}

function signalActions(signals: NonNullable<EntityOutput["signals"]>, notes: string[]): pb.IOperationAction[] {
  const actions: pb.IOperationAction[] = [];
  signals.forEach((s, i) => {
    try {
      const target = normalizeEntityId(`@${s.target?.name ?? ""}@${s.target?.key ?? ""}`, "signal target");
      actions.push({ id: i, sendSignal: { instanceId: target, name: s.name ?? "", input: s.input ? str(s.input) : undefined } });
    } catch (err) {
      notes.push(`signal '${s.name}' was dropped: ${(err as Error).message}`);
    }
  });
  return actions;
}
