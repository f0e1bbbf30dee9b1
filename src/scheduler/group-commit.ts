// Group commit: every change requested in one turn of the event loop is written in one store
// transaction, so durability costs one fsync per group, not per work item. Callers learn the
// outcome through callbacks; nothing is acknowledged before its commit returns.
import { Store, StoreOp } from "../store/store";

interface Pending {
  ops: StoreOp[];
  done: () => void;
  failed: (err: Error) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Commits and batches written, for the benchmark's figures. */
  readonly stats = { commits: 0, batches: 0 };

  constructor(private readonly store: Store, private readonly onFailure: (err: Error) => void) {}

  commit(ops: StoreOp[], done: () => void, failed: (err: Error) => void = () => {}): void {
    this.queue.push({ ops, done, failed });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes everything queued now (used at shutdown and by tests). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const all: StoreOp[] = [];
    for (const p of batch) for (const op of p.ops) all.push(op);
    try {
      if (all.length > 0) this.store.commit(all);
      this.stats.commits++;
      this.stats.batches += batch.length;
    } catch (err) {
      this.isolate(batch, err as Error);
      return;
    }
    for (const p of batch) p.done();
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
}
