// Metrics samples for the scale tests, written as compactly as the cases need them.
import { HubMetrics, KindMetrics } from "../../scale/metrics";

const kind = (k: Partial<KindMetrics> = {}): KindMetrics => ({ pending: 0, active: 0, oldestAgeSeconds: 0, ...k });

export function sample(m: { o?: Partial<KindMetrics>; a?: Partial<KindMetrics>; e?: Partial<KindMetrics>; workers?: number } = {}): HubMetrics {
  return { orchestrator: kind(m.o), activity: kind(m.a), entity: kind(m.e), connectedWorkers: m.workers ?? 0 };
}

export const repeat = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);
