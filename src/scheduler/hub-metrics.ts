// The backlog figures of one task hub (GetMetrics, the scale monitor's input), counted over its hot state.
import { ActivityRecord } from "../core/model";
import { Lease } from "./dispatcher";
import { HotInstance } from "./hot-instance";

export interface KindMetrics {
  pending: number;
  active: number;
  oldestAgeSeconds: number;
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
}

export function hubMetrics(hub: MetricsInput, now: number): HubMetrics {
  const age = (t: number) => (t === Infinity ? 0 : Math.max(0, Math.floor((now - t) / 1000)));
  const orchestrations = { pending: 0, oldest: Infinity };
  const entities = { pending: 0, oldest: Infinity };
  for (const h of hub.instances) {
    if (h.lease || !hub.isReady(h)) continue;
    const kind = h.rec.entity ? entities : orchestrations;
    kind.pending++;
    const first = h.inbox.find((m) => m.visibleAt <= now);
    if (first) kind.oldest = Math.min(kind.oldest, first.visibleAt);
  }
  let pendingActivities = 0;
  let oldestActivity = Infinity;
  for (const a of hub.activities) {
    if (!hub.activityLeases.has(a.seq) && a.visibleAt <= now) {
      pendingActivities++;
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
    orchestrations: { pending: orchestrations.pending, active: activeOrchestrations, oldestAgeSeconds: age(orchestrations.oldest) },
    activities: { pending: pendingActivities, active: hub.activityLeases.size, oldestAgeSeconds: age(oldestActivity) },
    entities: { pending: entities.pending, active: activeEntities, oldestAgeSeconds: age(entities.oldest) },
    workers: hub.workers,
    hotInstances: hub.hotInstances,
  };
}
