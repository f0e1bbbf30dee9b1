// Orchestration and entity state in the JSON shapes of the Durable HTTP management API (what
// durable-functions' DurableOrchestrationStatus and users' scripts read), from the scheduler's
// protobuf messages.
import { fromTimestamp, val } from "../core/events";
import { STATUS_NAMES } from "../core/model";
import { pb } from "../proto";
import { parsedText } from "../provider/typed-data";

const S = pb.OrchestrationStatus;

export const RUNTIME_STATUS = STATUS_NAMES;

/** "Running,completed" → the statuses; unknown names are an error naming them. */
export function parseRuntimeStatuses(text: string | null): pb.OrchestrationStatus[] | undefined {
  if (!text) return undefined;
  const out: pb.OrchestrationStatus[] = [];
  for (const name of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const entry = Object.entries(RUNTIME_STATUS).find(([, n]) => n.toLowerCase() === name.toLowerCase());
    if (!entry) throw new RangeError(`runtimeStatus '${name}' is not one of ${Object.values(RUNTIME_STATUS).join(", ")}`);
    out.push(Number(entry[0]));
  }
  return out.length > 0 ? out : undefined;
}

export function isRunningStatus(status: pb.OrchestrationStatus | null | undefined): boolean {
  return status === S.ORCHESTRATION_STATUS_RUNNING || status === S.ORCHESTRATION_STATUS_PENDING ||
    status === S.ORCHESTRATION_STATUS_CONTINUED_AS_NEW || status === S.ORCHESTRATION_STATUS_SUSPENDED;
}

/** Payloads are stored as JSON text; the API returns them as JSON values (text that is not JSON stays a string). */
export function parseJson(text: string | null | undefined): unknown {
  return text === undefined || text === null || text === "" ? null : parsedText(text);
}

