// Applying a finished orchestration episode to an instance: the worker's actions become history,
// activity tasks, timers and messages. Pure: the caller supplies the clock and the id generator.
import { pb } from "../proto";
import { event, executionStarted, findExecutionStarted, fromTimestamp, openTasksAndTimers, str, val } from "./events";
import { normalizeEntityId } from "./entities";
import { FailureDetails, HistoryEvent, InstanceRecord, isTerminal, NewActivity, NewMessage, nonEmpty, Status } from "./model";

export type { NewActivity, NewMessage };

/** A sub-orchestration the episode asked for. */
export interface NewChild {
  instance: InstanceRecord;
  start: HistoryEvent;
  parentTaskId: number;
}

export interface EpisodeOutcome {
  instance: InstanceRecord;
  /** Events to append to the history (ignored when replaceHistory is set). */
  append: HistoryEvent[];
  /** The whole new history, when the episode rewrote it (continue-as-new, rewind). */
  replaceHistory?: HistoryEvent[];
  activities: NewActivity[];
  /** Messages to this or other instances (timers are messages to self, visible at their fire time). */
  messages: NewMessage[];
  children: NewChild[];
  terminations: { instanceId: string; reason?: string; recurse: boolean }[];
  /** Sub-orchestrations to rewind or re-create after a rewind action. */
  rewindChildren: { taskId: number; instanceId: string; created: pb.ISubOrchestrationInstanceCreatedEvent }[];
  /** Set when the execution ended: the instance to notify and the event to send it. */
  parentNotification?: NewMessage;
  /** Activities the Functions host ran inline with this episode: each TaskScheduled and its result. */
  inlineActivities?: InlineActivity[];
}

/** An activity a Functions host ran inline: its TaskScheduled and its TaskCompleted or TaskFailed, each with its time. */
export interface InlineActivity {
  scheduled: HistoryEvent;
  result: HistoryEvent;
}

export interface EpisodeInput {
  instance: InstanceRecord;
  history: HistoryEvent[];
  /** The events this episode was dispatched with (orchestratorStarted first). */
  dispatched: HistoryEvent[];
  actions: pb.IOrchestratorAction[];
  customStatus?: string;
  now: number;
  newExecutionId: () => string;
}

export class ActionError extends Error {}

