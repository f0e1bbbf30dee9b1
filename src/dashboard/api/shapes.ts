// The JSON API's response shapes, as the public clients read them (CLIENTS.md beside this file): instance
// metadata, payloads, history events in protobuf JSON, entities and workers. Where clients name a
// field differently, both names are sent.
import { fromTimestamp, kindOf } from "../../core/events";
import { FailureDetails, HistoryEvent, InstanceRecord, Status, statusName } from "../../core/model";
import { pb } from "../../proto";
import { plain } from "../history-view";
import { EntityView, WorkerView } from "../hub-access";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The protobuf enum name (ORCHESTRATION_STATUS_RUNNING), as the Go CLI and the managed service send it. */
export function statusEnumName(s: Status): string {
  return (pb.OrchestrationStatus as unknown as Record<number, string>)[s] ?? `ORCHESTRATION_STATUS_${s}`;
}

export interface OrchestrationJson {
  instanceId: string;
  executionId: string;
  name: string;
  version?: string;
  orchestrationStatus: string;
  /** The same status as the Durable Functions name (Running), which the VS Code extension reads. */
  runtimeStatus: string;
  createdTimestamp: string;
  createdTime: string;
  lastUpdatedTimestamp: string;
  lastUpdatedTime: string;
  completedTimestamp?: string;
  scheduledStartTimestamp?: string;
  parentInstanceId?: string;
  tags?: Record<string, string>;
}

export function orchestrationJson(r: InstanceRecord): OrchestrationJson {
  const created = iso(r.createdAt)!;
  const updated = iso(r.lastUpdatedAt)!;
  return {
    instanceId: r.instanceId, executionId: r.executionId, name: r.name, version: r.version || undefined,
    orchestrationStatus: statusEnumName(r.status), runtimeStatus: statusName(r.status),
    createdTimestamp: created, createdTime: created, lastUpdatedTimestamp: updated, lastUpdatedTime: updated,
    completedTimestamp: iso(r.completedAt), scheduledStartTimestamp: iso(r.scheduledStartAt),
    parentInstanceId: r.parentInstanceId, tags: r.tags && Object.keys(r.tags).length ? r.tags : undefined,
  };
}

export function failureJson(f: FailureDetails | null | undefined): unknown {
  if (!f) return undefined;
  const p = plain(f) as Record<string, unknown>;
  return { ...p, errorType: f.errorType ?? "", errorMessage: f.errorMessage ?? "", isNonRetriable: !!f.isNonRetriable, innerFailure: failureJson(f.innerFailure) };
}

export function payloadsJson(r: InstanceRecord) {
  return {
    instanceId: r.instanceId, orchestrationStatus: statusEnumName(r.status),
    input: r.input, output: r.output, customStatus: r.customStatus, failureDetails: failureJson(r.failureDetails),
  };
}

/** Status enums inside events as their names, as protobuf JSON writes them. */
function withEnumNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withEnumNames);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === "orchestrationStatus" && typeof v === "number" ? statusEnumName(v) : withEnumNames(v);
  return out;
}

/** One history event in protobuf JSON: eventId, timestamp and one field named after the event's kind. */
export function historyEventJson(e: HistoryEvent): Record<string, unknown> {
  const kind = kindOf(e);
  return { eventId: e.eventId ?? -1, timestamp: iso(fromTimestamp(e.timestamp)), [kind]: withEnumNames(plain((e as Record<string, unknown>)[kind])) ?? {} };
}

/** `@name@key` split as the clients do: the name between the first two '@', the key after. */
export function entityParts(instanceId: string): { name: string; key: string } {
  const second = instanceId.indexOf("@", 1);
  if (!instanceId.startsWith("@") || second < 0) return { name: instanceId, key: "" };
  return { name: instanceId.slice(1, second), key: instanceId.slice(second + 1) };
}

export function entityJson(e: EntityView) {
  return {
    instanceId: e.rec.instanceId, ...entityParts(e.rec.instanceId),
    lastModifiedTime: iso(e.rec.lastUpdatedAt), backlogQueueSize: e.backlog, lockedBy: e.data.lockedBy, hasState: e.data.state !== undefined,
  };
}

export function workerJson(w: WorkerView) {
  return {
    workerId: w.id, connectedTime: iso(w.connectedAt),
    activeOrchestrationsCount: w.inFlight.orchestrations, maxOrchestrationsCount: w.limits.orchestrations,
    activeActivitiesCount: w.inFlight.activities, maxActivitiesCount: w.limits.activities,
    activeEntitiesCount: w.inFlight.entities, maxEntitiesCount: w.limits.entities,
  };
}
