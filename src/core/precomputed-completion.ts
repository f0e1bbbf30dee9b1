// The BackendService form of an orchestration episode: a Functions host sends the episode already
// turned into events (new history, TaskScheduled tasks, TimerFired timers, messages to instances).
// Both directions live here so the provider adapter (which builds the request from applyEpisode's
// outcome) and the scheduler (which turns the request back into an outcome) share one definition.
//
// Conventions beyond the wire table:
// - continue-as-new: runtimeStatus CONTINUED_AS_NEW, newHistory empty, and newMessages to the
//   instance itself carry the new execution's ExecutionStarted (with its execution id) and carry-over events;
// - rewind: newHistory is the whole rewritten history and starts with ExecutionStarted;
// - the scheduler derives the parent's SubOrchestrationInstanceCompleted/Failed message itself unless
//   newMessages already holds one;
// - inline activities (our own host, over the completion stream): a TaskCompleted or TaskFailed message
//   to the instance itself answers an activity this episode scheduled (a TaskScheduled in newHistory)
//   and left out of newTasks because the host ran it already; it is committed with the episode.
// - continued episodes (our own host, when the scheduler offers them): once every activity an episode
//   scheduled ran inline, the host may run the orchestrator's next episode at once, with those results
//   as its new events, and send both as one completion (joinEpisodes): newHistory then holds the next
//   episode's OrchestratorStarted and the TaskCompleted/TaskFailed events after the TaskScheduled they
//   answer. Each such result is held to the payload limit and may answer its task only once.
import { pb } from "../proto";
import { limitedActivityResult } from "./activity-result";
import { event, findExecutionStarted, fromTimestamp, orchestratorStarted, str, val } from "./events";
import { HistoryEvent, InstanceRecord, isTerminal, NewMessage, nonEmpty, Status } from "./model";
import { ActionError, endExecution, EpisodeOutcome, InlineActivity, NewChild, parentNotification, rewindChildrenOf, rewound } from "./orchestration";

type Request = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;

/** Builds the BackendService request for an episode outcome (the provider adapter's side). */
export function outcomeToRequest(outcome: EpisodeOutcome, completionToken: string): Request {
  const inst = outcome.instance;
  const continued = outcome.replaceHistory !== undefined && outcome.replaceHistory.length === 0;
  const newHistory = outcome.replaceHistory ?? outcome.append;
  const newMessages: pb.durabletask.protos.backend.v1.IOrchestratorMessage[] = [];
  const newTimers: HistoryEvent[] = [];
  for (const m of outcome.messages) {
    if (m.instanceId === inst.instanceId && m.event.timerFired) newTimers.push({ ...m.event, timestamp: m.event.timerFired.fireAt });
    else newMessages.push({ instance: { instanceId: m.instanceId, executionId: str(m.executionId) }, event: m.event });
  }
  for (const c of outcome.children) {
    newMessages.push({ instance: { instanceId: c.instance.instanceId, executionId: str(c.instance.executionId) }, event: c.start });
  }
  for (const t of outcome.terminations) {
    newMessages.push({ instance: { instanceId: t.instanceId }, event: event(inst.lastUpdatedAt, { executionTerminated: { input: str(t.reason), recurse: t.recurse } }) });
  }
  for (const c of outcome.rewindChildren) {
    newMessages.push({ instance: { instanceId: c.instanceId }, event: event(inst.lastUpdatedAt, { executionRewound: { reason: str("Rewound with its parent") } }) });
  }
  if (outcome.parentNotification) {
    const p = outcome.parentNotification;
    newMessages.push({ instance: { instanceId: p.instanceId, executionId: str(p.executionId) }, event: p.event });
  }
  return {
    completionToken,
    instance: { instanceId: inst.instanceId, executionId: str(inst.executionId) },
    runtimeStatus: continued ? Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW : inst.status,
    customStatus: str(inst.customStatus),
    newHistory: continued ? [] : newHistory,
    newTasks: outcome.activities.map((a) => event(inst.lastUpdatedAt, { taskScheduled: { name: a.name, version: str(a.version), input: str(a.input), tags: a.tags } }, a.taskId)),
    newTimers,
    newMessages,
  };
}

export interface PrecomputedInput {
  instance: InstanceRecord;
  history: HistoryEvent[];
  request: Request;
  now: number;
  /** The payload limit an inline activity's result is held to (as a worker's result is). */
  maxPayloadBytes?: number;
}

