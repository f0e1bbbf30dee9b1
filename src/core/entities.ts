// Durable entities, pure logic: entity ids, which queued operations run next (with critical-section
// locks handled by the scheduler itself), and turning a worker's batch result into messages.
import { pb } from "../proto";
import { invalid } from "./errors";
import { event, fromTimestamp, str, val } from "./events";
import { MAX_INSTANCE_ID_LENGTH, effectivePageSize } from "./limits";
import { EntityData, FailureDetails, HistoryEvent, InstanceRecord, MessageRecord, NewMessage } from "./model";

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** `@name@key` with the name lowercased (entity names are case-insensitive); throws INVALID_ARGUMENT. */
export function normalizeEntityId(id: string | null | undefined, field = "instanceId"): string {
  const m = id ? /^@([^@]+)@(.*)$/s.exec(id) : null;
  if (!id || !m) throw invalid(`${field} '${id ?? ""}' is not an entity id: expected '@name@key'`);
  if (id.length > MAX_INSTANCE_ID_LENGTH) throw invalid(`${field} is ${id.length} characters long; the limit is ${MAX_INSTANCE_ID_LENGTH}`);
  if (!PRINTABLE_ASCII.test(id)) throw invalid(`${field} '${id}' may contain only printable ASCII characters (0x20-0x7E)`);
  return `@${m[1].toLowerCase()}@${m[2]}`;
}

export function isEntityId(id: string): boolean {
  return id.startsWith("@");
}

export function entityName(id: string): string {
  return id.slice(1, id.indexOf("@", 1));
}

/** What the scheduler does next for an entity. */
export type EntityStep =
  /** Operations to send to a worker as one batch. */
  | { kind: "batch"; operations: MessageRecord[] }
  /** A lock request or release the scheduler applies itself, without a worker. */
  | { kind: "control"; consumed: MessageRecord; entity: EntityData; messages: NewMessage[] }
  | undefined;

/**
 * The next step for an entity, from its inbox in arrival order. While the entity is locked only
 * operations from the lock holder run; everything else waits in the inbox in order. A lock request
 * or release is applied only once the operations queued before it have run.
 */
export function nextEntityStep(
  entityId: string, data: EntityData, inbox: MessageRecord[], now: number, maxBatch: number,
  isLive: (orchestrationId: string) => boolean,
): EntityStep {
  const operations: MessageRecord[] = [];
  for (const m of inbox) {
    if (m.visibleAt > now) continue;
    const e = m.event;
    if (e.entityUnlockSent) {
      if (operations.length > 0) break;
      const holder = val(e.entityUnlockSent.parentInstanceId);
      const releases = data.lockedBy !== undefined && data.lockedBy === holder && data.criticalSectionId === e.entityUnlockSent.criticalSectionId;
      return { kind: "control", consumed: m, entity: releases ? unlocked(data) : data, messages: [] };
    }
    if (e.entityLockRequested) {
      if (data.lockedBy !== undefined) continue;
      if (operations.length > 0) break;
      const r = e.entityLockRequested;
      const requester = val(r.parentInstanceId) ?? "";
      // A request from an orchestration that has finished would hold the lock forever: drop it.
      if (!requester || !isLive(requester)) return { kind: "control", consumed: m, entity: data, messages: [] };
      return { kind: "control", consumed: m, entity: { ...data, lockedBy: requester, criticalSectionId: r.criticalSectionId ?? "" }, messages: [lockForward(entityId, r, requester, now)] };
    }
    const caller = e.entityOperationCalled ? val(e.entityOperationCalled.parentInstanceId) : undefined;
    if (data.lockedBy !== undefined && caller !== data.lockedBy) continue;
    if (e.entityOperationCalled || e.entityOperationSignaled) {
      operations.push(m);
      if (operations.length >= maxBatch) break;
    }
  }
  return operations.length > 0 ? { kind: "batch", operations } : undefined;
}

/** The entity with no lock held. */
export function unlocked(data: EntityData): EntityData {
  return { ...data, lockedBy: undefined, criticalSectionId: undefined };
}

/** After locking this entity: ask the next entity of the lock set, or tell the orchestration it holds them all. */
function lockForward(entityId: string, r: pb.IEntityLockRequestedEvent, requester: string, now: number): NewMessage {
  const lockSet = r.lockSet ?? [];
  const position = r.position ?? 0;
  if (position + 1 < lockSet.length) {
    return { instanceId: lockSet[position + 1], visibleAt: now, event: event(now, { entityLockRequested: { ...r, position: position + 1 } }) };
  }
  void entityId;
  return { instanceId: requester, visibleAt: now, event: event(now, { entityLockGranted: { criticalSectionId: r.criticalSectionId } }) };
}

