// The backlog figures of one task hub (GetMetrics, the scale monitor's input), counted over its hot state.
import { ActivityRecord } from "../core/model";
import { Lease } from "./dispatcher";
import { HotInstance } from "./hot-instance";
import { WorkerConnection } from "./worker";
import { entityName } from "../core/entities";
import { accepts, FilterKind } from "../core/work-filters";

export interface KindMetrics {
  pending: number;
  active: number;
  oldestAgeSeconds: number;
  /** Of the pending ones, those no connected worker's work-item filter accepts: they wait for a capable worker. */
  waitingForWorker: number;
}

export interface HubMetrics {
  orchestrations: KindMetrics;
  activities: KindMetrics;
  entities: KindMetrics;
  workers: number;
  hotInstances: number;
}

export interface MetricsInput {
  instances: Iterable<HotInstance>;
  hotInstances: number;
  /** Ready to dispatch now (waiting work, no lease). */
  isReady: (h: HotInstance) => boolean;
  activities: Iterable<ActivityRecord>;
  activityLeases: Map<number, Lease>;
  leases: Iterable<Lease>;
  workers: number;
  /** Whether some connected worker may run work of this kind, name and version. */
  capable: (kind: FilterKind, name: string, version?: string) => boolean;
}

export function hubMetrics(hub: MetricsInput, now: number): HubMetrics {
  const age = (t: number) => (t === Infinity ? 0 : Math.max(0, Math.floor((now - t) / 1000)));
  const orchestrations = { pending: 0, oldest: Infinity, waiting: 0 };
  const entities = { pending: 0, oldest: Infinity, waiting: 0 };
  for (const h of hub.instances) {
    if (h.lease || !hub.isReady(h)) continue;
    const kind = h.rec.entity ? entities : orchestrations;
    kind.pending++;
    const capable = h.rec.entity ? hub.capable("entity", entityName(h.rec.instanceId)) : hub.capable("orchestration", h.rec.name, h.rec.version);
    if (!capable) kind.waiting++;
    const first = h.inbox.find((m) => m.visibleAt <= now);
    if (first) kind.oldest = Math.min(kind.oldest, first.visibleAt);
  }
  let pendingActivities = 0;
  let waitingActivities = 0;
  let oldestActivity = Infinity;
  for (const a of hub.activities) {
    if (!hub.activityLeases.has(a.seq) && a.visibleAt <= now) {
      pendingActivities++;
      if (!hub.capable("activity", a.name, a.version)) waitingActivities++;
      oldestActivity = Math.min(oldestActivity, a.visibleAt);
    }
  }
  let activeOrchestrations = 0;
  let activeEntities = 0;
  for (const l of hub.leases) {
    if (l.kind === "orchestration") activeOrchestrations++;
    else if (l.kind === "entity") activeEntities++;
  }
  return {
    orchestrations: { pending: orchestrations.pending, active: activeOrchestrations, oldestAgeSeconds: age(orchestrations.oldest), waitingForWorker: orchestrations.waiting },
    activities: { pending: pendingActivities, active: hub.activityLeases.size, oldestAgeSeconds: age(oldestActivity), waitingForWorker: waitingActivities },
    entities: { pending: entities.pending, active: activeEntities, oldestAgeSeconds: age(entities.oldest), waitingForWorker: entities.waiting },
    workers: hub.workers,
    hotInstances: hub.hotInstances,
  };
}

/**
 * Whether some of `workers` may run a given work: any worker without a filter may run anything.
 * A draining worker takes no new work, so it counts as capable of none.
 */
export function capableWorkers(workers: WorkerConnection[]): MetricsInput["capable"] {
  const live = workers.filter((w) => !w.draining);
  if (live.some((w) => !w.filter)) return () => true;
  const seen = new Map<string, boolean>();
  return (kind, name, version) => {
    const key = `${kind}\n${name}\n${version ?? ""}`;
    let ok = seen.get(key);
    if (ok === undefined) seen.set(key, (ok = live.some((w) => accepts(w.filter, kind, name, version))));
    return ok;
  };
}