/** Turns a BackendService completion back into the outcome the scheduler applies (the scheduler's side). */
export function requestToOutcome({ instance: before, history, request, now, maxPayloadBytes = Infinity }: PrecomputedInput): EpisodeOutcome {
  const status = request.runtimeStatus ?? Status.ORCHESTRATION_STATUS_RUNNING;
  const instance: InstanceRecord = { ...before, lastUpdatedAt: now, runRequested: undefined };
  const customStatus = val(request.customStatus);
  if (customStatus !== undefined) instance.customStatus = customStatus;
  const newHistory = request.newHistory ?? [];
  const out: EpisodeOutcome = { instance, append: [...newHistory], activities: [], messages: [], children: [], terminations: [], rewindChildren: [] };
  const id = before.instanceId;

  for (const t of request.newTasks ?? []) {
    if (!t.taskScheduled) throw new ActionError("newTasks may hold only TaskScheduled events");
    out.activities.push({
      instanceId: id, executionId: instance.executionId, taskId: t.eventId ?? 0, name: t.taskScheduled.name ?? "",
      version: val(t.taskScheduled.version) || undefined, input: val(t.taskScheduled.input), visibleAt: now,
      tags: nonEmpty(t.taskScheduled.tags), parentTraceContext: t.taskScheduled.parentTraceContext ?? undefined,
    });
  }
  for (const t of request.newTimers ?? []) {
    if (!t.timerFired) throw new ActionError("newTimers may hold only TimerFired events");
    out.messages.push({ instanceId: id, executionId: instance.executionId, visibleAt: fromTimestamp(t.timerFired.fireAt) ?? now, event: t });
  }

  const { settled, open } = inlineTasks(newHistory, out.activities, maxPayloadBytes);
  if (settled.length > 0) out.inlineActivities = settled;

  let parentNotified = false;
  let nextExecution: pb.IExecutionStartedEvent | undefined;
  for (const m of request.newMessages ?? []) {
    const target = m.instance?.instanceId;
    const e = m.event;
    if (!target || !e) throw new ActionError("every newMessages entry needs an instance id and an event");
    const executionId = val(m.instance?.executionId) || undefined;
    if (e.executionStarted && target === id) {
      nextExecution = e.executionStarted;
      out.messages.push({ instanceId: id, executionId, visibleAt: now, event: e });
    } else if (e.executionStarted) {
      out.children.push(childFrom(target, executionId, e, id, now));
    } else if (e.executionTerminated) {
      out.terminations.push({ instanceId: target, reason: val(e.executionTerminated.input), recurse: !!e.executionTerminated.recurse });
    } else if (e.executionRewound && target !== id) {
      out.rewindChildren.push({ taskId: 0, instanceId: target, created: {} });
    } else if ((e.taskCompleted || e.taskFailed) && target === id) {
      const taskId = (e.taskCompleted ?? e.taskFailed)!.taskScheduledId ?? -1;
      const scheduled = open.get(taskId);
      if (scheduled === undefined) throw new ActionError(`a TaskCompleted or TaskFailed message to the instance itself must answer an activity this episode scheduled and left out of newTasks (task ${taskId} is not one)`);
      open.delete(taskId);
      const result = limitedActivityResult(scheduled.taskScheduled?.name ?? "", e, maxPayloadBytes);
      out.messages.push({ instanceId: id, executionId, visibleAt: now, event: result });
      (out.inlineActivities ??= []).push({ scheduled, result });
    } else {
      if (e.subOrchestrationInstanceCompleted || e.subOrchestrationInstanceFailed) parentNotified = true;
      out.messages.push({ instanceId: target, executionId, visibleAt: visibleAt(e, now), event: e });
    }
  }

  if (status === Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW) {
    if (!nextExecution) throw new ActionError("a CONTINUED_AS_NEW completion must send the new ExecutionStarted to the instance itself");
    Object.assign(instance, {
      executionId: val(nextExecution.orchestrationInstance?.executionId) || instance.executionId,
      input: val(nextExecution.input), version: val(nextExecution.version) || instance.version,
      output: undefined, customStatus: undefined, failureDetails: undefined, status: Status.ORCHESTRATION_STATUS_RUNNING, rewoundExecutionIds: undefined,
    });
    out.replaceHistory = [];
    out.append = [];
    out.activities = [];
    for (const m of out.messages) if (m.instanceId === id) m.executionId = instance.executionId;
    return out;
  }
  if (newHistory.length > 0 && newHistory[0].executionStarted && history.length > 0) {
    // A rewritten history (rewind).
    out.replaceHistory = [...newHistory];
    out.append = [];
    rewound(instance, newHistory);
    // From the history, not the host's ExecutionRewound messages: it names each child's task and start.
    out.rewindChildren = rewindChildrenOf(newHistory);
    return out;
  }
  if (instance.status === Status.ORCHESTRATION_STATUS_PENDING) instance.status = Status.ORCHESTRATION_STATUS_RUNNING;
  if (isTerminal(status)) {
    const completed = [...newHistory].reverse().find((e) => e.executionCompleted)?.executionCompleted;
    endExecution(instance, status, val(completed?.result), completed?.failureDetails, now);
    if (!completed) out.append.push(event(now, { executionCompleted: { orchestrationStatus: status, result: str(instance.output), failureDetails: instance.failureDetails } }));
    if (!parentNotified) out.parentNotification = parentNotification(instance, findExecutionStarted(history, newHistory), now);
  } else if (status === Status.ORCHESTRATION_STATUS_SUSPENDED || status === Status.ORCHESTRATION_STATUS_RUNNING) {
    // Suspension is decided by the scheduler (SuspendInstance); keep what it set.
  } else {
    throw new ActionError(`runtimeStatus ${Status[status] ?? status} is not a valid episode result`);
  }
  return out;
}

