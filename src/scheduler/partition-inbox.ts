// The receiving side of messages between partitions: each inbox row is applied through the same
// engine calls as a message sent within the partition (send(), a start, a termination, a rewind),
// with all their checks, in one change that also deletes the rows it applied: the rows are applied
// exactly once, and a crash before that commit leaves them to be applied by whoever loads the
// partition next.
import { event } from "../core/events";
import { log } from "../log/log";
import { InstanceRecord, isTerminal, statusName } from "../core/model";
import { InboxEntry } from "../store/store";
import { rewindChildHere } from "./apply-outcome";
import { Change } from "./change";
import { HubState } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";
import { PartitionBody } from "./partition-link";

/** The instances a row reads outside memory (and whether their histories), to fetch before applying it. */
export function coldNeeds(entry: InboxEntry): { id: string; history: boolean } | undefined {
  const body = entry.message.body as PartitionBody;
  if (body.kind === "start") return { id: body.instance.instanceId, history: false };
  if (body.kind === "rewindChild") return { id: body.instanceId, history: true };
  return undefined;
}

/** Applies one row into `change`. A row this build does not understand is logged and consumed: it can never apply. */
export function applyInboxEntry(state: HubState, lifecycle: InstanceLifecycle, entry: InboxEntry, change: Change): void {
  const body = entry.message.body as PartitionBody;
  const [first] = entry.message.events;
  const now = Date.now();
  switch (body.kind) {
    case "send": {
      const m = { instanceId: body.instanceId, executionId: body.executionId, visibleAt: body.visibleAt, event: first };
      state.send(m, change, { unlessQueued: body.unlessQueued });
      const grant = first.entityLockGranted;
      if (grant?.criticalSectionId && body.lockSet && !state.isLiveOrchestration(body.instanceId)) {
        // Granted to an orchestration that has ended: nothing will ever unlock these otherwise.
        state.link.release(state.name, body.instanceId, grant.criticalSectionId, body.lockSet, change);
      }
      return;
    }
    case "release":
      for (const entityId of body.entities) state.releaseLock(entityId, body.orchestrationId, body.criticalSectionId, change);
      return;
    case "start":
      return start(state, body, first, change, now);
    case "terminate":
      return lifecycle.terminate(body.instanceId, body.reason, body.recurse, change);
    case "rewindChild":
      return rewindChildHere(state, lifecycle, body.parent, { instanceId: body.instanceId, taskId: body.taskId, created: first.subOrchestrationInstanceCreated ?? {} }, change, now);
    default:
      log.error(`dts: task hub '${state.name}' partition ${state.link.part}: inbox row ${entry.id} is of an unknown kind and was dropped`, { hub: state.name });
  }
}

function start(state: HubState, body: Extract<PartitionBody, { kind: "start" }>, started: Parameters<HubState["createInstance"]>[1], change: Change, now: number): void {
  const id = body.instance.instanceId;
  const existing = state.current(id);
  if (existing) {
    const replaceable = body.replaceable ?? [];
    const allowed = !body.keepExisting && (replaceable.length > 0 ? replaceable.includes(existing.status) : isTerminal(existing.status));
    if (!allowed) return refuse(state, body, existing, change, now);
    state.dropInstance(id, change);
  }
  state.createInstance(body.instance, started, body.visibleAt, change);
}

/** The instance exists and may not be replaced: a parent learns it as the sub-orchestration's failure; anyone else's start is dropped, as a failed start of an entity or a schedule is. */
function refuse(state: HubState, body: Extract<PartitionBody, { kind: "start" }>, existing: InstanceRecord, change: Change, now: number): void {
  const id = body.instance.instanceId;
  if (body.parent) {
    state.send({
      instanceId: body.parent.instanceId, executionId: body.parent.executionId, visibleAt: now,
      event: event(now, { subOrchestrationInstanceFailed: { taskScheduledId: body.parent.taskId, failureDetails: { errorType: "InstanceExists", errorMessage: `An orchestration with instance id '${id}' is already ${statusName(existing.status)}` } } }),
    }, change);
  } else if (!body.keepExisting) {
    log.error(`dts: orchestration '${body.instance.name}' could not be started: instance '${id}' already exists and is ${statusName(existing.status)}`, { hub: state.name, instanceId: id });
  }
}

