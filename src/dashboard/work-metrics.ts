// The counting half of /metrics: what happens to work items, commits and gRPC calls, counted as it
// happens (the gauges in metrics.ts read the engine's state at scrape time instead). It is the engine's
// observer (scheduler/observer.ts) and the gRPC edge's call listener; the CLI wires both in when the
// dashboard is on, and its registry is served beside the gauges.
import { Counter, Histogram, Registry } from "prom-client";
import { CommitFigures, EngineObserver, InlineActivity, RedeliveryReason, WorkKind } from "../scheduler/observer";

/** The kind labels the gauges use too. */
const KIND_LABEL: Record<WorkKind, string> = { orchestration: "orchestrations", activity: "activities", entity: "entities" };

export class WorkMetrics implements EngineObserver {
  readonly registry = new Registry();
  private readonly dispatchedTotal = this.counter("dts_work_items_dispatched_total", "Work items sent to workers", ["hub", "kind"]);
  private readonly completedTotal = this.counter("dts_work_items_completed_total", "Work items whose completion was committed", ["hub", "kind"]);
  private readonly abandonedTotal = this.counter("dts_work_items_abandoned_total", "Work items workers gave back (Abandon*), dispatched again after a back-off", ["hub", "kind"]);
  private readonly redeliveredTotal = this.counter("dts_work_items_redelivered_total",
    "Work items that came back without a completion and went back to the queue (reason: released by the worker, its stream disconnected, its lease expired)", ["hub", "kind", "reason"]);
  private readonly inlineTotal = this.counter("dts_work_items_inline_total",
    "Activities a Functions host ran inline with the orchestrator episode that scheduled them, so never dispatched as work items; their results were committed with that episode", ["hub", "kind"]);
  private readonly grpcCalls = this.counter("dts_grpc_calls_total", "gRPC calls served, by service, method and status code", ["service", "method", "code"]);
  private readonly commitChanges = new Histogram({
    name: "dts_commit_batch_changes", help: "Changes (operations and completions) written per group commit", registers: [this.registry],
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
  });
  private readonly commitSeconds = new Histogram({
    name: "dts_commit_duration_seconds", help: "Time from a group commit's start until it was durable", registers: [this.registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  private readonly syncSeconds = new Histogram({
    name: "dts_store_sync_seconds", help: "Time the store's transaction commit (its fsync) took per group commit (SQLite: the COMMIT on the writer thread; PostgreSQL: the round trip that commits)", registers: [this.registry],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });

  dispatched(hub: string, kind: WorkKind): void {
    this.dispatchedTotal.add(hub, KIND_LABEL[kind]);
  }

  completed(hub: string, kind: WorkKind): void {
    this.completedTotal.add(hub, KIND_LABEL[kind]);
  }

  abandoned(hub: string, kind: WorkKind): void {
    this.abandonedTotal.add(hub, KIND_LABEL[kind]);
  }

  redelivered(hub: string, kind: WorkKind, _token: string, reason: RedeliveryReason): void {
    this.redeliveredTotal.add(hub, KIND_LABEL[kind], reason);
  }

  ranInline(hub: string, _instanceId: string, _executionId: string, activities: InlineActivity[]): void {
    this.inlineTotal.add(hub, KIND_LABEL.activity, "", activities.length);
  }

  executionEnded(): void {
    // Counted by the dts_orchestrations gauge (instances per status).
  }

  committed(figures: CommitFigures): void {
    this.commitChanges.observe(figures.changes);
    this.commitSeconds.observe(figures.durationMs / 1000);
    if (figures.syncMs !== undefined) this.syncSeconds.observe(figures.syncMs / 1000);
  }

  /** One gRPC call ended with `code` (its name, e.g. OK, NOT_FOUND). */
  call(service: string, method: string, code: string): void {
    this.grpcCalls.add(service, method, code);
  }

  private counter(name: string, help: string, labelNames: string[]): Tally {
    return new Tally(this.registry, name, help, labelNames);
  }
}

/**
 * A labelled counter counted in plain numbers, by its label values in order, and handed to
 * prom-client when /metrics is read: prom-client hashes the labels into a new string on every
 * increment, which cost more than the count itself on the paths that count every work item and call.
 */
class Tally {
  /** By the first, second and third label value (empty for a counter of two labels). */
  private readonly counts = new Map<string, Map<string, Map<string, { labels: Record<string, string>; n: number }>>>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: string[]) {
    const counts = this.counts;
    new Counter({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const byB of counts.values()) for (const byC of byB.values()) for (const { labels, n } of byC.values()) this.inc(labels, n);
      },
    });
  }

  /** `n` more (one by default) for these label values (as many as the counter has labels). */
  add(a: string, b: string, c = "", n = 1): void {
    let byB = this.counts.get(a);
    if (!byB) this.counts.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    const count = byC.get(c);
    if (count) count.n += n;
    else byC.set(c, { labels: Object.fromEntries(this.labelNames.map((l, i) => [l, [a, b, c][i]])), n });
  }
}