function iso(ts: pb.google.protobuf.ITimestamp | null | undefined): string | undefined {
  const ms = fromTimestamp(ts);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** The extension's time format for createdTime/lastUpdatedTime: seconds precision, "Z". */
function isoSeconds(ts: pb.google.protobuf.ITimestamp | null | undefined): string {
  const ms = fromTimestamp(ts) ?? 0;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: unknown[];
  /** The same list again: durable-functions' DurableOrchestrationStatus reads `history`, the extension sends `historyEvents`. */
  history?: unknown[];
}

export function statusPayload(s: pb.IOrchestrationState, showInput: boolean, history?: unknown[]): StatusPayload {
  let output = parseJson(val(s.output));
  // A failed orchestration's status shows the error message as its output, as the extension does.
  if (output === null && s.orchestrationStatus === S.ORCHESTRATION_STATUS_FAILED && s.failureDetails?.errorMessage) output = s.failureDetails.errorMessage;
  const payload: StatusPayload = {
    name: s.name ?? "",
    instanceId: s.instanceId ?? "",
    runtimeStatus: RUNTIME_STATUS[s.orchestrationStatus ?? 0] ?? "Unknown",
    input: showInput ? parseJson(val(s.input)) : null,
    customStatus: parseJson(val(s.customStatus)),
    output,
    createdTime: isoSeconds(s.createdTimestamp),
    lastUpdatedTime: isoSeconds(s.lastUpdatedTimestamp),
  };
  if (history) {
    payload.historyEvents = history;
    payload.history = history;
  }
  return payload;
}

function failure(f: pb.ITaskFailureDetails | null | undefined): Record<string, unknown> | undefined {
  if (!f) return undefined;
  return {
    ErrorType: f.errorType ?? "", ErrorMessage: f.errorMessage ?? "", StackTrace: val(f.stackTrace) ?? null,
    IsNonRetriable: !!f.isNonRetriable, InnerFailure: failure(f.innerFailure) ?? null,
  };
}

/**
 * The history as the extension shows it with showHistory=true: one object per event with EventType
 * as text; TaskScheduled and SubOrchestrationInstanceCreated are folded into their completions
 * (FunctionName, ScheduledTime); OrchestratorStarted/Completed are left out. Results and inputs
 * only with showHistoryOutput.
 */
export function historyPayload(events: pb.IHistoryEvent[], showOutput: boolean): unknown[] {
  const scheduled = new Map<number, { name: string; time?: string; instanceId?: string }>();
  for (const e of events) {
    if (e.taskScheduled) scheduled.set(e.eventId ?? -1, { name: e.taskScheduled.name ?? "", time: iso(e.timestamp) });
    if (e.subOrchestrationInstanceCreated) {
      scheduled.set(e.eventId ?? -1, { name: e.subOrchestrationInstanceCreated.name ?? "", time: iso(e.timestamp), instanceId: e.subOrchestrationInstanceCreated.instanceId ?? "" });
    }
  }
  const out: unknown[] = [];
  const withOutput = (o: Record<string, unknown>, key: string, text: string | undefined) => {
    if (showOutput) o[key] = parseJson(text);
  };
  for (const e of events) {
    const base: Record<string, unknown> = { EventId: e.eventId ?? -1, Timestamp: iso(e.timestamp) };
    let o: Record<string, unknown> | undefined;
    if (e.executionStarted) {
      o = { EventType: "ExecutionStarted", FunctionName: e.executionStarted.name ?? "", ...base };
      withOutput(o, "Input", val(e.executionStarted.input));
      if (e.executionStarted.parentInstance?.orchestrationInstance?.instanceId) o.ParentInstanceId = e.executionStarted.parentInstance.orchestrationInstance.instanceId;
    } else if (e.executionCompleted) {
      o = { EventType: "ExecutionCompleted", OrchestrationStatus: RUNTIME_STATUS[e.executionCompleted.orchestrationStatus ?? 0] ?? "Unknown", ...base };
      withOutput(o, "Result", val(e.executionCompleted.result));
      if (e.executionCompleted.failureDetails) o.FailureDetails = failure(e.executionCompleted.failureDetails);
    } else if (e.executionTerminated) {
      o = { EventType: "ExecutionTerminated", ...base, Input: parseJson(val(e.executionTerminated.input)) };
    } else if (e.taskCompleted || e.taskFailed || e.subOrchestrationInstanceCompleted || e.subOrchestrationInstanceFailed) {
      const done = e.taskCompleted ?? e.taskFailed ?? e.subOrchestrationInstanceCompleted ?? e.subOrchestrationInstanceFailed!;
      const s = scheduled.get(done.taskScheduledId ?? -1);
      const type = e.taskCompleted ? "TaskCompleted" : e.taskFailed ? "TaskFailed" : e.subOrchestrationInstanceCompleted ? "SubOrchestrationInstanceCompleted" : "SubOrchestrationInstanceFailed";
      o = { EventType: type, FunctionName: s?.name ?? null, ScheduledTime: s?.time ?? null, ...base };
      if (s?.instanceId) o.InstanceId = s.instanceId;
      if (e.taskCompleted) withOutput(o, "Result", val(e.taskCompleted.result));
      if (e.subOrchestrationInstanceCompleted) withOutput(o, "Result", val(e.subOrchestrationInstanceCompleted.result));
      const fd = e.taskFailed?.failureDetails ?? e.subOrchestrationInstanceFailed?.failureDetails;
      if (fd) {
        o.Reason = fd.errorMessage ?? "";
        o.FailureDetails = failure(fd);
      }
    } else if (e.timerCreated) {
      o = { EventType: "TimerCreated", FireAt: iso(e.timerCreated.fireAt), ...base };
    } else if (e.timerFired) {
      o = { EventType: "TimerFired", FireAt: iso(e.timerFired.fireAt), TimerId: e.timerFired.timerId ?? -1, ...base };
    } else if (e.eventRaised) {
      o = { EventType: "EventRaised", Name: e.eventRaised.name ?? "", ...base };
      withOutput(o, "Input", val(e.eventRaised.input));
    } else if (e.eventSent) {
      o = { EventType: "EventSent", Name: e.eventSent.name ?? "", InstanceId: e.eventSent.instanceId ?? "", ...base };
      withOutput(o, "Input", val(e.eventSent.input));
    } else if (e.continueAsNew) {
      o = { EventType: "ContinueAsNew", ...base };
      withOutput(o, "Input", val(e.continueAsNew.input));
    } else if (e.executionSuspended) {
      o = { EventType: "ExecutionSuspended", Reason: val(e.executionSuspended.input) ?? null, ...base };
    } else if (e.executionResumed) {
      o = { EventType: "ExecutionResumed", Reason: val(e.executionResumed.input) ?? null, ...base };
    } else if (e.executionRewound) {
      o = { EventType: "ExecutionRewound", Reason: val(e.executionRewound.reason) ?? null, ...base };
    } else if (e.genericEvent) {
      o = { EventType: "GenericEvent", Data: val(e.genericEvent.data) ?? null, ...base };
    } else if (e.orchestratorStarted || e.orchestratorCompleted || e.taskScheduled || e.subOrchestrationInstanceCreated) {
      continue;
    } else {
      // Entity events and anything newer: name the kind, keep the timestamp.
      const kind = Object.keys(e).find((k) => k !== "eventId" && k !== "timestamp" && (e as Record<string, unknown>)[k]);
      o = { EventType: kind ? kind[0].toUpperCase() + kind.slice(1) : "Unknown", ...base };
    }
    out.push(o);
  }
  return out;
}

/** An entity in the list-entities shape (DurableEntityStatus). */
export function entityPayload(e: pb.IEntityMetadata, withState: boolean): Record<string, unknown> {
  const id = e.instanceId ?? "";
  const at = id.indexOf("@", 1);
  const payload: Record<string, unknown> = {
    entityId: { name: at > 0 ? id.slice(1, at) : id, key: at > 0 ? id.slice(at + 1) : "" },
    lastOperationTime: iso(e.lastModifiedTime) ?? null,
    backlogQueueSize: e.backlogQueueSize ?? 0,
    lockedBy: val(e.lockedBy) ?? null,
  };
  if (withState) payload.state = parseJson(val(e.serializedState));
  return payload;
}
