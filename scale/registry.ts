// Scale monitors by scheduler, task hub and limits, created on first use and shared: one metrics
// source (so one cached GetMetrics stream of reads) per scheduler connection and hub, however many
// callers and limit sets ask about it.
import { SchedulerConnection } from "../src/provider/connection-string";
import { tokenSourceFor } from "../src/provider/credentials";
import { ConcurrencyLimits } from "./limits";
import { MetricsSource, MetricsSourceOptions, schedulerMetricsSource } from "./metrics-source";
import { ScaleMonitor } from "./monitor";
import { DEFAULT_WINDOW_SIZE } from "./votes";

export interface MonitorRegistryOptions extends MetricsSourceOptions {
  /** Vote window size (samples). Default 5. */
  windowSize?: number;
}

export class MonitorRegistry {
  private readonly sources = new Map<string, MetricsSource>();
  private readonly monitors = new Map<string, ScaleMonitor>();

  constructor(private readonly options: MonitorRegistryOptions = {}) {}

  monitor(connection: SchedulerConnection, taskHub: string, limits: ConcurrencyLimits): ScaleMonitor {
    // Different credentials for the same endpoint may see different hubs: they get their own source.
    const sourceKey = JSON.stringify([connection.endpoint, taskHub, connection.authentication, connection.clientId ?? "", connection.tenantId ?? "", connection.tokenFilePath ?? ""]);
    const key = JSON.stringify([sourceKey, limits.orchestrator, limits.activity, limits.entity]);
    let monitor = this.monitors.get(key);
    if (!monitor) {
      let source = this.sources.get(sourceKey);
      if (!source) {
        source = schedulerMetricsSource({ endpoint: connection.endpoint, taskHub, tokenSource: tokenSourceFor(connection) }, this.options);
        this.sources.set(sourceKey, source);
      }
      monitor = new ScaleMonitor(source, { taskHub, endpoint: connection.endpoint }, limits, this.options.windowSize ?? DEFAULT_WINDOW_SIZE);
      this.monitors.set(key, monitor);
    }
    return monitor;
  }

  close(): void {
    for (const s of this.sources.values()) s.close();
    this.sources.clear();
    this.monitors.clear();
  }
}
