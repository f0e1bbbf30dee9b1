// Group commit: every change requested while the previous group is being written goes into the
// next group, written in one store transaction. Durability thus costs one sync per group, not per
// work item, and groups grow by themselves under load. Callers learn the outcome through
// callbacks; nothing is acknowledged before its group is durable. With a store that commits off
// the event loop (commitAsync), one group is in flight while the next one gathers.
import { Store, StoreOp } from "../store/store";

interface Pending {
  ops: StoreOp[];
  done: () => void;
  failed: (err: Error) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = false;
  private idleWaiters: (() => void)[] = [];
  /** Groups and batches written, for the benchmark's figures. */
  readonly stats = { commits: 0, batches: 0 };

  constructor(private readonly store: Store, private readonly onFailure: (err: Error) => void) {}

  commit(ops: StoreOp[], done: () => void, failed: (err: Error) => void = () => {}): void {
    this.queue.push({ ops, done, failed });
    this.schedule();
  }

  /** Resolves once everything queued so far is written. */
  flush(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.schedule();
    });
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
    if (this.store.commitAsync) {
      this.inFlight = true;
      this.store.commitAsync(all).then(
        () => this.finished(batch),
        (err: Error) => this.isolateAsync(batch, err).then(() => this.next()),
      );
      return;
    }
    try {
      this.store.commit(all);
    } catch (err) {
      this.isolate(batch, err as Error);
      return this.next();
    }
    this.finished(batch);
  }

  private finished(batch: Pending[]): void {
    this.inFlight = false;
    for (const p of batch) p.done();
    this.next();
  }

  private next(): void {
    this.inFlight = false;
    if (this.queue.length > 0) this.schedule();
    else this.idle();
  }

  private idle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** One batch in the group failed the transaction: retry each alone so only the bad ones fail. */
  private isolate(batch: Pending[], groupError: Error): void {
    let anyFailed = false;
    for (const p of batch) {
      try {
        if (p.ops.length > 0) this.store.commit(p.ops);
        p.done();
      } catch (err) {
        anyFailed = true;
        p.failed(err as Error);
      }
    }
    if (anyFailed) this.onFailure(groupError);
  }

  private async isolateAsync(batch: Pending[], groupError: Error): Promise<void> {
    let anyFailed = false;
    for (const p of batch) {
      try {
        if (p.ops.length > 0) await this.store.commitAsync!(p.ops);
        p.done();
      } catch (err) {
        anyFailed = true;
        p.failed(err as Error);
      }
    }
    if (anyFailed) this.onFailure(groupError);
  }
}
