// Proto history events <-> the Durable Task Framework JSON history that durable-functions replays
// (`{EventType, EventId, IsPlayed, Timestamp, ...}` with DTFx's PascalCase field names). The JS replay
// matches completions by TaskScheduledId / TimerId / EventRaised Name, so entity traffic is given to
// it in the classic form it understands: requests as EventSent whose Input carries the request id,
// responses and lock grants as EventRaised named by that id (see TaskOrchestrationExecutor).
import { pb } from "../proto";
import { fromTimestamp, str, toTimestamp, val } from "../core/events";
import { FailureDetails, HistoryEvent } from "../core/model";

/** DTFx EventType numbers (durable-functions' HistoryEventType). */
export const EventType = {
  ExecutionStarted: 0, ExecutionCompleted: 1, ExecutionFailed: 2, ExecutionTerminated: 3, TaskScheduled: 4,
  TaskCompleted: 5, TaskFailed: 6, SubOrchestrationInstanceCreated: 7, SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9, TimerCreated: 10, TimerFired: 11, OrchestratorStarted: 12, OrchestratorCompleted: 13,
  EventSent: 14, EventRaised: 15, ContinueAsNew: 16, GenericEvent: 17, HistoryState: 18, ExecutionSuspended: 19, ExecutionResumed: 20,
} as const;

export interface JsonHistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  /** A Date, which durable-functions would otherwise make from an ISO string (and so change the object); its JSON text is that string. */
  Timestamp: Date;
  [field: string]: unknown;
}

export interface JsonFailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable: boolean;
  InnerFailure?: JsonFailureDetails;
  Properties?: Record<string, unknown>;
}

/** An event in the order the orchestrator replays it, and whether an earlier episode already saw it. */
export interface ReplayEvent {
  event: HistoryEvent;
  played: boolean;
}

/** Events an orchestration reacts to; held back while it is suspended (as the SDKs do). */
function isResult(e: HistoryEvent): boolean {
  return !!(e.taskCompleted || e.taskFailed || e.subOrchestrationInstanceCompleted || e.subOrchestrationInstanceFailed
    || e.timerFired || e.eventRaised || e.entityOperationCompleted || e.entityOperationFailed || e.entityLockGranted);
}

/**
 * Past then new events in replay order. Results that arrive while the orchestration is suspended are
 * moved after the ExecutionResumed that ends the suspension (or withheld while it lasts), because the
 * JS replay knows nothing of suspension. Deterministic, so every replay sees the same order.
 */
export function replayEvents(past: HistoryEvent[], fresh: HistoryEvent[]): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  let held: ReplayEvent[] | undefined;
  const all = [...past.map((event) => ({ event, played: true })), ...fresh.map((event) => ({ event, played: false }))];
  for (const r of all) {
    if (r.event.executionSuspended) {
      held ??= [];
      out.push(r);
    } else if (r.event.executionResumed) {
      out.push(r);
      for (const h of held ?? []) out.push({ event: h.event, played: h.played && r.played });
      held = undefined;
    } else if (held && isResult(r.event)) {
      held.push(r);
    } else {
      out.push(r);
    }
  }
  return out;
}

/** The JSON history for durable-functions: events it has no use for (entity operations it did not send, rewind markers) are left out. */
export function toJsonHistory(events: ReplayEvent[]): JsonHistoryEvent[] {
  return new JsonHistories().of(events);
}

/**
 * The JSON histories of one work item's episodes. An episode the host continues with (continued
 * episodes) replays the last one's events and then new ones: the JSON of the events it shares with
 * the last episode is reused (copied when an event has been played since), and only the rest is
 * converted. durable-functions does not change the objects it is given, their Timestamps being Dates.
 */
export class JsonHistories {
  private events: HistoryEvent[] = [];
  private converted: (JsonHistoryEvent | undefined)[] = [];

