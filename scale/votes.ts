// Vote-based scaling, for hosts that ask "scale out, in, or stay?" (the Functions scale controller's
// IScaleMonitor) rather than for a worker count. Pure: the vote depends only on the last samples
// (oldest first), the concurrency limits and the window size. The rules, first match wins:
//
//   1. ScaleOut  work is pending and no worker is connected (at once, from the newest sample alone)
//   2. None      fewer samples than the window holds yet (collecting)
//   3. ScaleOut  the target worker count is above the connected workers in every sample (backlog)
//   4. ScaleOut  the oldest pending item's age rose at every sample of the window (not draining)
//   5. ScaleIn   no pending or active work in any sample, and a worker is connected (idle);
//      None      the same with no worker connected (nothing to remove)
//   6. ScaleIn   more workers than the target in every sample (surplus)
//   7. None      otherwise (steady)
//
// Requiring the whole window for 3-6 keeps one spike or one quiet moment from moving the app.
import { ConcurrencyLimits } from "./limits";
import { HubMetrics, oldestAgeSeconds, totalPending, totalWork } from "./metrics";
import { targetWorkers } from "./target";

export type ScaleVote = "ScaleOut" | "ScaleIn" | "None";
export type VoteRule = "no-workers" | "collecting" | "backlog" | "age" | "idle" | "surplus" | "steady";

export interface VoteResult {
  vote: ScaleVote;
  rule: VoteRule;
  reason: string;
}

export const DEFAULT_WINDOW_SIZE = 5;

/** The vote for `samples` (oldest first; only the last `windowSize` count). */
export function scaleVote(samples: readonly HubMetrics[], limits: ConcurrencyLimits, windowSize = DEFAULT_WINDOW_SIZE): VoteResult {
  if (!Number.isInteger(windowSize) || windowSize < 1) throw new RangeError(`the vote window must hold at least 1 sample (got ${windowSize})`);
  const window = samples.slice(-windowSize);
  if (window.length === 0) return { vote: "None", rule: "collecting", reason: `collecting samples: 0 of ${windowSize}` };
  const latest = window[window.length - 1];
  const n = window.length;
  const all = (p: (m: HubMetrics) => boolean) => window.every(p);

  if (totalPending(latest) > 0 && latest.connectedWorkers === 0) {
    return { vote: "ScaleOut", rule: "no-workers", reason: `${totalPending(latest)} work item(s) pending and no worker connected` };
  }
  if (n < windowSize) return { vote: "None", rule: "collecting", reason: `collecting samples: ${n} of ${windowSize}` };

  if (all((m) => targetWorkers(m, limits) > m.connectedWorkers)) {
    return { vote: "ScaleOut", rule: "backlog", reason: `the backlog needs ${targetWorkers(latest, limits)} worker(s), more than the ${latest.connectedWorkers} connected, in all ${n} samples` };
  }
  const ages = window.map(oldestAgeSeconds);
  if (n >= 2 && ages.every((a, i) => i === 0 || a > ages[i - 1])) {
    return { vote: "ScaleOut", rule: "age", reason: `the oldest pending item's age rose in every sample (${ages.join(" < ")} s)` };
  }
  if (all((m) => totalWork(m) === 0)) {
    return latest.connectedWorkers > 0
      ? { vote: "ScaleIn", rule: "idle", reason: `no pending or active work in all ${n} samples` }
      : { vote: "None", rule: "idle", reason: `no pending or active work and no worker connected` };
  }
  if (all((m) => m.connectedWorkers > targetWorkers(m, limits))) {
    return { vote: "ScaleIn", rule: "surplus", reason: `${latest.connectedWorkers} worker(s) connected, more than the ${targetWorkers(latest, limits)} needed, in all ${n} samples` };
  }
  return { vote: "None", rule: "steady", reason: `the connected workers match the work` };
}
