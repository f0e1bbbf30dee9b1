// Retention (autopurge): finished instances older than their hub's retention period are purged in
// the background. Each sweep finds at most `batchSize` expired ids at a time through the store's
// completedAt index and purges them with the purge operation every client uses (one commit;
// sub-orchestrations go with their parents; entity locks are released by the entity rules;
// instances not finished are left alone). Between batches it yields to the event loop, and while
// the group committer has other changes waiting it pauses, so dispatch and commits never wait
// behind a purge. The expiry clock is injected: tests move it by days instead of sleeping.
import { DAY_MS, effectivePeriods, RetentionPolicy } from "../core/retention";
import { log } from "../log/log";
import { ArchivedInstance } from "../core/instance-archive";
import { Status } from "../core/model";
import { InstanceFilter } from "../store/store";
import { GroupCommitter } from "./group-commit";
import { Hub } from "./hub";

export interface RetentionOptions {
  /** The scheduler's policy (dts serve's flags); a hub's own policy overrides it. */
  policy: RetentionPolicy;
  /** What "now" is for expiry (completedAt is epoch ms). */
  clock: () => number;
  /** Milliseconds from one sweep's end to the next one's start; 0: no background sweeps (sweep() only). */
  intervalMs: number;
  /** The first sweep after start-up. */
  startDelayMs: number;
  /** Most ids found and purged per commit. */
  batchSize: number;
  /** How long to wait between checks while the committer has other work waiting. */
  busyPauseMs: number;
  /** The longest a batch waits for the committer to be idle before it goes anyway (so a busy hub still gets purged). */
  maxBusyWaitMs: number;
  /** Where purge counts go (at most one line per logEveryMs, and one per sweep that purged). */
  log: (line: string) => void;
  logEveryMs: number;
  /**
   * Called with what a batch is about to purge (each finished instance with its finished
   * sub-orchestrations, records and histories as committed); the batch is purged only once this
   * resolves, so a failure to keep them purges nothing (--retention-export-dir).
   */
  archive?: (hub: string, items: ArchivedInstance[]) => Promise<void>;
}

export const DEFAULT_RETENTION_OPTIONS: RetentionOptions = {
  policy: {},
  clock: Date.now,
  intervalMs: 60_000,
  startDelayMs: 5_000,
  batchSize: 100,
  busyPauseMs: 20,
  maxBusyWaitMs: 1_000,
  log: (line) => log.info(`dts: ${line}`),
  logEveryMs: 10_000,
};

/** The store filters for one hub's expired instances: one per distinct period (0, kept forever, has none). */
export function expiredFilters(scheduler: RetentionPolicy, hub: RetentionPolicy | undefined, now: number): InstanceFilter[] {
  const byDays = new Map<number, Status[]>();
  for (const p of effectivePeriods(scheduler, hub)) {
    if (p.days > 0) byDays.set(p.days, [...(byDays.get(p.days) ?? []), p.status]);
  }
  return [...byDays].map(([days, statuses]) => ({ statuses, completedTo: now - days * DAY_MS }));
}

/** What a recursive purge of `ids` removes, each with its record and history as committed. */
async function toArchive(hub: Hub, ids: string[]): Promise<ArchivedInstance[]> {
  const out: ArchivedInstance[] = [];
  for (const id of await hub.clients.purgeable(ids, true)) {
    const instance = await hub.reads.getInstance(id);
    if (instance) out.push({ instance, history: (await hub.reads.getHistory(id)) ?? [] });
  }
  return out;
}

export class RetentionPurger {
  readonly options: RetentionOptions;
  private current?: Promise<Map<string, number>>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private unlogged = new Map<string, number>();
  private loggedAt = 0;

  constructor(private readonly hubs: () => Hub[], private readonly committer: GroupCommitter, options: Partial<RetentionOptions> = {}) {
    this.options = { ...DEFAULT_RETENTION_OPTIONS, ...options };
  }

  /** Starts the background sweeps (none when intervalMs is 0). */
  start(): void {
    if (this.options.intervalMs > 0) this.schedule(this.options.startDelayMs);
  }

  /** Sweeps soon (a policy changed); a sweep under way is followed by another one. */
  kick(): void {
    if (this.stopped || this.options.intervalMs <= 0) return;
    if (this.current) this.again = true;
    else this.schedule(0);
  }

  /**
   * One pass over every hub; resolves with the instances purged per hub. A call while a sweep runs
   * gets that sweep's result.
   */
  sweep(): Promise<Map<string, number>> {
    this.current ??= this.sweepAll().finally(() => {
      this.current = undefined;
      this.flushLog();
    });
    return this.current;
  }

  /** Stops sweeping; resolves once a sweep under way has finished its batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.sweep().catch((err) => this.options.log(`retention: a sweep failed (${(err as Error).message}); the next one tries again`)).finally(() => {
        if (this.stopped) return;
        const next = this.again ? 0 : this.options.intervalMs;
        this.again = false;
        this.schedule(next);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async sweepAll(): Promise<Map<string, number>> {
    const now = this.options.clock();
    const purged = new Map<string, number>();
    // Counts are logged at the end of the sweep, and every logEveryMs while a long one runs.
    this.loggedAt = Date.now();
    for (const hub of this.hubs()) {
      if (this.stopped) break;
      try {
        const n = await this.sweepHub(hub, now);
        if (n > 0) purged.set(hub.name, n);
      } catch (err) {
        // A hub deleted during the sweep refuses its purge: nothing to report.
        if (this.hubs().includes(hub)) this.options.log(`retention: purging task hub '${hub.name}' failed (${(err as Error).message}); the next sweep tries again`);
      }
    }
    return purged;
  }

  private async sweepHub(hub: Hub, now: number): Promise<number> {
    let total = 0;
    for (const filter of expiredFilters(this.options.policy, hub.retention.get(), now)) {
      for (;;) {
        await this.whenQuiet();
        // A hub being read again after a failed commit refuses its clients' calls; its purge waits
        // for the next sweep too, rather than act on the state being replaced.
        if (this.stopped || hub.loading) return total;
        const ids = await hub.reads.findInstanceIds(filter, this.options.batchSize);
        if (ids.length === 0) break;
        if (this.options.archive) await this.options.archive(hub.name, await toArchive(hub, ids));
        if (hub.loading) return total;
        const n = await hub.clients.purge(ids, true, false);
        total += n;
        this.count(hub.name, n);
        // Nothing purged: what is left is not finished in memory yet (a restart under the same id
        // being committed); the next sweep looks again. A short page was the last one.
        if (n === 0 || ids.length < this.options.batchSize) break;
      }
    }
    return total;
  }

  /** Lets the event loop run, then waits (a bounded time) for the committer to have nothing waiting. */
  private async whenQuiet(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const until = Date.now() + this.options.maxBusyWaitMs;
    while (this.committer.backlog > 0 && !this.stopped && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, this.options.busyPauseMs));
    }
  }

  private count(hub: string, n: number): void {
    if (n === 0) return;
    this.unlogged.set(hub, (this.unlogged.get(hub) ?? 0) + n);
    if (Date.now() - this.loggedAt >= this.options.logEveryMs) this.flushLog();
  }

  private flushLog(): void {
    if (this.unlogged.size === 0) return;
    const parts = [...this.unlogged].map(([hub, n]) => `${n} from task hub '${hub}'`);
    this.options.log(`retention: purged ${parts.join(", ")} (finished longer ago than their retention period)`);
    this.unlogged.clear();
    this.loggedAt = Date.now();
  }
}