  of(replay: ReplayEvent[]): JsonHistoryEvent[] {
    const out: JsonHistoryEvent[] = [];
    const converted: (JsonHistoryEvent | undefined)[] = new Array(replay.length);
    let same = true;
    for (let i = 0; i < replay.length; i++) {
      const { event, played } = replay[i];
      let j: JsonHistoryEvent | undefined;
      if (same && this.events[i] === event) {
        j = this.converted[i];
        if (j && j.IsPlayed !== played) j = { ...j, IsPlayed: played };
      } else {
        same = false;
        j = toJsonEvent(event, played);
      }
      converted[i] = j;
      if (j) out.push(j);
    }
    this.events = replay.map((r) => r.event);
    this.converted = converted;
    return out;
  }
}

export function toJsonEvent(e: HistoryEvent, played: boolean): JsonHistoryEvent | undefined {
  const base = (type: number, fields: Record<string, unknown>): JsonHistoryEvent => ({
    EventType: type, EventId: e.eventId ?? -1, IsPlayed: played, Timestamp: new Date(millis(e.timestamp)), ...fields,
  });
  if (e.executionStarted) {
    const s = e.executionStarted;
    const parent = s.parentInstance;
    return base(EventType.ExecutionStarted, {
      OrchestrationInstance: instanceJson(s.orchestrationInstance),
      ParentInstance: parent ? {
        Name: val(parent.name) ?? null, Version: val(parent.version) ?? null, TaskScheduleId: parent.taskScheduledId ?? 0,
        OrchestrationInstance: instanceJson(parent.orchestrationInstance),
      } : null,
      Name: s.name ?? "", Version: val(s.version) ?? null, Input: val(s.input) ?? null, Tags: s.tags && Object.keys(s.tags).length ? { ...s.tags } : null,
      ScheduledStartTime: s.scheduledStartTimestamp && fromTimestamp(s.scheduledStartTimestamp) ? iso(s.scheduledStartTimestamp) : null,
    });
  }
  if (e.executionCompleted) {
    const c = e.executionCompleted;
    return base(EventType.ExecutionCompleted, { OrchestrationStatus: c.orchestrationStatus ?? 0, Result: val(c.result) ?? null, FailureDetails: failureJson(c.failureDetails) ?? null });
  }
  if (e.executionTerminated) return base(EventType.ExecutionTerminated, { Input: val(e.executionTerminated.input) ?? null });
  if (e.taskScheduled) {
    const t = e.taskScheduled;
    return base(EventType.TaskScheduled, { Name: t.name ?? "", Version: val(t.version) ?? null, Input: val(t.input) ?? null });
  }
  if (e.taskCompleted) return base(EventType.TaskCompleted, { TaskScheduledId: e.taskCompleted.taskScheduledId ?? 0, Result: val(e.taskCompleted.result) ?? "null" });
  if (e.taskFailed) return base(EventType.TaskFailed, { TaskScheduledId: e.taskFailed.taskScheduledId ?? 0, ...failureFields(e.taskFailed.failureDetails) });
  if (e.subOrchestrationInstanceCreated) {
    const c = e.subOrchestrationInstanceCreated;
    return base(EventType.SubOrchestrationInstanceCreated, { Name: c.name ?? "", Version: val(c.version) ?? null, InstanceId: c.instanceId ?? "", Input: val(c.input) ?? null });
  }
  if (e.subOrchestrationInstanceCompleted) {
    const c = e.subOrchestrationInstanceCompleted;
    return base(EventType.SubOrchestrationInstanceCompleted, { TaskScheduledId: c.taskScheduledId ?? 0, Result: val(c.result) ?? "null" });
  }
  if (e.subOrchestrationInstanceFailed) {
    const f = e.subOrchestrationInstanceFailed;
    return base(EventType.SubOrchestrationInstanceFailed, { TaskScheduledId: f.taskScheduledId ?? 0, ...failureFields(f.failureDetails) });
  }
  if (e.timerCreated) return base(EventType.TimerCreated, { FireAt: iso(e.timerCreated.fireAt) });
  if (e.timerFired) return base(EventType.TimerFired, { TimerId: e.timerFired.timerId ?? 0, FireAt: iso(e.timerFired.fireAt) });
  if (e.orchestratorStarted) return base(EventType.OrchestratorStarted, {});
  if (e.orchestratorCompleted) return base(EventType.OrchestratorCompleted, {});
  if (e.eventSent) return base(EventType.EventSent, { InstanceId: e.eventSent.instanceId ?? "", Name: e.eventSent.name ?? "", Input: val(e.eventSent.input) ?? null });
  if (e.eventRaised) return base(EventType.EventRaised, { Name: e.eventRaised.name ?? "", Input: val(e.eventRaised.input) ?? null });
  if (e.continueAsNew) return base(EventType.ContinueAsNew, { Result: val(e.continueAsNew.input) ?? null });
  if (e.executionSuspended) return base(EventType.ExecutionSuspended, { Reason: val(e.executionSuspended.input) ?? null });
  if (e.executionResumed) return base(EventType.ExecutionResumed, { Reason: val(e.executionResumed.input) ?? null });
  if (e.genericEvent) return base(EventType.GenericEvent, { Data: val(e.genericEvent.data) ?? null });

  // Entity traffic, classic form: the request message's `id` is what the replay re-keys the task by.
  if (e.entityOperationCalled) {
    const c = e.entityOperationCalled;
    const request = dropUndefined({
      op: c.operation ?? "", id: c.requestId ?? "", input: val(c.input), parent: val(c.parentInstanceId), parentExecution: val(c.parentExecutionId),
    });
    return base(EventType.EventSent, { InstanceId: val(c.targetInstanceId) ?? "", Name: "op", Input: JSON.stringify(request) });
  }
  if (e.entityOperationSignaled) {
    const s = e.entityOperationSignaled;
    const request = dropUndefined({ op: s.operation ?? "", signal: true, id: s.requestId ?? "", input: val(s.input) });
    return base(EventType.EventSent, { InstanceId: val(s.targetInstanceId) ?? "", Name: "op", Input: JSON.stringify(request) });
  }
  if (e.entityLockRequested) {
    const l = e.entityLockRequested;
    const lockset = l.lockSet ?? [];
    const request = dropUndefined({ op: null, id: l.criticalSectionId ?? "", parent: val(l.parentInstanceId), lockset, pos: l.position ?? 0 });
    return base(EventType.EventSent, { InstanceId: lockset[l.position ?? 0] ?? "", Name: "op", Input: JSON.stringify(request) });
  }
  if (e.entityUnlockSent) {
    const u = e.entityUnlockSent;
    const request = dropUndefined({ id: u.criticalSectionId ?? "", parent: val(u.parentInstanceId) });
    return base(EventType.EventSent, { InstanceId: val(u.targetInstanceId) ?? "", Name: "release", Input: JSON.stringify(request) });
  }
  if (e.entityOperationCompleted) {
    const c = e.entityOperationCompleted;
    const output = val(c.output);
    return base(EventType.EventRaised, { Name: c.requestId ?? "", Input: JSON.stringify(output === undefined ? {} : { result: output }) });
  }
  if (e.entityOperationFailed) {
    const f = e.entityOperationFailed;
    const d = f.failureDetails;
    // The replay turns `result` (JSON) into the Error message when exceptionType is present.
    const response = { result: JSON.stringify(d?.errorMessage ?? "The entity operation failed"), exceptionType: d?.errorType || "Error" };
    return base(EventType.EventRaised, { Name: f.requestId ?? "", Input: JSON.stringify(response) });
  }
  if (e.entityLockGranted) {
    return base(EventType.EventRaised, { Name: e.entityLockGranted.criticalSectionId ?? "", Input: JSON.stringify({ result: JSON.stringify("Lock Acquisition Completed") }) });
  }
  return undefined;
}

