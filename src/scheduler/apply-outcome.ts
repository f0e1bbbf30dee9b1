// An orchestration episode's outcome applied to the hub: the instance's new record and history,
// its activity tasks, sub-orchestrations, messages, terminations and rewinds, all in one change.
import { event, executionStarted, findExecutionStarted, str, val } from "../core/events";
import { HistoryEvent, InstanceRecord, isTerminal, nonEmpty, Status, statusName } from "../core/model";
import { EpisodeOutcome, parentNotification } from "../core/orchestration";
import { Change } from "./change";
import { HotInstance } from "./hot-instance";
import { HubState, newExecutionId } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";

export function applyOutcome(state: HubState, lifecycle: InstanceLifecycle, h: HotInstance, outcome: EpisodeOutcome, change: Change): void {
  const id = h.rec.instanceId;
  const wasExecution = h.rec.executionId;
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
    if (state.get(t.instanceId)) lifecycle.terminate(t.instanceId, t.reason, t.recurse, change);
  }
  for (const c of outcome.rewindChildren) rewindChild(state, lifecycle, h, c, change, now);
  if (outcome.parentNotification) state.send(outcome.parentNotification, change);
  if (isTerminal(h.rec.status)) state.finish(h, change);
  if (isTerminal(h.rec.status) || continued) state.releaseLocksOf(id, change);
  change.wake.add(id);
  change.notify.add(id);
}

/** A sub-orchestration of a rewound parent: created again, rewound, or its result sent again. */
function rewindChild(state: HubState, lifecycle: InstanceLifecycle, h: HotInstance, c: EpisodeOutcome["rewindChildren"][number], change: Change, now: number): void {
  const id = h.rec.instanceId;
  const rec = state.current(c.instanceId);
  if (!rec) {
    const childRec: InstanceRecord = {
      instanceId: c.instanceId, executionId: newExecutionId(), name: c.created.name ?? "", version: val(c.created.version),
      status: Status.ORCHESTRATION_STATUS_PENDING, input: val(c.created.input), createdAt: now, lastUpdatedAt: now, parentInstanceId: id, tags: nonEmpty(c.created.tags),
    };
    state.createInstance(childRec, executionStarted(now, {
      name: c.created.name, version: c.created.version, input: c.created.input, tags: c.created.tags,
      orchestrationInstance: { instanceId: c.instanceId, executionId: str(childRec.executionId) },
      parentInstance: { taskScheduledId: c.taskId, name: str(h.rec.name), orchestrationInstance: { instanceId: id, executionId: str(h.rec.executionId) } },
    }), now, change);
  } else if (rec.status === Status.ORCHESTRATION_STATUS_FAILED) {
    lifecycle.rewind(c.instanceId, "Rewound with its parent", change, h.rec.executionId);
  } else if (isTerminal(rec.status)) {
    resendChildResult(state, h, rec, change, now);
  }
  // A child still running reports to an execution id the parent had before the rewind; send() accepts it.
}

/**
 * A child that finished while its parent was Failed had its result dropped; the rewound parent
 * waits for it, so it is sent again (unless it is already in the parent's inbox).
 */
function resendChildResult(state: HubState, parent: HotInstance, child: InstanceRecord, change: Change, now: number): void {
  const started = findExecutionStarted(state.currentHistory(child.instanceId) ?? []);
  const link = started?.parentInstance;
  if (link?.orchestrationInstance?.instanceId !== parent.rec.instanceId) return; // the id now names another instance
  const taskId = link.taskScheduledId ?? 0;
  const result = (e: HistoryEvent) => (e.subOrchestrationInstanceCompleted ?? e.subOrchestrationInstanceFailed)?.taskScheduledId === taskId;
  if (parent.inbox.some((m) => result(m.event))) return;
  const note = parentNotification(child, started, now);
  if (note) state.send({ ...note, executionId: parent.rec.executionId }, change);
}
