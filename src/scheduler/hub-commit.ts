// The end of every operation: its change, with the entity lock steps it made possible, goes to the
// store as one commit; once durable, clients may read it, its caller is answered and its waiters
// told, and its consequences are dispatched (messages and activity tasks queued, idle worker
// streams fed).
//
// A worker's completion is the exception (speculative dispatch, as in Netherite): the work it
// creates goes to workers at once, while its commit is being written, and the instance that
// completed may take its next work item then too (completions.ts), so a worker runs the next
// step during the disk sync instead of after it. Nothing a client or worker is told waits less:
// the completion is still answered after the commit, reads still see only committed state. If the
// commit fails, the hub is reloaded from the store, which revokes every lease, so results of work
// dispatched from the refused change are refused too; after a crash the work is dispatched again
// from what the store holds. Either way an activity may run again, which activities allow
// (at-least-once) and a crash between an activity's run and its result's commit causes anyway.
// Client requests are not speculative: what runs never depends on a request not yet acknowledged.
import { notStored, SchedulerError } from "../core/errors";
import { HistoryEvent, InstanceRecord } from "../core/model";
import { Change } from "./change";
import { Dispatcher } from "./dispatcher";
import { settleEntities } from "./entity-steps";
import { GroupCommitter } from "./group-commit";
import { HotInstance } from "./hot-instance";
import { HubState } from "./hub-state";
import { InstanceWaiters } from "./instance-waiters";
import { EngineOptions } from "./options";
import { WorkFeed } from "./work-feed";

export class HubCommit {
  private closedReason?: string;

  constructor(
    private readonly state: HubState,
    private readonly feed: WorkFeed,
    private readonly dispatcher: Dispatcher,
    private readonly waiters: InstanceWaiters,
    private readonly committer: GroupCommitter,
    private readonly options: EngineOptions,
  ) {}

  /** Why the hub no longer takes changes, once it is closed. */
  get closed(): string | undefined {
    return this.closedReason;
  }

  close(reason: string): void {
    this.closedReason = reason;
  }

  /** Client requests that add work are refused while the store is far behind, rather than queueing without bound. */
  admit(): void {
    const backlog = this.committer.backlog;
    if (backlog >= this.options.maxCommitBacklog) {
      throw new SchedulerError("RESOURCE_EXHAUSTED", `The scheduler's store is ${backlog} changes behind; try again shortly`);
    }
  }

  /** Commits the operation's change; resolves once it is durable and its consequences are dispatched. */
  run(change: Change): Promise<void> {
    if (this.closedReason !== undefined) return Promise.reject(new SchedulerError("UNAVAILABLE", this.closedReason));
    settleEntities(this.state, change, this.options.entityBatchSize);
    const durable = this.committedAfter(change);
    // Released before the commit is queued: the work item's write and the commit both run at the
    // event loop's next check phase, in that order, so the worker has the item during the sync.
    if (change.speculative) this.release(change, Date.now());
    return new Promise((resolve, reject) => {
      this.committer.commit(change.ops, () => {
        if (this.closedReason === undefined) this.durable(change, durable);
        resolve();
      }, (err) => reject(err instanceof SchedulerError ? err : notStored(err)));
    });
  }

  /** Re-checks an instance after something outside any operation (a due time, a given-back item). */
  wake(h: HotInstance, now: number): void {
    this.feed.enqueueIfReady(h, now);
    // A lock step left waiting by a state no operation settled (loaded from the store, a batch given
    // back) runs as an operation of its own.
    if (this.feed.waitsForLockStep(h, now)) {
      const change = new Change();
      change.wake.add(h.rec.instanceId);
      this.run(change).catch(() => {});
    }
  }

  /**
   * The change's work may go to workers: its messages, activity tasks and the instances it made
   * ready. Only queues and dispatch: a lock step it woke runs once it is durable (a new operation
   * now would commit before this one).
   */
  private release(change: Change, now: number): void {
    for (const f of change.released) f();
    for (const m of change.sent) m.held = false;
    for (const seq of change.activities) this.feed.queueActivity(seq, now);
    for (const id of change.wake) {
      const h = this.state.get(id);
      if (h) this.feed.enqueueIfReady(h, now);
    }
    this.dispatcher.pump();
  }

  private durable(change: Change, durable: Map<HotInstance, { rec: InstanceRecord; history: HistoryEvent[] }>): void {
    for (const m of change.sent) m.pending = m.held = false;
    for (const [h, committed] of durable) if (this.state.get(h.rec.instanceId) === h) h.committed = committed;
    const now = Date.now();
    for (const f of change.after) f();
    for (const rec of change.ended) this.options.observer.executionEnded(this.state.name, rec);
    if (!change.speculative) for (const seq of change.activities) this.feed.queueActivity(seq, now);
    for (const id of change.wake) {
      const h = this.state.get(id);
      if (h) this.wake(h, now);
    }
    for (const id of change.notify) if (this.waiters.has(id)) this.waiters.notify(id, this.state.get(id)?.committed?.rec ?? written(change, id) ?? this.state.committed(id));
    this.dispatcher.pump();
  }

  /** What each instance the change writes will look like on disk once it is committed (changes commit in order). */
  private committedAfter(change: Change): Map<HotInstance, { rec: InstanceRecord; history: HistoryEvent[] }> {
    const out = new Map<HotInstance, { rec: InstanceRecord; history: HistoryEvent[] }>();
    for (const op of change.ops) {
      const id = op.op === "putInstance" ? op.instance.instanceId : op.op === "appendHistory" || op.op === "replaceHistory" ? op.instanceId : undefined;
      const h = id === undefined ? undefined : this.state.get(id);
      if (h) out.set(h, { rec: h.rec, history: h.history });
    }
    return out;
  }
}

/** The record this change wrote for an instance (now durable): an instance that left memory need not be read back. */
function written(change: Change, instanceId: string): InstanceRecord | undefined {
  for (let i = change.ops.length - 1; i >= 0; i--) {
    const op = change.ops[i];
    if (op.op === "putInstance" && op.instance.instanceId === instanceId) return op.instance;
    if (op.op === "deleteInstance" && op.instanceId === instanceId) return undefined;
  }
  return undefined;
}
