// A cluster of `dts serve` nodes on one PostgreSQL database, as the cluster suites run it: real
// processes, each with its node id, advertising its own bound port, sharing partitions through
// their leases. Reads of the lease table tell the tests who owns what.
import { Client } from "pg";
import { DtsProcess, startDts, tempDir } from "./dts-process";

export interface ClusterNodeProcess extends DtsProcess {
  nodeId: string;
}

export interface ClusterOptions {
  url: string;
  /** Seconds a lease lasts (--lease-seconds); the default is the product's. */
  leaseSeconds?: number;
  partitions?: number;
  extraArgs?: string[];
}

export function startNode(nodeId: string, o: ClusterOptions): Promise<ClusterNodeProcess> {
  const args = ["--store", "postgres", "--postgres-url", o.url, "--node-id", nodeId, "--advertise", "localhost", "--hubs", "default"];
  if (o.leaseSeconds !== undefined) args.push("--lease-seconds", String(o.leaseSeconds));
  if (o.partitions !== undefined) args.push("--partitions", String(o.partitions));
  return startDts([...args, ...(o.extraArgs ?? [])], { dataDir: tempDir("dts-node-") }).then((p) => Object.assign(p, { nodeId }));
}

/** Who holds each partition of the hub now (node id, or null), by partition number, as the database says. */
export async function owners(url: string, hub = "default"): Promise<Map<number, string | null>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const now = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
    const r = await c.query<{ part: number; owner: string | null }>(
      `SELECT part, CASE WHEN expires_at > ${now} THEN owner END AS owner FROM partition_leases WHERE hub = $1 ORDER BY part`, [hub]);
    return new Map(r.rows.map((row) => [row.part, row.owner]));
  } finally {
    await c.end();
  }
}

/** How many partitions each node holds. */
export function shares(map: Map<number, string | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const owner of map.values()) if (owner) out[owner] = (out[owner] ?? 0) + 1;
  return out;
}

/** Runs one SQL statement on the database (a test's look at rows). */
export async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