export function applyEpisode(input: EpisodeInput): EpisodeOutcome {
  const { history, dispatched, now } = input;
  const instance: InstanceRecord = { ...input.instance, lastUpdatedAt: now, runRequested: undefined };
  if (input.customStatus !== undefined) instance.customStatus = input.customStatus;
  if (instance.status === Status.ORCHESTRATION_STATUS_PENDING) instance.status = Status.ORCHESTRATION_STATUS_RUNNING;

  const out: EpisodeOutcome = {
    instance, append: [...dispatched], activities: [], messages: [], children: [], terminations: [], rewindChildren: [],
  };
  const started = findExecutionStarted(history, dispatched);
  const executionId = instance.executionId;

  for (const action of input.actions) {
    const id = action.id ?? -1;
    if (action.scheduleTask) {
      const a = action.scheduleTask;
      const version = versionOf(a.version, instance);
      out.append.push(event(now, { taskScheduled: { name: a.name, version, input: a.input, tags: a.tags, parentTraceContext: a.parentTraceContext } }, id));
      out.activities.push({
        instanceId: instance.instanceId, executionId, taskId: id, name: a.name ?? "", version: val(version) || undefined,
        input: val(a.input), tags: nonEmpty(a.tags), parentTraceContext: a.parentTraceContext ?? undefined, visibleAt: now,
      });
    } else if (action.createTimer) {
      const fireAt = fromTimestamp(action.createTimer.fireAt) ?? now;
      out.append.push(event(now, { timerCreated: { fireAt: action.createTimer.fireAt } }, id));
      out.messages.push({
        instanceId: instance.instanceId, executionId, visibleAt: fireAt,
        event: event(now, { timerFired: { fireAt: action.createTimer.fireAt, timerId: id } }),
      });
    } else if (action.createSubOrchestration) {
      const a = action.createSubOrchestration;
      if (!a.instanceId) throw new ActionError(`createSubOrchestration action ${id} has no instance id`);
      const version = versionOf(a.version, instance);
      out.append.push(event(now, {
        subOrchestrationInstanceCreated: { instanceId: a.instanceId, name: a.name, version, input: a.input, tags: a.tags, parentTraceContext: a.parentTraceContext },
      }, id));
      const childExecutionId = input.newExecutionId();
      const child: InstanceRecord = {
        instanceId: a.instanceId, executionId: childExecutionId, name: a.name ?? "", version: val(version) || undefined,
        status: Status.ORCHESTRATION_STATUS_PENDING, input: val(a.input), createdAt: now, lastUpdatedAt: now,
        parentInstanceId: instance.instanceId, tags: nonEmpty(a.tags),
      };
      const start = executionStarted(now, {
        name: a.name, version, input: a.input, tags: a.tags, parentTraceContext: a.parentTraceContext,
        orchestrationInstance: { instanceId: a.instanceId, executionId: str(childExecutionId) },
        parentInstance: {
          taskScheduledId: id, name: str(instance.name), version: str(instance.version),
          orchestrationInstance: { instanceId: instance.instanceId, executionId: str(executionId) },
        },
      });
      out.children.push({ instance: child, start, parentTaskId: id });
    } else if (action.sendEvent) {
      const a = action.sendEvent;
      const target = a.instance?.instanceId;
      if (!target) throw new ActionError(`sendEvent action ${id} has no target instance id`);
      out.append.push(event(now, { eventSent: { instanceId: target, name: a.name, input: a.data } }, id));
      out.messages.push({ instanceId: target, visibleAt: now, event: event(now, { eventRaised: { name: a.name, input: a.data } }) });
    } else if (action.terminateOrchestration) {
      const a = action.terminateOrchestration;
      if (a.instanceId) out.terminations.push({ instanceId: a.instanceId, reason: val(a.reason), recurse: !!a.recurse });
    } else if (action.sendEntityMessage) {
      applyEntityMessage(out, action.sendEntityMessage, id, instance, now);
    } else if (action.rewindOrchestration) {
      const newHistory = action.rewindOrchestration.newHistory ?? [];
      out.replaceHistory = [...newHistory];
      out.append = [];
      rewound(instance, newHistory);
      reissueOpenWork(out, newHistory, now);
      out.rewindChildren = rewindChildrenOf(newHistory);
    } else if (action.completeOrchestration) {
      completeExecution(out, action.completeOrchestration, id, started, input);
    } else {
      throw new ActionError(`action ${id} has no known action type`);
    }
  }
  return out;
}

/**
 * The instance once a rewind rewrote its history: running again, under the execution id the new
 * history's ExecutionStarted carries (the SDKs mint one), so work items and history agree.
 */
export function rewound(instance: InstanceRecord, newHistory: HistoryEvent[]): void {
  Object.assign(instance, { status: Status.ORCHESTRATION_STATUS_RUNNING, output: undefined, failureDetails: undefined, completedAt: undefined, runRequested: true });
  const executionId = val(findExecutionStarted(newHistory)?.orchestrationInstance?.executionId);
  if (executionId && executionId !== instance.executionId) {
    instance.rewoundExecutionIds = [...(instance.rewoundExecutionIds ?? []), instance.executionId];
    instance.executionId = executionId;
  }
}

/** The sub-orchestrations a rewritten history still waits for: each is rewound, re-created or heard from again. */
export function rewindChildrenOf(newHistory: HistoryEvent[]): EpisodeOutcome["rewindChildren"] {
  const done = new Set<number>();
  for (const e of newHistory) if (e.subOrchestrationInstanceCompleted) done.add(e.subOrchestrationInstanceCompleted.taskScheduledId ?? 0);
  const children: EpisodeOutcome["rewindChildren"] = [];
  for (const e of newHistory) {
    const c = e.subOrchestrationInstanceCreated;
    if (c?.instanceId && !done.has(e.eventId ?? 0)) children.push({ taskId: e.eventId ?? 0, instanceId: c.instanceId, created: c });
  }
  return children;
}