/** The inverse, for the DTFx event types (entity requests read back as plain EventSent/EventRaised). */
export function fromJsonEvent(j: JsonHistoryEvent): HistoryEvent {
  const head = { eventId: typeof j.EventId === "number" ? j.EventId : -1, timestamp: toTimestamp(new Date(j.Timestamp as string | Date).getTime()) };
  const s = (k: string) => (typeof j[k] === "string" ? str(j[k] as string) : undefined);
  const n = (k: string) => (typeof j[k] === "number" ? (j[k] as number) : 0);
  const ts = (k: string) => (j[k] ? toTimestamp(new Date(j[k] as string | Date).getTime()) : undefined);
  const failure = () => failureFromJson(j.FailureDetails as JsonFailureDetails | undefined) ?? { errorType: "Error", errorMessage: String(j.Reason ?? ""), stackTrace: s("Details") };
  switch (j.EventType) {
    case EventType.ExecutionStarted: {
      const inst = j.OrchestrationInstance as { InstanceId?: string; ExecutionId?: string } | null | undefined;
      const parent = j.ParentInstance as { Name?: string; Version?: string; TaskScheduleId?: number; OrchestrationInstance?: { InstanceId?: string; ExecutionId?: string } } | null | undefined;
      return {
        ...head, executionStarted: {
          name: String(j.Name ?? ""), version: s("Version"), input: s("Input"), tags: (j.Tags as Record<string, string>) ?? undefined,
          orchestrationInstance: inst ? { instanceId: inst.InstanceId ?? "", executionId: str(inst.ExecutionId) } : undefined,
          parentInstance: parent ? {
            name: str(parent.Name), version: str(parent.Version), taskScheduledId: parent.TaskScheduleId ?? 0,
            orchestrationInstance: parent.OrchestrationInstance ? { instanceId: parent.OrchestrationInstance.InstanceId ?? "", executionId: str(parent.OrchestrationInstance.ExecutionId) } : undefined,
          } : undefined,
          scheduledStartTimestamp: ts("ScheduledStartTime"),
        },
      };
    }
    case EventType.ExecutionCompleted:
      return { ...head, executionCompleted: { orchestrationStatus: n("OrchestrationStatus"), result: s("Result"), failureDetails: failureFromJson(j.FailureDetails as JsonFailureDetails | undefined) } };
    case EventType.ExecutionTerminated: return { ...head, executionTerminated: { input: s("Input") } };
    case EventType.TaskScheduled: return { ...head, taskScheduled: { name: String(j.Name ?? ""), version: s("Version"), input: s("Input") } };
    case EventType.TaskCompleted: return { ...head, taskCompleted: { taskScheduledId: n("TaskScheduledId"), result: s("Result") } };
    case EventType.TaskFailed: return { ...head, taskFailed: { taskScheduledId: n("TaskScheduledId"), failureDetails: failure() } };
    case EventType.SubOrchestrationInstanceCreated:
      return { ...head, subOrchestrationInstanceCreated: { name: String(j.Name ?? ""), version: s("Version"), instanceId: String(j.InstanceId ?? ""), input: s("Input") } };
    case EventType.SubOrchestrationInstanceCompleted: return { ...head, subOrchestrationInstanceCompleted: { taskScheduledId: n("TaskScheduledId"), result: s("Result") } };
    case EventType.SubOrchestrationInstanceFailed: return { ...head, subOrchestrationInstanceFailed: { taskScheduledId: n("TaskScheduledId"), failureDetails: failure() } };
    case EventType.TimerCreated: return { ...head, timerCreated: { fireAt: ts("FireAt") } };
    case EventType.TimerFired: return { ...head, timerFired: { timerId: n("TimerId"), fireAt: ts("FireAt") } };
    case EventType.OrchestratorStarted: return { ...head, orchestratorStarted: {} };
    case EventType.OrchestratorCompleted: return { ...head, orchestratorCompleted: {} };
    case EventType.EventSent: return { ...head, eventSent: { instanceId: String(j.InstanceId ?? ""), name: String(j.Name ?? ""), input: s("Input") } };
    case EventType.EventRaised: return { ...head, eventRaised: { name: String(j.Name ?? ""), input: s("Input") } };
    case EventType.ContinueAsNew: return { ...head, continueAsNew: { input: s("Result") } };
    case EventType.GenericEvent: return { ...head, genericEvent: { data: s("Data") } };
    case EventType.ExecutionSuspended: return { ...head, executionSuspended: { input: s("Reason") } };
    case EventType.ExecutionResumed: return { ...head, executionResumed: { input: s("Reason") } };
    default: throw new Error(`History event type ${j.EventType} has no protobuf counterpart`);
  }
}