function childFrom(target: string, executionId: string | undefined, e: HistoryEvent, parentId: string, now: number): NewChild {
  const s = e.executionStarted!;
  const child: InstanceRecord = {
    instanceId: target, executionId: executionId ?? val(s.orchestrationInstance?.executionId) ?? "", name: s.name ?? "",
    version: val(s.version) || undefined, status: Status.ORCHESTRATION_STATUS_PENDING, input: val(s.input),
    createdAt: now, lastUpdatedAt: now, parentInstanceId: parentId,
    tags: nonEmpty(s.tags),
  };
  return { instance: child, start: e, parentTaskId: s.parentInstance?.taskScheduledId ?? 0 };
}

/**
 * The activities this completion scheduled (TaskScheduled events in newHistory) and did not leave to
 * a worker: `settled`, those answered later in newHistory (continued episodes), and `open`, the rest,
 * which inline results sent as messages may answer. A result in newHistory answers its task once, the
 * task is not also in newTasks, and one over the payload limit is refused (the episodes after it
 * already saw it, so it cannot be turned into PayloadTooLarge as a worker's would; our host does not
 * continue past one).
 */
function inlineTasks(newHistory: HistoryEvent[], queued: { taskId: number }[], maxPayloadBytes: number): { settled: InlineActivity[]; open: Map<number, HistoryEvent> } {
  const open = new Map<number, HistoryEvent>();
  const settled: InlineActivity[] = [];
  for (const e of newHistory) {
    if (e.taskScheduled) {
      open.set(e.eventId ?? -1, e);
      continue;
    }
    const answer = e.taskCompleted ?? e.taskFailed;
    if (!answer) continue;
    const taskId = answer.taskScheduledId ?? -1;
    const task = open.get(taskId);
    if (!task) {
      if (settled.some((s) => s.scheduled.eventId === taskId)) throw new ActionError(`task ${taskId} is answered twice in newHistory`);
      continue; // an answer to an earlier episode's task, dispatched with this work item
    }
    open.delete(taskId);
    const name = task.taskScheduled?.name ?? "";
    if (limitedActivityResult(name, e, maxPayloadBytes) !== e) {
      throw new ActionError(`the result of activity '${name}' (task ${taskId}) in newHistory is over the payload limit of ${maxPayloadBytes} bytes`);
    }
    settled.push({ scheduled: task, result: e });
  }
  for (const { taskId } of queued) {
    if (settled.some((s) => s.scheduled.eventId === taskId)) throw new ActionError(`task ${taskId} is answered in newHistory and also left to a worker in newTasks`);
    open.delete(taskId);
  }
  return { settled, open };
}

/**
 * The work item of the episode a host runs right after `episode` (continued episodes): its history
 * is the item's with the episode's new events, and its new events are the results of the activities
 * the episode scheduled, which the host ran.
 */
export function continuedWorkItem(item: pb.IOrchestratorRequest, episode: Request, results: HistoryEvent[], now: number): pb.IOrchestratorRequest {
  return {
    ...item,
    pastEvents: [...(item.pastEvents ?? []), ...(episode.newHistory ?? [])], // newHistory starts with the item's new events
    newEvents: [orchestratorStarted(now), ...results],
  };
}

/** One completion for episodes the host ran one right after another (continued episodes), the first's token and instance. */
export function joinEpisodes([first, ...rest]: Request[]): Request {
  if (rest.length === 0) return first;
  const last = rest[rest.length - 1];
  const all = [first, ...rest];
  return {
    ...first,
    runtimeStatus: last.runtimeStatus,
    // An episode that sets no custom status keeps the one before.
    customStatus: [...all].reverse().find((e) => val(e.customStatus) !== undefined)?.customStatus ?? first.customStatus,
    newHistory: all.flatMap((e) => e.newHistory ?? []),
    newTasks: all.flatMap((e) => e.newTasks ?? []),
    newTimers: all.flatMap((e) => e.newTimers ?? []),
    newMessages: all.flatMap((e) => e.newMessages ?? []),
  };
}

function visibleAt(e: HistoryEvent, now: number): number {
  const at = fromTimestamp(e.entityOperationSignaled?.scheduledTime ?? e.entityOperationCalled?.scheduledTime);
  return at && at > now ? at : now;
}

export type { NewMessage };
