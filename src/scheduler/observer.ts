// The engine's one seam for telemetry: the moments metrics and traces are made of, told to an
// observer the edges implement (dashboard/work-metrics.ts counts them, telemetry/ traces them). The
// engine imports neither; with telemetry off the observer is NO_OBSERVER and each moment costs one
// empty call.
import { pb } from "../proto";
import { InstanceRecord } from "../core/model";
import { InlineActivity } from "../core/orchestration";

export type { InlineActivity };

export type WorkKind = "orchestration" | "activity" | "entity";

/** Why a work item went back to the queue without a completion. */
export type RedeliveryReason = "released" | "disconnected" | "expired";

/** One group commit: the changes it carried and how long it took. */
export interface CommitFigures {
  /** Changes (one per operation or completion) in the group. */
  changes: number;
  /** From the group's start to its durable end, on the event loop's clock. */
  durationMs: number;
  /** Of that, the store's transaction commit (its fsync) where the store measures it. */
  syncMs?: number;
}

export interface EngineObserver {
  /** A work item is about to go to a worker; the observer may add trace context to it (never anything else). */
  dispatched(hub: string, kind: WorkKind, item: pb.IWorkItem, token: string): void;
  /** Its completion arrived from the worker and is about to be committed (the benchmark's per-step trace). */
  completionReceived?(hub: string, kind: WorkKind, token: string): void;
  /** Its completion is durable. */
  completed(hub: string, kind: WorkKind, token: string): void;
  /** The worker gave it back (Abandon*): it is dispatched again after a delay. */
  abandoned(hub: string, kind: WorkKind, token: string): void;
  /** It came back without a completion (released, stream closed, lease expired) and goes out again. */
  redelivered(hub: string, kind: WorkKind, token: string, reason: RedeliveryReason): void;
  /** A Functions host ran these activities inline with an episode of the instance (no work items); their results are durable. */
  ranInline?(hub: string, instanceId: string, executionId: string, activities: InlineActivity[]): void;
  /** An orchestration execution ended (a terminal status or continue-as-new), durably; `rec` is how it ended. */
  executionEnded(hub: string, rec: InstanceRecord): void;
  /** A group commit was written. */
  committed(figures: CommitFigures): void;
}

const nothing = () => undefined;

/** The observer when telemetry is off. */
export const NO_OBSERVER: EngineObserver = {
  dispatched: nothing, completed: nothing, abandoned: nothing, redelivered: nothing, executionEnded: nothing, committed: nothing,
};

/** Several observers as one (metrics and tracing together); NO_OBSERVER when none. */
export function observers(list: (EngineObserver | undefined)[]): EngineObserver {
  const all = list.filter((o): o is EngineObserver => o !== undefined && o !== NO_OBSERVER);
  if (all.length === 0) return NO_OBSERVER;
  if (all.length === 1) return all[0];
  return {
    dispatched: (...a) => all.forEach((o) => o.dispatched(...a)),
    completionReceived: (...a) => all.forEach((o) => o.completionReceived?.(...a)),
    completed: (...a) => all.forEach((o) => o.completed(...a)),
    abandoned: (...a) => all.forEach((o) => o.abandoned(...a)),
    redelivered: (...a) => all.forEach((o) => o.redelivered(...a)),
    ranInline: (...a) => all.forEach((o) => o.ranInline?.(...a)),
    executionEnded: (...a) => all.forEach((o) => o.executionEnded(...a)),
    committed: (...a) => all.forEach((o) => o.committed(...a)),
  };
}
