// Target-based scaling as the managed Durable Task Scheduler does it for Functions: enough workers
// that every pending or active item of each kind has a slot, i.e.
//   targetWorkers = max over kinds of ceil((pending + active) / maxConcurrent<Kind>Functions)
// and 0 when there is nothing to do (the app may scale to zero).
import { ConcurrencyLimits } from "./limits";
import { HubMetrics, KINDS, WorkKind } from "./metrics";

/** Workers each kind needs on its own. */
export function workersPerKind(m: HubMetrics, limits: ConcurrencyLimits): Record<WorkKind, number> {
  const out = {} as Record<WorkKind, number>;
  for (const k of KINDS) out[k] = Math.ceil((m[k].pending + m[k].active) / limits[k]);
  return out;
}

export function targetWorkers(m: HubMetrics, limits: ConcurrencyLimits): number {
  return Math.max(0, ...Object.values(workersPerKind(m, limits)));
}
