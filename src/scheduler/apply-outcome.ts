// An orchestration episode's outcome applied to the hub: the instance's new record and history,
// its activity tasks, sub-orchestrations, messages, terminations and rewinds, all in one change.
import { event, executionStarted, findExecutionStarted, str, val } from "../core/events";
import { InstanceRecord, isTerminal, nonEmpty, Status, statusName } from "../core/model";
import { EpisodeOutcome, parentNotification } from "../core/orchestration";
import { Change } from "./change";
import { HotInstance } from "./hot-instance";
import { HubState, newExecutionId } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";

export function applyOutcome(state: HubState, lifecycle: InstanceLifecycle, h: HotInstance, outcome: EpisodeOutcome, change: Change): void {
  const id = h.rec.instanceId;
  const wasExecution = h.rec.executionId;
  // The execution's whole history, for the locks it may hold in other partitions (a continue-as-new replaces it).
  const lockHistory = state.link.single ? undefined : h.history.concat(outcome.append);
  state.setRecord(h, outcome.instance, change);
  if (outcome.replaceHistory) state.replaceHistory(h, outcome.replaceHistory, change);
  else state.appendHistory(h, outcome.append, change);
  // A new execution id means continue-as-new, unless a rewind gave it (the same execution goes on).
  const continued = h.rec.executionId !== wasExecution && !h.rec.rewoundExecutionIds?.includes(wasExecution);
  if (continued) {
    // Continue-as-new: only messages for no particular execution (raised events) carry over.
    state.dropMessages(h, (m) => m.executionId !== undefined, change);
    state.dropActivitiesOf(id, change);
  }
  const now = Date.now();
  // A rewind issues again the work its execution still waits for; what is still running, or whose
  // result already waits in the inbox, is not doubled.
  const rewind = !!outcome.replaceHistory?.length;
  const running = rewind ? new Set(state.activitiesOf(id).map((a) => a.taskId)) : undefined;
  const ticking = rewind ? new Set<number | null | undefined>() : undefined;
  if (running && ticking) {
    for (const { event: e } of h.inbox) {
      const result = e.taskCompleted ?? e.taskFailed;
      if (result) running.add(result.taskScheduledId ?? 0);
      if (e.timerFired) ticking.add(e.timerFired.timerId);
    }
  }
  for (const a of outcome.activities) if (!running?.has(a.taskId)) state.addActivity(a, change);
  for (const child of outcome.children) {
    if (!state.link.owns(child.instance.instanceId)) {
      // The child's partition decides: it creates it, or answers with InstanceExists.
      const parent = { instanceId: id, executionId: h.rec.executionId, taskId: child.parentTaskId };
      state.link.post(state.name, child.instance.instanceId, { kind: "start", instance: child.instance, visibleAt: now, parent }, [child.start], change);
      continue;
    }
    const existing = state.current(child.instance.instanceId);
    if (existing && !isTerminal(existing.status)) {
      state.send({
        instanceId: id, executionId: h.rec.executionId, visibleAt: now,
        event: event(now, { subOrchestrationInstanceFailed: { taskScheduledId: child.parentTaskId, failureDetails: { errorType: "InstanceExists", errorMessage: `An orchestration with instance id '${child.instance.instanceId}' is already ${statusName(existing.status)}` } } }),
      }, change);
      continue;
    }
    if (existing) state.dropInstance(child.instance.instanceId, change);
    state.createInstance(child.instance, child.start, now, change);
  }
  for (const m of outcome.messages) {
    if (m.instanceId === id && m.event.timerFired && ticking?.has(m.event.timerFired.timerId)) continue;
    state.send(m, change);
  }
  for (const t of outcome.terminations) {
    if (state.get(t.instanceId) || !state.link.owns(t.instanceId)) lifecycle.terminate(t.instanceId, t.reason, t.recurse, change);
  }
  for (const c of outcome.rewindChildren) rewindChild(state, lifecycle, h, c, change, now);
  if (outcome.parentNotification) state.send(outcome.parentNotification, change);
  if (isTerminal(h.rec.status)) state.finish(h, change);
  if (isTerminal(h.rec.status) || continued) state.releaseLocksOf(id, change, lockHistory);
  change.wake.add(id);
  change.notify.add(id);
}

/** A sub-orchestration of a rewound parent: created again, rewound, or its result sent again (by the child's partition). */
function rewindChild(state: HubState, lifecycle: InstanceLifecycle, h: HotInstance, c: EpisodeOutcome["rewindChildren"][number], change: Change, now: number): void {
  if (!state.link.owns(c.instanceId)) {
    const parent = { instanceId: h.rec.instanceId, executionId: h.rec.executionId, name: h.rec.name };
    state.link.post(state.name, c.instanceId, { kind: "rewindChild", parent, instanceId: c.instanceId, taskId: c.taskId }, [event(now, { subOrchestrationInstanceCreated: c.created })], change);
    return;
  }
  rewindChildHere(state, lifecycle, { instanceId: h.rec.instanceId, executionId: h.rec.executionId, name: h.rec.name }, c, change, now);
}

/** rewindChild in the child's partition; `parent` as the rewound parent is now. */
export function rewindChildHere(
  state: HubState, lifecycle: InstanceLifecycle, parent: { instanceId: string; executionId: string; name: string },
  c: EpisodeOutcome["rewindChildren"][number], change: Change, now: number,
): void {
  const id = parent.instanceId;
  const rec = state.current(c.instanceId);
  if (!rec) {
    // Nothing to re-create from: a host's ExecutionRewound message to an instance that does not exist names no orchestration.
    if (!c.created.name) return;
    const childRec: InstanceRecord = {
      instanceId: c.instanceId, executionId: newExecutionId(), name: c.created.name ?? "", version: val(c.created.version),
      status: Status.ORCHESTRATION_STATUS_PENDING, input: val(c.created.input), createdAt: now, lastUpdatedAt: now, parentInstanceId: id, tags: nonEmpty(c.created.tags),
    };
    state.createInstance(childRec, executionStarted(now, {
      name: c.created.name, version: c.created.version, input: c.created.input, tags: c.created.tags,
      orchestrationInstance: { instanceId: c.instanceId, executionId: str(childRec.executionId) },
      parentInstance: { taskScheduledId: c.taskId, name: str(parent.name), orchestrationInstance: { instanceId: id, executionId: str(parent.executionId) } },
    }), now, change);
  } else if (rec.status === Status.ORCHESTRATION_STATUS_FAILED) {
    lifecycle.rewind(c.instanceId, "Rewound with its parent", change, parent.executionId);
  } else if (isTerminal(rec.status)) {
    resendChildResult(state, parent, rec, change, now);
  }
  // A child still running reports to an execution id the parent had before the rewind; send() accepts it.
}

/**
 * A child that finished while its parent was Failed had its result dropped; the rewound parent
 * waits for it, so it is sent again (unless it is already in the parent's inbox).
 */
function resendChildResult(state: HubState, parent: { instanceId: string; executionId: string }, child: InstanceRecord, change: Change, now: number): void {
  const started = findExecutionStarted(state.currentHistory(child.instanceId) ?? []);
  const link = started?.parentInstance;
  if (link?.orchestrationInstance?.instanceId !== parent.instanceId) return; // the id now names another instance
  const note = parentNotification(child, started, now);
  // The parent's partition drops it when a result already waits in the parent's inbox.
  if (note) state.send({ ...note, executionId: parent.executionId }, change, { unlessQueued: true });
}
