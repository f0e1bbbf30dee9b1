// The records the scheduler keeps per task hub: instances, their history, messages to instances,
// and activity tasks. Plain data; the store persists exactly these shapes.
import { pb } from "../proto";

export type HistoryEvent = pb.IHistoryEvent;
export type FailureDetails = pb.ITaskFailureDetails;
export const Status = pb.OrchestrationStatus;
export type Status = pb.OrchestrationStatus;

/** An orchestration instance's current execution, without its history. Times are epoch milliseconds. */
export interface InstanceRecord {
  instanceId: string;
  executionId: string;
  name: string;
  version?: string;
  status: Status;
  input?: string;
  output?: string;
  customStatus?: string;
  failureDetails?: FailureDetails;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  scheduledStartAt?: number;
  parentInstanceId?: string;
  tags?: Record<string, string>;
  /** Dispatch once even with no message waiting (after a rewind rewrote the history). */
  runRequested?: boolean;
  /**
   * Execution ids this execution had before rewinds gave it new ones: results addressed to them (a
   * sub-orchestration or activity still running when it was rewound) still belong to it.
   */
  rewoundExecutionIds?: string[];
  /** Set for durable entities (ids `@name@key`), which share the instance records. */
  entity?: EntityData;
}

/** A durable entity's state and critical-section lock. */
export interface EntityData {
  /** The serialized state; undefined when the entity has none (deleted or never written). */
  state?: string;
  /** The orchestration holding the entity's lock, and the critical section it was granted for. */
  lockedBy?: string;
  criticalSectionId?: string;
}

/** An event waiting in an instance's inbox; invisible to dispatch until visibleAt (timers, scheduled starts). */
export interface MessageRecord<E = HistoryEvent> {
  seq: number;
  instanceId: string;
  /** When set, the message belongs to that execution only and is dropped if the instance moved on. */
  executionId?: string;
  visibleAt: number;
  event: E;
}

/** A message to an instance before the hub gives it a seq. */
export type NewMessage = Omit<MessageRecord, "seq">;

/** An activity invocation waiting to run or running. */
export interface ActivityRecord {
  seq: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  version?: string;
  input?: string;
  tags?: Record<string, string>;
  /**
   * The W3C trace context the orchestrator sent with ScheduleTask, handed to the worker with the
   * activity (in memory only: an activity loaded from the store after a restart goes without).
   */
  parentTraceContext?: pb.ITraceContext;
  visibleAt: number;
  /** How many times a worker gave it back; drives the growing retry delay. */
  abandonCount?: number;
}

/** An activity task before the hub gives it a seq. */
export type NewActivity = Omit<ActivityRecord, "seq">;

export const TERMINAL_STATUSES: ReadonlySet<Status> = new Set([
  Status.ORCHESTRATION_STATUS_COMPLETED,
  Status.ORCHESTRATION_STATUS_FAILED,
  Status.ORCHESTRATION_STATUS_TERMINATED,
  Status.ORCHESTRATION_STATUS_CANCELED,
]);

export function isTerminal(status: Status): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Status names as the managed service and the Durable HTTP API spell them. */
export const STATUS_NAMES: Readonly<Record<number, string>> = {
  [Status.ORCHESTRATION_STATUS_RUNNING]: "Running",
  [Status.ORCHESTRATION_STATUS_COMPLETED]: "Completed",
  [Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW]: "ContinuedAsNew",
  [Status.ORCHESTRATION_STATUS_FAILED]: "Failed",
  [Status.ORCHESTRATION_STATUS_CANCELED]: "Canceled",
  [Status.ORCHESTRATION_STATUS_TERMINATED]: "Terminated",
  [Status.ORCHESTRATION_STATUS_PENDING]: "Pending",
  [Status.ORCHESTRATION_STATUS_SUSPENDED]: "Suspended",
};

export function statusName(s: Status): string {
  return STATUS_NAMES[s] ?? `status ${s}`;
}

/** A copy of a protobuf string map, or undefined when it is empty. */
export function nonEmpty(map: { [k: string]: string } | null | undefined): Record<string, string> | undefined {
  return map && Object.keys(map).length > 0 ? { ...map } : undefined;
}