/**
 * The activities and timers a rewound execution still waits for were dropped when it failed: they
 * are issued again (the scheduler skips an activity still running, whose result will arrive).
 */
export function reissueOpenWork(out: EpisodeOutcome, history: HistoryEvent[], now: number): void {
  const { instanceId, executionId } = out.instance;
  const open = openTasksAndTimers(history);
  for (const { taskId, scheduled: a } of open.activities) {
    out.activities.push({ instanceId, executionId, taskId, name: a.name ?? "", version: val(a.version), input: val(a.input), tags: nonEmpty(a.tags), visibleAt: now });
  }
  for (const { timerId, fireAt } of open.timers) {
    out.messages.push({ instanceId, executionId, visibleAt: fromTimestamp(fireAt) ?? now, event: event(now, { timerFired: { fireAt, timerId } }) });
  }
}

function completeExecution(out: EpisodeOutcome, a: pb.ICompleteOrchestrationAction, id: number, started: pb.IExecutionStartedEvent | undefined, input: EpisodeInput): void {
  const { instance } = out;
  const { now } = input;
  const status = a.orchestrationStatus ?? Status.ORCHESTRATION_STATUS_COMPLETED;
  if (status === Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW) {
    const executionId = input.newExecutionId();
    const version = val(a.newVersion) ?? instance.version;
    Object.assign(instance, {
      executionId, version, input: val(a.result), output: undefined, customStatus: undefined, failureDetails: undefined,
      status: Status.ORCHESTRATION_STATUS_RUNNING, rewoundExecutionIds: undefined,
    });
    out.replaceHistory = [];
    out.append = [];
    // Work of the old execution is dropped by execution id; the new one starts from its ExecutionStarted.
    out.activities = [];
    out.messages = out.messages.filter((m) => m.instanceId !== instance.instanceId);
    out.children = [];
    out.messages.push({
      instanceId: instance.instanceId, executionId, visibleAt: now,
      event: executionStarted(now, {
        name: instance.name, version: str(version), input: a.result, tags: started?.tags,
        orchestrationInstance: { instanceId: instance.instanceId, executionId: str(executionId) },
        parentInstance: started?.parentInstance, parentTraceContext: started?.parentTraceContext,
      }),
    });
    for (const carried of a.carryoverEvents ?? []) {
      out.messages.push({ instanceId: instance.instanceId, executionId, visibleAt: now, event: carried });
    }
    return;
  }
  if (!isTerminal(status)) throw new ActionError(`completeOrchestration action ${id} has non-terminal status ${Status[status] ?? status}`);
  endExecution(instance, status, val(a.result), a.failureDetails, now, val(a.details));
  // The bookend lets a later rewind find where the execution ended (the SDK requires it).
  out.append.push(event(now, { executionCompleted: { orchestrationStatus: status, result: a.result, failureDetails: a.failureDetails } }, id));
  out.parentNotification = parentNotification(instance, started, now);
}

/**
 * The instance once its execution ended in a terminal status, whichever wire form reported it; a
 * failure without details gets a generic one (with the worker's `details` text when it gave one).
 */
export function endExecution(instance: InstanceRecord, status: Status, result: string | undefined, failureDetails: FailureDetails | null | undefined, now: number, details?: string): void {
  instance.status = status;
  instance.completedAt = now;
  instance.output = status === Status.ORCHESTRATION_STATUS_FAILED ? undefined : result;
  instance.failureDetails = failureDetails ?? undefined;
  if (status === Status.ORCHESTRATION_STATUS_FAILED && !instance.failureDetails) {
    instance.failureDetails = { errorType: "OrchestrationFailed", errorMessage: details ?? "The orchestration failed" };
  }
}

