// The cluster's membership and partition leases in PostgreSQL (tables in postgres-schema.ts). Every
// time is the database's clock (DB_NOW), so nodes' clocks never matter. Each operation is one
// statement, atomic by itself and safe when nodes race: acquiring is an INSERT ... ON CONFLICT DO
// UPDATE whose condition is checked on the row locked, so of two nodes reaching for one free
// partition exactly one gets it, at the epoch after the last one.
import { Pool } from "pg";
import { FenceClaim, HubPartitions, LeaseOwner, PartitionRef, partitionKey } from "../core/leases";
import { DB_NOW } from "./postgres-schema";
import { parseTypes } from "./postgres-store";

export interface ClusterNode {
  nodeId: string;
  /** host:port other nodes reach it at. */
  address: string;
}

/** A live lease of the owner map: a partition and who holds it. */
export interface OwnedPartition extends PartitionRef, LeaseOwner {}

/** The lease operations the keeper (scheduler/partition-keeper.ts) works with. */
export interface LeaseTable {
  readonly leaseMs: number;
  /** Marks the node alive now (and not leaving), with the address it is reached at. */
  heartbeat(node: ClusterNode): Promise<void>;
  /** Nodes seen within the lease time and not leaving, by id. */
  liveNodes(): Promise<ClusterNode[]>;
  /** Takes each partition that is free, expired or held by a leaving node; answers those taken, with their new epochs. */
  acquire(nodeId: string, parts: readonly PartitionRef[]): Promise<FenceClaim[]>;
  /** Extends the leases still held at these epochs and not expired; answers those it could not (lost). */
  renew(nodeId: string, held: readonly FenceClaim[]): Promise<FenceClaim[]>;
  /** Hands these leases over now: no owner, expired, the epoch kept (the next holder takes epoch + 1). */
  release(nodeId: string, held: readonly PartitionRef[]): Promise<void>;
  /** Releases every lease of the node and marks it leaving (SIGTERM), in one statement. */
  leave(nodeId: string): Promise<void>;
  /** The live leases (an owner, not expired, the owner not leaving) of these hubs. */
  owners(hubs: readonly HubPartitions[]): Promise<OwnedPartition[]>;
}

export interface PostgresLeasesOptions {
  /** How long a lease and a node's heartbeat last (default 10 s). */
  leaseMs?: number;
  /** How long one statement may take before it fails (default: a third of the lease), so a cut connection is an error, not a hang. */
  queryTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Nodes unseen this long are deleted (their leases have long expired). */
const FORGET_NODE_MS = 3_600_000;

export class PostgresLeases implements LeaseTable {
  private constructor(private readonly pool: Pool, readonly leaseMs: number) {}

  /** Its own small pool, so lease renewals never queue behind the store's commits. The schema must exist (PostgresStore.open migrates it). */
  static open(url: string, options: PostgresLeasesOptions = {}): PostgresLeases {
    const leaseMs = options.leaseMs ?? 10_000;
    const pool = new Pool({
      connectionString: url, max: 2, connectionTimeoutMillis: options.connectTimeoutMs ?? Math.ceil(leaseMs / 3),
      query_timeout: options.queryTimeoutMs ?? Math.ceil(leaseMs / 3),
      types: parseTypes,
    });
    // A connection that fails while idle must not crash the process; the next statement reconnects.
    pool.on("error", () => {});
    return new PostgresLeases(pool, leaseMs);
  }

