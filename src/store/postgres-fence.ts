// Fencing a commit on partition leases: the write goes through only while each partition it claims
// is still held at the epoch it claims. The check runs in the commit's own transaction (or statement)
// and locks the lease rows it reads (FOR SHARE), so a takeover either waits for the commit to finish
// or the commit sees the lease moved and writes nothing. An epoch is never reused (each acquisition
// takes epoch + 1 and a release keeps it), so "this epoch and an owner, not expired" can only be
// the claimed holding itself.
import { FenceClaim, LeaseLostError, PartitionRef } from "../core/leases";
import { DB_NOW } from "./postgres-schema";

/** Adds a parameter and answers its placeholder with a cast ("$3::int[]"). */
export type Param = (value: unknown, type: string) => string;

/** CTEs for a write statement: `fence_lost` lists the claims not held; the statement writes only when it is empty. */
export function fenceCtes(claims: readonly FenceClaim[], param: Param): string[] {
  return [
    `fence_claim AS (SELECT * FROM unnest(${param(claims.map((c) => c.hub), "text[]")}, ${param(claims.map((c) => c.part), "int[]")}, ${param(claims.map((c) => c.epoch), "bigint[]")}) AS c(hub, part, epoch))`,
    `fence_held AS MATERIALIZED (SELECT l.hub, l.part FROM partition_leases l JOIN fence_claim c ON l.hub = c.hub AND l.part = c.part AND l.epoch = c.epoch
       WHERE l.owner IS NOT NULL AND l.expires_at > ${DB_NOW} FOR SHARE OF l)`,
    "fence_lost AS (SELECT c.hub, c.part FROM fence_claim c WHERE NOT EXISTS (SELECT 1 FROM fence_held h WHERE h.hub = c.hub AND h.part = c.part))",
  ];
}

/** The column a fenced statement answers with: the partitions not held, as JSON (null when all are). */
export const FENCE_LOST_COLUMN = "(SELECT json_agg(fence_lost) FROM fence_lost) AS fence_lost";

/** The check alone, to run first in a commit's transaction; checkFence() then throws when it failed. */
export function fenceStatement(claims: readonly FenceClaim[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param: Param = (v, type) => `$${values.push(v)}::${type}`;
  return { text: `WITH ${fenceCtes(claims, param).join(",\n")}\nSELECT ${FENCE_LOST_COLUMN}`, values };
}

/** Throws LeaseLostError naming the partitions a fenced statement found not held. */
export function checkFence(row: { fence_lost?: PartitionRef[] | null } | undefined): void {
  const lost = row?.fence_lost;
  if (lost && lost.length > 0) throw new LeaseLostError(lost.map((p) => ({ hub: p.hub, part: p.part })));
}