/** The message that tells a parent orchestration its sub-orchestration finished. */
export function parentNotification(instance: InstanceRecord, started: pb.IExecutionStartedEvent | undefined, now: number): NewMessage | undefined {
  const parent = started?.parentInstance;
  const parentId = parent?.orchestrationInstance?.instanceId;
  if (!parent || !parentId) return undefined;
  const taskScheduledId = parent.taskScheduledId ?? 0;
  const executionId = val(parent.orchestrationInstance?.executionId) || undefined;
  let e: HistoryEvent;
  if (instance.status === Status.ORCHESTRATION_STATUS_COMPLETED) {
    e = event(now, { subOrchestrationInstanceCompleted: { taskScheduledId, result: str(instance.output) } });
  } else {
    const details: FailureDetails = instance.status === Status.ORCHESTRATION_STATUS_TERMINATED
      ? { errorType: "OrchestrationTerminated", errorMessage: `Sub-orchestration '${instance.instanceId}' was terminated${instance.output ? `: ${instance.output}` : ""}` }
      : instance.failureDetails ?? { errorType: "OrchestrationFailed", errorMessage: `Sub-orchestration '${instance.instanceId}' failed` };
    e = event(now, { subOrchestrationInstanceFailed: { taskScheduledId, failureDetails: details } });
  }
  return { instanceId: parentId, executionId, visibleAt: now, event: e };
}

function applyEntityMessage(out: EpisodeOutcome, a: pb.ISendEntityMessageAction, id: number, instance: InstanceRecord, now: number): void {
  // Recorded in history so replay matches; delivery to entities belongs to the entity dispatcher.
  const fields: Omit<HistoryEvent, "eventId" | "timestamp"> = {};
  let target: string | undefined;
  if (a.entityOperationSignaled) { fields.entityOperationSignaled = a.entityOperationSignaled; target = val(a.entityOperationSignaled.targetInstanceId); }
  else if (a.entityOperationCalled) { fields.entityOperationCalled = a.entityOperationCalled; target = val(a.entityOperationCalled.targetInstanceId); }
  else if (a.entityLockRequested) { fields.entityLockRequested = a.entityLockRequested; target = a.entityLockRequested.lockSet?.[a.entityLockRequested.position ?? 0] ?? undefined; }
  else if (a.entityUnlockSent) { fields.entityUnlockSent = a.entityUnlockSent; target = val(a.entityUnlockSent.targetInstanceId); }
  else throw new ActionError(`sendEntityMessage action ${id} has no message`);
  out.append.push(event(now, fields, id));
  // Targets must be entity ids (stored with the name lowercased): a message no entity can receive
  // would leave a call or a lock request waiting forever.
  const lock = a.entityLockRequested;
  const message = lock ? { ...fields, entityLockRequested: { ...lock, lockSet: (lock.lockSet ?? []).map((t) => entityTarget(t, id)) } } : fields;
  const scheduled = fromTimestamp(a.entityOperationSignaled?.scheduledTime ?? a.entityOperationCalled?.scheduledTime);
  out.messages.push({ instanceId: entityTarget(target, id), visibleAt: scheduled && scheduled > now ? scheduled : now, event: event(now, message, id) });
  void instance;
}

function entityTarget(target: string | null | undefined, id: number): string {
  try {
    return normalizeEntityId(target, `sendEntityMessage action ${id} target`);
  } catch (err) {
    throw new ActionError((err as Error).message);
  }
}

/**
 * The version an activity or sub-orchestration runs: the one its action sets (even ""), else the
 * orchestration's own. The .NET SDK always sets one; the JS SDK only when the caller gives one, and
 * without this its Strict workers' filters (which name their version) would accept none of it.
 */
function versionOf(set: pb.google.protobuf.IStringValue | null | undefined, instance: InstanceRecord): pb.google.protobuf.IStringValue | undefined {
  return set ?? (instance.version ? { value: instance.version } : undefined);
}
