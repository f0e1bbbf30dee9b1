// A task hub's scale status: the latest metrics, the target worker count and the vote, or the reason
// the metrics could not be read. Each new metrics read becomes one vote sample; callers that get a
// cached read add nothing, so the window spans real reads, not calls.
import { ConcurrencyLimits } from "./limits";
import { HubMetrics, WorkKind } from "./metrics";
import { MetricsSample, MetricsSource } from "./metrics-source";
import { targetWorkers, workersPerKind } from "./target";
import { DEFAULT_WINDOW_SIZE, ScaleVote, scaleVote, VoteRule } from "./votes";
import { SampleWindow } from "./window";

/** What the HTTP endpoint and `dts scale status --json` print. Null fields are unknown, never zero. */
export interface ScaleStatus {
  taskHub: string;
  endpoint: string;
  state: "ok" | "error";
  /** Why the metrics could not be read (state "error"). */
  error: string | null;
  /** When the metrics were read (ISO 8601). */
  timestamp: string;
  metrics: HubMetrics | null;
  limits: ConcurrencyLimits;
  workersPerKind: Record<WorkKind, number> | null;
  targetWorkers: number | null;
  vote: ScaleVote | null;
  voteRule: VoteRule | null;
  voteReason: string | null;
  /** Samples in the vote window, and its size. */
  samples: number;
  windowSize: number;
}

export class ScaleMonitor {
  private readonly window: SampleWindow;
  private lastSeen?: MetricsSample;

  constructor(
    private readonly source: MetricsSource,
    readonly hub: { taskHub: string; endpoint: string },
    readonly limits: ConcurrencyLimits,
    windowSize = DEFAULT_WINDOW_SIZE,
  ) {
    this.window = new SampleWindow(windowSize);
  }

  async status(): Promise<ScaleStatus> {
    const sample = await this.source.get();
    if (sample !== this.lastSeen) {
      this.lastSeen = sample;
      if (sample.ok) this.window.add(sample.metrics);
      else this.window.clear(); // votes restart from fresh samples once the scheduler answers again
    }
    const base = { taskHub: this.hub.taskHub, endpoint: this.hub.endpoint, timestamp: new Date(sample.at).toISOString(), limits: this.limits, windowSize: this.window.size };
    if (!sample.ok) {
      return { ...base, state: "error", error: sample.error, metrics: null, workersPerKind: null, targetWorkers: null, vote: null, voteRule: null, voteReason: null, samples: 0 };
    }
    const v = scaleVote(this.window.samples(), this.limits, this.window.size);
    return {
      ...base, state: "ok", error: null, metrics: sample.metrics,
      workersPerKind: workersPerKind(sample.metrics, this.limits), targetWorkers: targetWorkers(sample.metrics, this.limits),
      vote: v.vote, voteRule: v.rule, voteReason: v.reason, samples: this.window.samples().length,
    };
  }
}
