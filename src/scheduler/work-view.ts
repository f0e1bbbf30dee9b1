// What an instance is waiting on and what each connected worker is doing, as the dashboard shows
// them: read from the hub's hot state and the dispatcher's leases, nothing changed.
import { kindOf } from "../core/events";
import { ActivityRecord } from "../core/model";
import { describeFilter, FilterKind } from "../core/work-filters";
import { Dispatcher, Lease } from "./dispatcher";
import { HotInstance } from "./hot-instance";

export interface LeaseView {
  worker: string;
  since: number;
  expiresAt: number;
}

export interface InstanceWork {
  /** An episode (or entity batch) with a worker now. */
  lease?: LeaseView;
  /** Activities queued (lease undefined) or running. */
  activities: { taskId: number; name: string; visibleAt: number; attempt: number; lease?: LeaseView }[];
  /** Messages waiting in its inbox, durable ones only, in order: timers show when they fire. */
  inbox: { kind: string; name?: string; visibleAt: number }[];
}

export interface WorkerView {
  id: string;
  connectedAt: number;
  limits: { orchestrations: number; activities: number; entities: number };
  inFlight: { orchestrations: number; activities: number; entities: number };
  draining: boolean;
  /** What its work-item filter lets it receive, per kind; undefined: everything. */
  filter?: Record<FilterKind, string[]>;
  /** It declared WORKER_CAPABILITY_HISTORY_STREAMING. */
  historyStreaming: boolean;
  /** Since when the worker has not been reading its stream. */
  backedUpSince?: number;
  /** In a cluster: the node this stream relays work to, for a worker connected there. */
  mirrorFor?: string;
}

function leaseView(l: Lease | undefined): LeaseView | undefined {
  return l ? { worker: l.worker.id, since: l.leasedAt, expiresAt: l.expiresAt } : undefined;
}

export function instanceWork(h: HotInstance | undefined, activities: ActivityRecord[], activityLease: (seq: number) => Lease | undefined): InstanceWork {
  return {
    lease: leaseView(h?.lease),
    activities: activities.map((a) => ({ taskId: a.taskId, name: a.name, visibleAt: a.visibleAt, attempt: (a.abandonCount ?? 0) + 1, lease: leaseView(activityLease(a.seq)) })),
    inbox: (h?.inbox ?? []).filter((m) => !m.pending).map((m) => {
      const kind = kindOf(m.event);
      const e = m.event;
      const name = e.eventRaised?.name ?? e.entityOperationSignaled?.operation ?? e.entityOperationCalled?.operation ?? e.executionStarted?.name ?? undefined;
      return { kind: kind.charAt(0).toUpperCase() + kind.slice(1), name, visibleAt: m.visibleAt };
    }),
  };
}

export function workerViews(dispatcher: Dispatcher): WorkerView[] {
  return [...dispatcher.workers].map((w) => ({
    id: w.id, connectedAt: w.connectedAt, limits: { ...w.limits }, inFlight: { ...w.inFlight }, draining: w.draining, backedUpSince: w.backedUpSince,
    filter: describeFilter(w.filter), historyStreaming: w.historyStreaming, ...(w.mirrorFor !== undefined ? { mirrorFor: w.mirrorFor } : {}),
  }));
}