/** TaskFailed / SubOrchestrationInstanceFailed fields: FailureDetails (what the replay reads first) plus DTFx's Reason and Details. */
function failureFields(d: FailureDetails | null | undefined): Record<string, unknown> {
  const f = failureJson(d) ?? { ErrorType: "Error", ErrorMessage: "The task failed", IsNonRetriable: false };
  return { Reason: f.ErrorMessage, Details: f.StackTrace ?? "", FailureDetails: f };
}

export function failureJson(d: FailureDetails | null | undefined): JsonFailureDetails | undefined {
  if (!d) return undefined;
  const out: JsonFailureDetails = { ErrorType: d.errorType || "Error", ErrorMessage: d.errorMessage ?? "", IsNonRetriable: !!d.isNonRetriable };
  const stack = val(d.stackTrace);
  if (stack !== undefined) out.StackTrace = stack;
  if (d.innerFailure) out.InnerFailure = failureJson(d.innerFailure);
  if (d.properties && Object.keys(d.properties).length > 0) {
    out.Properties = Object.fromEntries(Object.entries(d.properties).map(([k, v]) => [k, fromProtoValue(v)]));
  }
  return out;
}

/** Accepts both DTFx's PascalCase and durable-functions' camelCase failure payloads. */
export function failureFromJson(j: unknown): FailureDetails | undefined {
  if (!j || typeof j !== "object") return undefined;
  const o = j as Record<string, unknown>;
  const pick = (a: string, b: string) => (o[a] !== undefined ? o[a] : o[b]);
  const props = pick("Properties", "properties");
  const stack = pick("StackTrace", "stackTrace");
  return {
    errorType: String(pick("ErrorType", "errorType") ?? "Error"),
    errorMessage: String(pick("ErrorMessage", "errorMessage") ?? ""),
    stackTrace: typeof stack === "string" ? str(stack) : undefined,
    isNonRetriable: !!pick("IsNonRetriable", "isNonRetriable"),
    innerFailure: failureFromJson(pick("InnerFailure", "innerFailure")),
    properties: props && typeof props === "object" ? Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toProtoValue(v)])) : undefined,
  };
}

