// What one operation changes in a task hub, committed together as one store batch.
import { InstanceRecord } from "../core/model";
import { StoreOp } from "../store/store";
import { HotInstance, InboxMessage } from "./hot-instance";

/** Changes one operation makes, committed together; `after` runs once they are durable. */
export class Change {
  readonly ops: StoreOp[] = [];
  /** A worker's completion: the work it creates may be dispatched before it is durable (hub-commit.ts). */
  speculative = false;
  /** Instances whose readiness may have changed (re-checked after the commit; a speculative change's also before). */
  readonly wake = new Set<string>();
  /** Activity tasks created (queued or timed after the commit; a speculative change's before). */
  readonly activities: number[] = [];
  /** Instances whose waiters should look again (WaitForInstanceStart/Completion). */
  readonly notify = new Set<string>();
  /** Messages sent: not dispatched before the commit, unless the change is `speculative`. */
  readonly sent: InboxMessage[] = [];
  readonly after: (() => void)[] = [];
  /** Run when a speculative change's work is released, before its commit (hub-commit.ts). */
  readonly released: (() => void)[] = [];
  /** Entities that took a step in this change (a batch or a lock step): forgotten if that left them empty. */
  readonly stepped = new Set<string>();
  /** Orchestration executions this change ends (told to the engine's observer once durable). */
  readonly ended: InstanceRecord[] = [];

  /**
   * Takes these messages out of the instance's inbox and deletes them in the store. Until the commit
   * they still count as waiting for readers (HotInstance.consumedUncommitted).
   */
  consume(hub: string, h: HotInstance, seqs: number[]): void {
    if (seqs.length === 0) return;
    this.ops.push({ op: "deleteMessages", hub, seqs });
    const gone = new Set(seqs);
    let n = 0;
    h.inbox = h.inbox.filter((m) => {
      if (!gone.has(m.seq)) return true;
      // A message sent by a change not yet committed never reached the store's count.
      if (!m.pending) n++;
      return false;
    });
    h.consumedUncommitted += n;
    this.after.push(() => void (h.consumedUncommitted -= n));
  }
}
