// Builders and readers of history events and protobuf scalars: the one place that knows their shapes.
import { pb } from "../proto";
import { HistoryEvent } from "./model";

export function toTimestamp(ms: number): pb.google.protobuf.ITimestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Milliseconds since the epoch, or undefined for an absent timestamp or the SDKs' {0,0} "not set". */
export function fromTimestamp(ts: pb.google.protobuf.ITimestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  const ms = Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
  return ms > 0 ? ms : undefined;
}

export function str(value: string | undefined | null): pb.google.protobuf.IStringValue | undefined {
  return value === undefined || value === null ? undefined : { value };
}

export function val(wrapper: pb.google.protobuf.IStringValue | null | undefined): string | undefined {
  return wrapper ? (wrapper.value ?? "") : undefined;
}

export function event(now: number, fields: Omit<HistoryEvent, "eventId" | "timestamp">, eventId = -1): HistoryEvent {
  return { eventId, timestamp: toTimestamp(now), ...fields };
}

/** An execution's first event; eventId 0, as the managed service's histories have it. */
export function executionStarted(now: number, fields: pb.IExecutionStartedEvent): HistoryEvent {
  return event(now, { executionStarted: fields }, 0);
}

export function orchestratorStarted(now: number): HistoryEvent {
  return event(now, { orchestratorStarted: {} });
}

/** Which kind of event this is: the name of its set oneof field. */
export function kindOf(e: HistoryEvent): string {
  for (const key in e) {
    if (key !== "eventId" && key !== "timestamp" && (e as Record<string, unknown>)[key] != null) return key;
  }
  return "unknown";
}

/** The ExecutionStarted event of the current execution, searched in history then in pending events. */
export function findExecutionStarted(...lists: HistoryEvent[][]): pb.IExecutionStartedEvent | undefined {
  for (const list of lists) {
    for (const e of list) if (e.executionStarted) return e.executionStarted;
  }
  return undefined;
}

/** Ids of sub-orchestrations this history created and has not yet seen finish successfully. */
export function unfinishedSubOrchestrations(history: HistoryEvent[]): { taskId: number; created: pb.ISubOrchestrationInstanceCreatedEvent }[] {
  const created = new Map<number, pb.ISubOrchestrationInstanceCreatedEvent>();
  const done = new Set<number>();
  for (const e of history) {
    if (e.subOrchestrationInstanceCreated) created.set(e.eventId ?? 0, e.subOrchestrationInstanceCreated);
    else if (e.subOrchestrationInstanceCompleted) done.add(e.subOrchestrationInstanceCompleted.taskScheduledId ?? 0);
    else if (e.subOrchestrationInstanceFailed) done.add(e.subOrchestrationInstanceFailed.taskScheduledId ?? 0);
  }
  return [...created].filter(([id]) => !done.has(id)).map(([taskId, c]) => ({ taskId, created: c }));
}

/** Activities and timers this history started and has not seen finish. */
export function openTasksAndTimers(history: HistoryEvent[]): {
  activities: { taskId: number; scheduled: pb.ITaskScheduledEvent }[];
  timers: { timerId: number; fireAt: pb.google.protobuf.ITimestamp | null | undefined }[];
} {
  const tasks = new Map<number, pb.ITaskScheduledEvent>();
  const timers = new Map<number, pb.google.protobuf.ITimestamp | null | undefined>();
  for (const e of history) {
    if (e.taskScheduled) tasks.set(e.eventId ?? 0, e.taskScheduled);
    else if (e.taskCompleted) tasks.delete(e.taskCompleted.taskScheduledId ?? 0);
    else if (e.taskFailed) tasks.delete(e.taskFailed.taskScheduledId ?? 0);
    else if (e.timerCreated) timers.set(e.eventId ?? 0, e.timerCreated.fireAt);
    else if (e.timerFired) timers.delete(e.timerFired.timerId ?? 0);
  }
  return {
    activities: [...tasks].map(([taskId, scheduled]) => ({ taskId, scheduled })),
    timers: [...timers].map(([timerId, fireAt]) => ({ timerId, fireAt })),
  };
}

/**
 * Entity calls this history made and has no answer for yet, and lock requests not yet granted.
 * (An orchestration waiting on a plain external event leaves no trace in its history: the SDK keeps
 * the names it waits for in its own replay state, and no protocol message carries them.)
 */
export function openEntityRequests(history: HistoryEvent[]): {
  calls: { requestId: string; operation: string; entity: string }[];
  locks: { criticalSectionId: string; entities: string[] }[];
} {
  const calls = new Map<string, { operation: string; entity: string }>();
  const locks = new Map<string, string[]>();
  for (const e of history) {
    const c = e.entityOperationCalled;
    if (c?.requestId) calls.set(c.requestId, { operation: c.operation ?? "", entity: c.targetInstanceId?.value ?? "" });
    else if (e.entityOperationCompleted?.requestId) calls.delete(e.entityOperationCompleted.requestId);
    else if (e.entityOperationFailed?.requestId) calls.delete(e.entityOperationFailed.requestId);
    else if (e.entityLockRequested?.criticalSectionId) locks.set(e.entityLockRequested.criticalSectionId, e.entityLockRequested.lockSet ?? []);
    else if (e.entityLockGranted?.criticalSectionId) locks.delete(e.entityLockGranted.criticalSectionId);
  }
  return {
    calls: [...calls].map(([requestId, c]) => ({ requestId, ...c })),
    locks: [...locks].map(([criticalSectionId, entities]) => ({ criticalSectionId, entities })),
  };
}

/** Every sub-orchestration instance id this history created. */
export function createdSubOrchestrationIds(history: HistoryEvent[]): string[] {
  const ids: string[] = [];
  for (const e of history) if (e.subOrchestrationInstanceCreated?.instanceId) ids.push(e.subOrchestrationInstanceCreated.instanceId);
  return ids;
}
