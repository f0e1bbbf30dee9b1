// One task hub's metrics from the scheduler, cached: every caller within `cacheMs` of the last read
// gets that read, and callers that arrive while a read is under way share it, so many pollers (HTTP,
// KEDA, several ScaledObjects) cost the scheduler one GetMetrics per interval. A failed read is a
// sample too (with the reason), cached like a good one so a down scheduler is not hammered; it is
// never turned into zeros.
import * as grpc from "@grpc/grpc-js";
import { BackendClient, RetryPolicy } from "../src/provider/backend-client";
import { TokenSource } from "../src/provider/credentials";
import { fromBackendMetrics, HubMetrics } from "./metrics";

export type MetricsSample =
  | { ok: true; metrics: HubMetrics; /** epoch ms when read */ at: number }
  | { ok: false; error: string; at: number };

export const DEFAULT_CACHE_MS = 5000;
export const DEFAULT_TIMEOUT_MS = 10_000;
/** A few quick retries of UNAVAILABLE: enough for a blip, short enough to report an outage promptly. */
export const METRICS_RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200 };

export interface MetricsSourceOptions {
  /** How long a read is reused; 0 reuses only a read still under way. Default 5 s. */
  cacheMs?: number;
  /** A read that takes longer fails with a timeout. Default 10 s. */
  timeoutMs?: number;
  now?: () => number;
}

export class MetricsSource {
  private last?: MetricsSample;
  private inFlight?: Promise<MetricsSample>;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  /** `read` fetches fresh metrics; `label` says what is read, for error reasons. */
  constructor(private readonly read: () => Promise<HubMetrics>, readonly label: string, options: MetricsSourceOptions = {}, private readonly onClose?: () => void) {
    this.cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /** The cached sample if fresh enough, else the read under way, else a new read. Never rejects. */
  get(): Promise<MetricsSample> {
    const last = this.last;
    if (last && this.now() - last.at < this.cacheMs) return Promise.resolve(last);
    this.inFlight ??= this.fetch().then((sample) => {
      this.last = sample;
      this.inFlight = undefined;
      return sample;
    });
    return this.inFlight;
  }

  close(): void {
    this.onClose?.();
  }

  private async fetch(): Promise<MetricsSample> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    });
    try {
      const metrics = await Promise.race([this.read(), timeout]);
      return { ok: true, metrics, at: this.now() };
    } catch (err) {
      return { ok: false, error: `${this.label} failed: ${reasonOf(err)}`, at: this.now() };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A gRPC error as `CODE: details`; anything else by its message. */
export function reasonOf(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e?.code === "number" && grpc.status[e.code]) return `${grpc.status[e.code]}: ${(e.details || e.message || "").trim()}`;
  return err instanceof Error ? err.message : String(err);
}

export interface SchedulerTarget {
  /** Absolute URL (from the connection string). */
  endpoint: string;
  taskHub: string;
  tokenSource?: TokenSource;
}

/** A source reading GetMetrics over the provider's BackendService client (same metadata, TLS, tokens). */
export function schedulerMetricsSource(target: SchedulerTarget, options: MetricsSourceOptions = {}): MetricsSource {
  const client = new BackendClient({ endpoint: target.endpoint, taskHub: target.taskHub, tokenSource: target.tokenSource, retry: METRICS_RETRY });
  return new MetricsSource(
    async () => fromBackendMetrics(await client.call("GetMetrics", {})),
    `GetMetrics from ${target.endpoint} (task hub '${target.taskHub}')`,
    options,
    () => client.close(),
  );
}