  async heartbeat(node: ClusterNode): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM cluster_nodes WHERE seen_at < ${DB_NOW} - $3 AND node_id <> $1)
       INSERT INTO cluster_nodes (node_id, address, started_at, seen_at) VALUES ($1, $2, ${DB_NOW}, ${DB_NOW})
       ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, seen_at = excluded.seen_at, leaving = false`,
      [node.nodeId, node.address, FORGET_NODE_MS],
    );
  }

  async liveNodes(): Promise<ClusterNode[]> {
    const rows = await this.pool.query<ClusterNode>(
      `SELECT node_id AS "nodeId", address FROM cluster_nodes WHERE seen_at > ${DB_NOW} - $1 AND NOT leaving ORDER BY node_id`,
      [this.leaseMs],
    );
    return rows.rows;
  }

  async acquire(nodeId: string, parts: readonly PartitionRef[]): Promise<FenceClaim[]> {
    if (parts.length === 0) return [];
    // Rows are locked in one order by every node, so two acquiring overlapping sets wait, never deadlock.
    parts = [...parts].sort((a, b) => (a.hub < b.hub ? -1 : a.hub > b.hub ? 1 : a.part - b.part));
    // ON CONFLICT's WHERE is evaluated on the latest version of the locked row: a racing acquirer
    // that committed first made the lease live again, so the second finds it taken and gets nothing.
    const rows = await this.pool.query<FenceClaim>(
      `INSERT INTO partition_leases AS l (hub, part, owner, epoch, expires_at)
         SELECT t.hub, t.part, $1, 1, ${DB_NOW} + $4 FROM unnest($2::text[], $3::int[]) AS t(hub, part)
       ON CONFLICT (hub, part) DO UPDATE SET owner = excluded.owner, epoch = l.epoch + 1, expires_at = excluded.expires_at
         WHERE l.owner IS NULL OR l.expires_at <= ${DB_NOW} OR EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = l.owner AND n.leaving)
       RETURNING hub, part, epoch`,
      [nodeId, parts.map((p) => p.hub), parts.map((p) => p.part), this.leaseMs],
    );
    return rows.rows;
  }

  async renew(nodeId: string, held: readonly FenceClaim[]): Promise<FenceClaim[]> {
    if (held.length === 0) return [];
    const rows = await this.pool.query<PartitionRef>(
      `UPDATE partition_leases l SET expires_at = ${DB_NOW} + $5
         FROM unnest($2::text[], $3::int[], $4::bigint[]) AS h(hub, part, epoch)
       WHERE l.hub = h.hub AND l.part = h.part AND l.epoch = h.epoch AND l.owner = $1 AND l.expires_at > ${DB_NOW}
       RETURNING l.hub, l.part`,
      [nodeId, held.map((p) => p.hub), held.map((p) => p.part), held.map((p) => p.epoch), this.leaseMs],
    );
    const renewed = new Set(rows.rows.map((r) => partitionKey(r.hub, r.part)));
    return held.filter((p) => !renewed.has(partitionKey(p.hub, p.part)));
  }

  async release(nodeId: string, held: readonly PartitionRef[]): Promise<void> {
    if (held.length === 0) return;
    await this.pool.query(
      `UPDATE partition_leases l SET owner = NULL, expires_at = 0
         FROM unnest($2::text[], $3::int[]) AS h(hub, part)
       WHERE l.hub = h.hub AND l.part = h.part AND l.owner = $1`,
      [nodeId, held.map((p) => p.hub), held.map((p) => p.part)],
    );
  }

  async leave(nodeId: string): Promise<void> {
    await this.pool.query(
      `WITH released AS (UPDATE partition_leases SET owner = NULL, expires_at = 0 WHERE owner = $1)
       UPDATE cluster_nodes SET leaving = true WHERE node_id = $1`,
      [nodeId],
    );
  }

  async owners(hubs: readonly HubPartitions[]): Promise<OwnedPartition[]> {
    const rows = await this.pool.query<OwnedPartition>(
      `SELECT l.hub, l.part, l.owner AS "nodeId", n.address, l.epoch
         FROM partition_leases l JOIN cluster_nodes n ON n.node_id = l.owner
       WHERE l.hub = ANY($1::text[]) AND l.expires_at > ${DB_NOW} AND NOT n.leaving
       ORDER BY l.hub, l.part`,
      [hubs.map((h) => h.hub)],
    );
    return rows.rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
