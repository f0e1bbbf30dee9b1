// Group commit: every change requested while the previous group is being written goes into the
// next group, written in one store transaction. Durability thus costs one sync per group, not per
// work item, and groups grow by themselves under load. Callers learn the outcome through
// callbacks; nothing is acknowledged before its group is durable. With a store that commits off
// the event loop (commitAsync), one group is in flight while the next one gathers.
//
// A failed group is all or nothing on disk (one transaction), but the changes queued behind it were
// built in memory on top of it. So a failure refuses the group and everything queued, and the owner
// rebuilds the touched hubs from the store before the refusals go out: memory never runs ahead of
// disk for long, and nothing refused is ever written later.
import { EngineStore, isAsyncStore, StoreFatalError, StoreOp } from "../store/store";
import { EngineObserver, NO_OBSERVER } from "./observer";

interface Pending {
  ops: StoreOp[];
  done: () => void;
  failed: (err: Error) => void;
}

export interface CommitFailure {
  error: Error;
  /** The store cannot write any more (its writer died, it was closed): no point in retrying. */
  fatal: boolean;
  /** Hubs with a refused change; their memory may be ahead of the store. */
  hubs: Set<string>;
  /** Changes refused (the failed group and those queued behind it). */
  refused: number;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = false;
  private idleWaiters: (() => void)[] = [];
  private fatal?: Error;
  /** Groups and batches written, and groups that failed, for the benchmark's figures and tests. */
  readonly stats = { commits: 0, batches: 0, failures: 0 };

  constructor(private readonly store: EngineStore, private readonly onFailure: (f: CommitFailure) => void, private readonly observer: EngineObserver = NO_OBSERVER) {}

  /** Changes waiting for the next group (not counting the one being written). */
  get backlog(): number {
    return this.queue.length;
  }

  commit(ops: StoreOp[], done: () => void, failed: (err: Error) => void = () => {}): void {
    if (this.fatal) return failed(this.fatal);
    this.queue.push({ ops, done, failed });
    this.schedule();
  }

  /** Resolves once everything queued so far is written (or refused). */
  flush(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.schedule();
    });
  }

  /** Refuses everything from now on (the store is gone). */
  stop(err: Error): void {
    this.fatal ??= err;
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) p.failed(this.fatal);
    if (!this.inFlight) this.idle();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.write();
    });
  }

  private write(): void {
    const batch = this.queue;
    if (batch.length === 0) return this.idle();
    this.queue = [];
    const all: StoreOp[] = [];
    for (const p of batch) for (const op of p.ops) all.push(op);
    this.stats.commits++;
    this.stats.batches += batch.length;
    const started = performance.now();
    const store = this.store;
    if (isAsyncStore(store) || store.commitAsync) {
      this.inFlight = true;
      (isAsyncStore(store) ? store.commitAsync(all) : store.commitAsync!(all)).then(
        (syncMs) => this.finished(batch, started, syncMs ?? undefined),
        (err: Error) => this.failed(batch, err),
      );
      return;
    }
    try {
      store.commit(all);
    } catch (err) {
      return this.failed(batch, err as Error);
    }
    this.finished(batch, started);
  }

  private finished(batch: Pending[], started: number, syncMs?: number): void {
    this.inFlight = false;
    this.observer.committed({ changes: batch.length, durationMs: performance.now() - started, syncMs });
    for (const p of batch) p.done();
    this.next();
  }

  private failed(batch: Pending[], error: Error): void {
    this.inFlight = false;
    const refused = batch.concat(this.queue);
    this.queue = [];
    this.stats.failures++;
    const fatal = error instanceof StoreFatalError || this.fatal !== undefined;
    if (fatal) this.fatal ??= error;
    const hubs = new Set<string>();
    for (const p of refused) for (const op of p.ops) hubs.add(op.hub);
    try {
      this.onFailure({ error, fatal, hubs, refused: refused.length });
    } finally {
      for (const p of refused) p.failed(this.fatal ?? error);
      this.next();
    }
  }

  private next(): void {
    if (this.queue.length > 0 && !this.fatal) this.schedule();
    else this.idle();
  }

  private idle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
