// Partition ownership's vocabulary, shared by the lease table (store), the keeper (scheduler) and
// whoever routes calls to a partition's owner. A hub's instances are split into partitions; each
// partition is held by one node at a time through a lease whose epoch grows with every new holder.
import { SchedulerError } from "./errors";

/** One partition of one hub. */
export interface PartitionRef {
  hub: string;
  part: number;
}

/** A holding a write must still have when it commits: the lease of (hub, part) at this epoch. */
export interface FenceClaim extends PartitionRef {
  epoch: number;
}

/** Who holds a partition, for routing: the node, the address other nodes reach it at, the lease's epoch. */
export interface LeaseOwner {
  nodeId: string;
  address: string;
  epoch: number;
}

/** A hub and how many partitions it has (fixed when the hub is created). */
export interface HubPartitions {
  hub: string;
  partitions: number;
}

/** A map key for a partition: the part is the text after the last "/", so any hub name is unambiguous. */
export function partitionKey(hub: string, part: number): string {
  return `${hub}/${part}`;
}

/**
 * A write refused because a partition it touches is no longer held at the epoch it was made under
 * (the lease lapsed or moved to another node): nothing of the write was applied. UNAVAILABLE, so a
 * client tries again, reaching the partition's new owner.
 */
export class LeaseLostError extends SchedulerError {
  constructor(readonly lost: readonly PartitionRef[]) {
    super("UNAVAILABLE", `This node no longer holds ${lost.map((p) => `partition ${p.part} of task hub '${p.hub}'`).join(", ")}; the change was not stored and nothing of it was applied; try again`);
  }
}
