// What one operation changes in a task hub, committed together as one store batch.
import { StoreOp } from "../store/store";
import { InboxMessage } from "./hot-instance";

/** Changes one operation makes, committed together; `after` runs once they are durable. */
export class Change {
  readonly ops: StoreOp[] = [];
  /** Instances whose readiness may have changed (re-checked after the commit). */
  readonly wake = new Set<string>();
  /** Activity tasks created (queued or timed after the commit). */
  readonly activities: number[] = [];
  /** Instances whose waiters should look again (WaitForInstanceStart/Completion). */
  readonly notify = new Set<string>();
  /** Messages sent, held back from dispatch until the commit. */
  readonly sent: InboxMessage[] = [];
  readonly after: (() => void)[] = [];
}