/** The operations of a batch as the worker receives them (EntityRequest, "V2"). */
export function entityRequest(entityId: string, data: EntityData, operations: MessageRecord[]): pb.IEntityRequest {
  return { instanceId: entityId, executionId: "", entityState: str(data.state), operationRequests: operations.map((m) => m.event) };
}

export interface BatchOutcome {
  entity: EntityData;
  /** Responses to calling orchestrations, and signals to other entities. */
  messages: NewMessage[];
  /** Orchestrations the entity started. */
  starts: pb.IStartNewOrchestrationAction[];
  /** Why signals were not sent (a target that is not a valid entity id): dropped, not retried. */
  rejected?: string[];
}

/**
 * Applies a worker's batch result: new state, a response per called operation, and the signals and
 * orchestration starts the operations asked for. Results beyond the batch are ignored; a missing
 * result fails its call. `newRequestId` names each signal the batch sends (the caller's ids, so this stays pure).
 */
export function applyEntityBatch(data: EntityData, operations: MessageRecord[], result: pb.IEntityBatchResult, now: number, newRequestId: () => string): BatchOutcome {
  const messages: NewMessage[] = [];
  const results = result.results ?? [];
  operations.forEach((m, i) => {
    const called = m.event.entityOperationCalled;
    if (!called) return;
    const parent = val(called.parentInstanceId);
    if (!parent) return;
    const r = results[i];
    const requestId = called.requestId ?? "";
    const e: HistoryEvent = r?.success
      ? event(now, { entityOperationCompleted: { requestId, output: r.success.result } })
      : event(now, { entityOperationFailed: { requestId, failureDetails: r?.failure?.failureDetails ?? missingResult(called.operation) } });
    messages.push({ instanceId: parent, executionId: val(called.parentExecutionId) || undefined, visibleAt: now, event: e });
  });
  const starts: pb.IStartNewOrchestrationAction[] = [];
  const rejected: string[] = [];
  for (const a of result.actions ?? []) {
    if (a.sendSignal) {
      const s = a.sendSignal;
      let target: string;
      try {
        target = normalizeEntityId(s.instanceId, "sendSignal instanceId");
      } catch (err) {
        // Refusing the whole batch would only bring it back, failing the same way, forever.
        rejected.push((err as Error).message);
        continue;
      }
      const at = fromTimestamp(s.scheduledTime);
      messages.push({
        instanceId: target, visibleAt: at && at > now ? at : now,
        event: event(now, { entityOperationSignaled: { requestId: newRequestId(), operation: s.name, input: s.input, scheduledTime: s.scheduledTime, targetInstanceId: str(target) } }),
      });
    } else if (a.startNewOrchestration) {
      starts.push(a.startNewOrchestration);
    }
  }
  const state = val(result.entityState);
  return { entity: { ...data, state: state === undefined || state === "" ? undefined : state }, messages, starts, rejected };
}

function missingResult(operation: string | null | undefined): FailureDetails {
  return { errorType: "EntityBatchIncomplete", errorMessage: `The worker returned no result for operation '${operation ?? ""}'` };
}

/** An entity with no state, no lock and nothing queued can be forgotten. */
export function isEmptyEntity(data: EntityData, backlog: number): boolean {
  return data.state === undefined && data.lockedBy === undefined && backlog === 0;
}

export interface EntityQuery {
  prefix?: string;
  /** Bounds on the entity's last change (epoch ms). */
  from?: number;
  to?: number;
  /** Include entities without state (only a lock or queued operations). */
  includeTransient: boolean;
  /** <= 0 means DEFAULT_PAGE_SIZE (100); capped at MAX_PAGE_SIZE (1000). */
  pageSize: number;
  /** The last id of the previous page. */
  after?: string;
}

/** One page of the matching entities in id order; `last` is set when more follow. */
export function pageEntities<T extends { rec: InstanceRecord; data: EntityData }>(entries: Iterable<T>, q: EntityQuery): { entities: T[]; last?: string } {
  const all: T[] = [];
  for (const e of entries) {
    const id = e.rec.instanceId;
    if (q.prefix && !id.startsWith(q.prefix)) continue;
    if (q.after !== undefined && id <= q.after) continue;
    if (q.from !== undefined && e.rec.lastUpdatedAt < q.from) continue;
    if (q.to !== undefined && e.rec.lastUpdatedAt > q.to) continue;
    if (e.data.state === undefined && !q.includeTransient) continue;
    all.push(e);
  }
  all.sort((a, b) => (a.rec.instanceId < b.rec.instanceId ? -1 : 1));
  const size = effectivePageSize(q.pageSize);
  const page = all.slice(0, size);
  return { entities: page, last: all.length > size ? page[page.length - 1].rec.instanceId : undefined };
}
