// A task hub's load as the scheduler reports it (BackendService GetMetrics), in the shape the scale
// rules read: per work item kind, pending and active counts and the oldest pending item's age; and
// the number of connected workers (GetWorkItems streams).
import { pb } from "../src/proto";

import b = pb.durabletask.protos.backend.v1;

export const KINDS = ["orchestrator", "activity", "entity"] as const;
export type WorkKind = (typeof KINDS)[number];

export interface KindMetrics {
  pending: number;
  active: number;
  /** Age of the oldest pending item in whole seconds; 0 when nothing is pending. */
  oldestAgeSeconds: number;
}

export interface HubMetrics {
  orchestrator: KindMetrics;
  activity: KindMetrics;
  entity: KindMetrics;
  connectedWorkers: number;
}

/** GetMetricsResponse → HubMetrics. A response without metrics is an error, not zeros. */
export function fromBackendMetrics(res: b.IGetMetricsResponse): HubMetrics {
  const m = res.metrics;
  if (!m) throw new Error("the scheduler's GetMetrics response has no metrics");
  const kind = (k: b.IWorkItemMetrics | null | undefined): KindMetrics => ({
    pending: k?.pending ?? 0,
    active: k?.active ?? 0,
    oldestAgeSeconds: k?.oldestAgeInSeconds ?? 0,
  });
  return {
    orchestrator: kind(m.orchestratorWorkItems),
    activity: kind(m.activityWorkItems),
    entity: kind(m.entityWorkItems),
    connectedWorkers: m.connectedWorkers?.count ?? 0,
  };
}

/** Pending plus active items over all kinds. */
export function totalWork(m: HubMetrics): number {
  return KINDS.reduce((n, k) => n + m[k].pending + m[k].active, 0);
}

export function totalPending(m: HubMetrics): number {
  return KINDS.reduce((n, k) => n + m[k].pending, 0);
}

/** The oldest pending item's age over all kinds. */
export function oldestAgeSeconds(m: HubMetrics): number {
  return Math.max(...KINDS.map((k) => m[k].oldestAgeSeconds));
}
