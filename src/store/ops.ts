// Checks commit() makes the same way in both stores, so both reject the same batches with the same
// messages. A failed check throws, and the store then leaves the whole batch unapplied.
import { StoreOp } from "./store";

export function unknownHub(hub: string): Error {
  return new Error(`task hub "${hub}" does not exist`);
}

/** appendHistory must continue the history exactly where it ends; anything else is a lost update. */
export function checkAppendFrom<E>(op: Extract<StoreOp<E>, { op: "appendHistory" }>, length: number): void {
  if (op.from !== length) {
    throw new Error(
      `appendHistory for "${op.instanceId}" in hub "${op.hub}" starts at ${op.from}, but the history has ${length} events`,
    );
  }
}

/** The seq an op writes (0 for none), for the hub's seq high-water mark (see HubSnapshot.maxSeq). */
export function seqWritten<E>(op: StoreOp<E>): number {
  if (op.op === "putMessage") return op.message.seq;
  if (op.op === "putActivity") return op.activity.seq;
  return 0;
}

/** An inbox row a batch consumes is gone: another writer applied it already, so this batch must not. */
export function inboxConsumed(hub: string, part: number, ids: number[]): Error {
  return new Error(`inbox rows ${ids.join(", ")} of partition ${part} of hub "${hub}" were already consumed`);
}

/** A partition index outside the hub's partitions. */
export function checkPart(hub: string, part: number, partitions: number): void {
  if (!Number.isInteger(part) || part < 0 || part >= partitions) {
    throw new Error(`task hub "${hub}" has ${partitions} partition(s); there is no partition ${part}`);
  }
}