export function toProtoValue(v: unknown): pb.google.protobuf.IValue {
  if (v === null || v === undefined) return { nullValue: pb.google.protobuf.NullValue.NULL_VALUE };
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toProtoValue) } };
  if (v instanceof Date) return { stringValue: v.toISOString() };
  if (typeof v === "object") return { structValue: { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toProtoValue(x)])) } };
  return { stringValue: String(v) };
}

export function fromProtoValue(v: pb.google.protobuf.IValue | null | undefined): unknown {
  if (!v) return null;
  if (v.structValue) return Object.fromEntries(Object.entries(v.structValue.fields ?? {}).map(([k, x]) => [k, fromProtoValue(x)]));
  if (v.listValue) return (v.listValue.values ?? []).map(fromProtoValue);
  if (v.stringValue !== undefined && v.stringValue !== null && isSet(v, "stringValue")) return v.stringValue;
  if (v.numberValue !== undefined && v.numberValue !== null && isSet(v, "numberValue")) return v.numberValue;
  if (v.boolValue !== undefined && v.boolValue !== null && isSet(v, "boolValue")) return v.boolValue;
  return null;
}

/** Decoded messages carry oneof defaults on their prototype; only an own property (or the `kind` oneof name) is set. */
function isSet(v: pb.google.protobuf.IValue, field: string): boolean {
  const kind = (v as { kind?: string }).kind;
  return kind !== undefined ? kind === field : Object.prototype.hasOwnProperty.call(v, field);
}

function instanceJson(i: pb.IOrchestrationInstance | null | undefined): { InstanceId: string; ExecutionId: string | null } | null {
  return i ? { InstanceId: i.instanceId ?? "", ExecutionId: val(i.executionId) ?? null } : null;
}

function millis(ts: pb.google.protobuf.ITimestamp | null | undefined): number {
  return ts ? Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6) : 0;
}

function iso(ts: pb.google.protobuf.ITimestamp | null | undefined): string {
  return new Date(millis(ts)).toISOString();
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
