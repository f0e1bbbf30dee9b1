// Leases and push dispatch: which worker stream gets which ready work item, in-flight limits per
// stream, completion tokens, lock timeouts and health pings. Knows nothing of what the items mean.
import { randomBytes } from "crypto";
import { pb } from "../proto";
import { WorkKind } from "./observer";
import { EngineOptions } from "./options";
import { WorkerConnection } from "./worker";

export type { WorkKind };

export interface Lease {
  token: string;
  kind: WorkKind;
  worker: WorkerConnection;
  /** Instance id for orchestrations, activity seq for activities. */
  key: string | number;
  expiresAt: number;
  /** When the work item went to the worker (renewals move expiresAt, not this). */
  leasedAt: number;
  /** Set once a completion for it is being committed: later completions with the token are refused. */
  completing?: boolean;
}

export interface DispatchSource {
  /** False when nothing of the kind is queued: no lease need be made to find that out. */
  hasQueued(kind: WorkKind): boolean;
  /** Takes the next ready item of a kind for this lease (setting lease.key); undefined when none is ready. */
  next(lease: Lease): pb.IWorkItem | undefined;
  /** The lease ended without a completion (stream closed, lock timeout): put the item back. */
  released(lease: Lease, reason: "disconnected" | "expired"): void;
  /** The last worker with a work-item filter is gone. */
  filtersGone(): void;
}

const KIND_LIMIT = { orchestration: "orchestrations", activity: "activities", entity: "entities" } as const;

export class Dispatcher {
  readonly workers = new Set<WorkerConnection>();
  readonly leases = new Map<string, Lease>();
  /** Starts every completion token this dispatcher issues; a partition's names it after `~` (tokenPartition). */
  readonly tokenPrefix: string;
  /**
   * Called by a pump when leases ended since the last one: the streams have room again, which the
   * other partitions' dispatchers, sharing the streams, must hear of (partitioned-hub.ts).
   */
  onFreed?: () => void;
  private freed = false;
  private tokenCounter = 0;
  private sweepTimer?: NodeJS.Timeout;
  private pumping = false;
  private pumpAgain = false;

  /** `part`: the partition this dispatcher serves, when the hub has several (any node can then tell from a token where its lease lives). */
  constructor(private readonly source: DispatchSource, private readonly options: EngineOptions, private readonly hub: string, part?: number) {
    this.tokenPrefix = randomBytes(6).toString("base64url") + (part === undefined ? "" : `~${part}`);
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
  }

  connect(worker: WorkerConnection): void {
    this.workers.add(worker);
    this.pump();
  }

  disconnect(worker: WorkerConnection): void {
    if (!this.workers.delete(worker)) return;
    worker.closed = true;
    for (const token of [...worker.leases]) {
      const lease = this.leases.get(token);
      if (lease && !lease.completing) {
        this.end(lease);
        this.source.released(lease, "disconnected");
      }
    }
    if (worker.filter && ![...this.workers].some((w) => w.filter)) this.source.filtersGone();
    this.pump();
  }

  /** Stops sending new work to a worker's streams; its in-flight items may still complete. */
  drain(workerId: string): boolean {
    let found = false;
    for (const w of this.workers) {
      if (w.id === workerId) {
        w.draining = true;
        found = true;
      }
    }
    return found;
  }

  /** The lease for a completion token, if it is still valid for that kind of work. */
  lease(token: string | null | undefined, kind: WorkKind): Lease | undefined {
    if (!token) return undefined;
    const lease = this.leases.get(token);
    return lease && lease.kind === kind && !lease.completing ? lease : undefined;
  }

  /** Ends a lease (after its completion committed, or when its item is given back). */
  end(lease: Lease): void {
    if (!this.leases.delete(lease.token)) return;
    lease.worker.leases.delete(lease.token);
    lease.worker.inFlight[KIND_LIMIT[lease.kind]]--;
    this.freed = true;
  }

  /** Sends ready work to workers with room, spreading it over the least-loaded streams. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      // Room freed by ended leases goes to the other partitions first (in turn), then to this one:
      // otherwise the partition whose items complete would keep the streams' slots to itself.
      if (this.freed && this.onFreed) {
        this.freed = false;
        this.onFreed();
      }
      do {
        this.pumpAgain = false;
        this.pumpKind("orchestration");
        this.pumpKind("activity");
        this.pumpKind("entity");
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /** Stops dispatching and ends every worker stream with `reason`. */
  close(reason: string): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const w of this.workers) {
      w.closed = true;
      w.sink.end(reason);
    }
    this.workers.clear();
  }

  private pumpKind(kind: WorkKind): void {
    const limitKey = KIND_LIMIT[kind];
    // Filtered streams that found nothing they accept in this round.
    let passed: Set<WorkerConnection> | undefined;
    // Pumps run after every change, most with nothing of this kind queued.
    while (this.source.hasQueued(kind)) {
      let best: WorkerConnection | undefined;
      for (const w of this.workers) {
        if (w.draining || w.inFlight[limitKey] >= w.limits[limitKey] || passed?.has(w)) continue;
        const load = w.inFlight[limitKey];
        // Equal load: prefer the stream whose lock expired longest ago, so an item whose lock ran
        // out goes to another worker rather than back to the one that may be hung.
        if (!best || load < best.inFlight[limitKey] || (load === best.inFlight[limitKey] && w.lastLockExpiredAt < best.lastLockExpiredAt)) best = w;
      }
      if (!best) return;
      const token = `${this.tokenPrefix}.${++this.tokenCounter}`;
      const now = Date.now();
      const lease: Lease = { token, kind, worker: best, key: "", leasedAt: now, expiresAt: now + this.lockTimeout(kind) };
      const item = this.source.next(lease);
      if (!item) {
        // Nothing for a stream without a filter means nothing ready at all; a filtered stream may
        // only have nothing it accepts, while the next stream does.
        if (!best.filter) return;
        (passed ??= new Set()).add(best);
        continue;
      }
      this.leases.set(token, lease);
      best.leases.add(token);
      best.inFlight[limitKey]++;
      item.completionToken = token;
      this.options.observer.dispatched(this.hub, kind, item, token);
      best.send(item);
    }
  }

  /**
   * Lease check. A lease whose stream is alive and reading is renewed: a worker keeps its item as
   * long as it runs (HTTP/2 keepalive closes dead connections, which releases their items at once).
   * Only a stream that has not read what was sent to it for a whole lock period loses its items.
   */
  private sweep(): void {
    const now = Date.now();
    let released = false;
    for (const lease of this.leases.values()) {
      if (lease.expiresAt > now || lease.completing) continue;
      const timeout = this.lockTimeout(lease.kind);
      const w = lease.worker;
      if (!w.closed && (w.backedUpSince === undefined || now - w.backedUpSince < timeout)) {
        lease.expiresAt = now + timeout;
        continue;
      }
      w.lastLockExpiredAt = now;
      this.end(lease);
      this.source.released(lease, "expired");
      released = true;
    }
    for (const w of this.workers) {
      if (w.backedUpSince === undefined && now - w.lastSentAt >= this.options.healthPingIntervalMs) w.send({ healthPing: {} });
    }
    if (released) this.pump();
  }

  private lockTimeout(kind: WorkKind): number {
    return kind === "activity" ? this.options.activityLockTimeoutMs : this.options.orchestrationLockTimeoutMs;
  }
}

/** The partition a completion token's dispatcher served, when it served one of several (base64url has no `~`). */
export function tokenPartition(token: string): number | undefined {
  const m = /^[A-Za-z0-9_-]+~(\d+)\./.exec(token);
  return m ? Number(m[1]) : undefined;
}
