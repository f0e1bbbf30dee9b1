// An entity's next step from its queue: a batch for a worker, or a lock request or release the
// scheduler applies itself. Lock steps run inside the operation whose messages or lock releases
// made them possible, so one operation stays one commit.
import { pb } from "../proto";
import { EntityStep, isEmptyEntity, nextEntityStep } from "../core/entities";
import { Change } from "./change";
import { dispatchableInbox, HotInstance, InboxMessage } from "./hot-instance";
import { HubState } from "./hub-state";

/** The entity's next step over `inbox` (by default the messages a worker may be given). */
export function entityStep(state: HubState, h: HotInstance, now: number, batchSize: number, inbox: InboxMessage[] = dispatchableInbox(h)): EntityStep {
  return nextEntityStep(h.rec.instanceId, h.rec.entity!, inbox, now, batchSize, (o) => state.isLiveOrchestration(o));
}

/**
 * A lock request dropped because its orchestration has ended: entities of other partitions earlier
 * in its lock set could not tell, and may have granted it; they are unlocked.
 */
function unlockEarlier(state: HubState, r: pb.IEntityLockRequestedEvent, change: Change): void {
  const requester = r.parentInstanceId?.value;
  if (!requester || !r.criticalSectionId) return;
  state.link.release(state.name, requester, r.criticalSectionId, (r.lockSet ?? []).slice(0, r.position ?? 0), change);
}

/**
 * Applies the lock steps now at the head of the queues of the entities the change woke, then
 * forgets the entities those steps (or a completed batch) left empty. Messages of earlier changes
 * not yet committed count too, and so does a batch whose completion is being committed: this change
 * commits after them.
 */
export function settleEntities(state: HubState, change: Change, batchSize: number): void {
  const now = Date.now();
  // The set grows while it is walked: a granted lock forwards the request to the next entity.
  for (const id of change.wake) {
    const h = state.get(id);
    if (!h?.rec.entity || (h.lease && !h.lease.completing)) continue;
    for (;;) {
      const step = entityStep(state, h, now, batchSize, h.inbox);
      if (step?.kind !== "control") break;
      change.consume(state.name, h, [step.consumed.seq]);
      state.setEntity(h, step.entity, change);
      const request = step.consumed.event.entityLockRequested;
      // A grant carries its lock set, so a partition whose orchestration has ended unlocks them.
      for (const m of step.messages) state.send(m, change, m.event.entityLockGranted && request ? { lockSet: (request.lockSet ?? []).map(String) } : undefined);
      if (request && step.messages.length === 0 && !state.link.single) unlockEarlier(state, request, change);
      change.stepped.add(id);
    }
  }
  for (const id of change.stepped) {
    const h = state.get(id);
    const data = h?.rec.entity;
    // An entity with no state, lock or queue leaves memory and store.
    if (h && data && (!h.lease || h.lease.completing) && isEmptyEntity(data, h.inbox.length)) state.dropInstance(id, change);
  }
}
