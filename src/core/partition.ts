// Which partition of a task hub an instance belongs to. A hub's instances are split into a fixed
// number of partitions (set when the hub is created); each partition has a single writer, and every
// interaction between instances of different partitions travels as a message through the store.
// The hash must never change: rows on disk carry the partition it gave when they were written.
import { isEntityId, normalizeEntityId } from "./entities";

/** The partition count of a hub created on PostgreSQL when none is given (--partitions). */
export const DEFAULT_PARTITIONS = 16;
/** More partitions than this only adds overhead: each is one engine with its own timers and inbox. */
export const MAX_PARTITIONS = 1024;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a (32 bits) over the UTF-8 bytes of `s`: stable across processes, versions and machines. */
export function fnv1a(s: string): number {
  let h = FNV_OFFSET;
  for (const byte of Buffer.from(s, "utf8")) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h;
}

/**
 * The partition (0..partitions-1) of an instance. Entity ids are hashed in their normalized form,
 * so every spelling of one entity (`@Counter@k`, `@counter@k`) lands in one partition; a malformed
 * entity id hashes as it is (it names no entity, and messages to it are dropped wherever they go).
 */
export function partitionOf(instanceId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let id = instanceId;
  if (isEntityId(id)) {
    try {
      id = normalizeEntityId(id);
    } catch {
      // keep the id as given
    }
  }
  return fnv1a(id) % partitions;
}

/** The partition count of a new hub, checked; throws a message naming the flag otherwise. */
export function checkPartitions(partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new Error(`partitions must be a whole number from 1 to ${MAX_PARTITIONS}, not ${partitions}`);
  }
  return partitions;
}

/** The next seq partition `part` of `partitions` may use after `seq`: seqs ≡ part (mod partitions), so partitions never collide. */
export function nextSeq(seq: number, part: number, partitions: number): number {
  if (partitions <= 1) return seq + 1;
  const next = seq + 1;
  return next + ((part - (next % partitions) + partitions) % partitions);
}
