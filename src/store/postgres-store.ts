// A durable store in PostgreSQL through node-postgres (pg): the same operations and semantics as
// the SQLite store, asynchronous because every call is a network round trip. commit() is one
// transaction, so a batch is all or nothing; load() reads one consistent snapshot. History and
// message events are stored as protobuf bytes, instance records as in SQLite (rows.ts).
import { Pool, PoolClient, types } from "pg";
import { FenceClaim } from "../core/leases";
import { HistoryEvent, InstanceRecord, Status } from "../core/model";
import { RetentionPolicy } from "../core/retention";
import { ScheduleRecord } from "../core/schedule";
import { decodeContinuationToken } from "./continuation";
import { decodeEvent, EncodedOp, encodeOps } from "./encoded-batch";
import { checkAppendFrom, checkPart, seqWritten, unknownHub } from "./ops";
import { partitionOf } from "../core/partition";
import { applyInboxOp, listenInbox, readInbox } from "./postgres-inbox";
import { effectiveLimit, effectivePageSize, listingWindow, NON_TERMINAL_STATUSES, toIdPage, toInstancePage } from "./query";
import { ActivityRow, activityColumns, InstanceRow, instanceColumns, MessageRow, toActivity, toInstance, toMessage } from "./rows";
import { checkWritten, foldedStatements, foldOps } from "./postgres-batch";
import { checkFence, fenceStatement } from "./postgres-fence";
import { migratePostgres } from "./postgres-schema";
import { filterToPg, PG_ACTIVITY_COLUMNS, PG_INSTANCE_COLUMNS, PG_LISTED_COLUMNS } from "./postgres-query";
import { AsyncStore, HubSnapshot, InboxEntry, InstanceFilter, InstanceListing, InstancePage, StoreOp } from "./store";

export interface PostgresStoreOptions {
  /** Most connections the store holds (default 10): one writes, the rest read. */
  poolSize?: number;
  /** How long connecting may take before it fails (default 10 s), so an unreachable server is an error, not a hang. */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;
// Times (ms), seqs and epochs are BIGINT; they stay below 2^53, so numbers are exact.
export const parseTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (v: string) => Number(v) : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

const INSTANCE_TABLES = ["instances", "history", "messages", "activities"];
/** Everything a hub owns besides its row in hubs. */
const HUB_TABLES = [...INSTANCE_TABLES, "retention_policies", "schedules", "partition_inbox"];

/** The partition leases a batch must hold to commit (a cluster node's engine names them; see setFence). */
export type StoreFence = (ops: readonly StoreOp[]) => readonly FenceClaim[];

export class PostgresStore implements AsyncStore {
  readonly kind = "postgres" as const;
  private fence: StoreFence | undefined;

  /** Each hub's partition count, fixed at its creation, so writes can set each row's partition. */
  private readonly partitionCounts = new Map<string, number>();

  private constructor(private readonly pool: Pool, private readonly url: string) {}

  /** Connects and brings the schema up to date; rejects with the server's reason when it cannot. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new Pool({ connectionString: url, max: options.poolSize ?? 10, types: parseTypes, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 });
    // An idle connection that fails (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool, url);
  }

  async listHubs(): Promise<string[]> {
    return (await this.pool.query<{ name: string }>("SELECT name FROM hubs ORDER BY name")).rows.map((r) => r.name);
  }

  async hubPartitions(): Promise<Map<string, number>> {
    const rows = (await this.pool.query<{ name: string; partitions: number }>("SELECT name, partitions FROM hubs ORDER BY name")).rows;
    for (const r of rows) this.partitionCounts.set(r.name, r.partitions);
    return new Map(rows.map((r) => [r.name, r.partitions]));
  }

  async createHub(hub: string, partitions?: number): Promise<void> {
    await this.commit([{ op: "createHub", hub, partitions }]);
  }

  /** The oldest `limit` messages other partitions sent to partition `part`, by id. */
  async readInbox(hub: string, part: number, limit: number): Promise<InboxEntry[]> {
    checkPart(hub, part, await this.partitionsOf(hub));
    return readInbox(this.pool, hub, part, limit);
  }

  /** Calls the listener whenever a committed write put messages into a partition's inbox (LISTEN/NOTIFY). */
  onInbox(listener: (hub: string, part: number) => void): Promise<() => Promise<void>> {
    return listenInbox(this.url, listener);
  }

  /** The hub's partition count (1 for a hub that does not exist: it has no rows to place). */
  private async partitionsOf(hub: string): Promise<number> {
    let n = this.partitionCounts.get(hub);
    if (n === undefined) {
      n = (await this.pool.query<{ partitions: number }>("SELECT partitions FROM hubs WHERE name = $1", [hub])).rows[0]?.partitions;
      if (n === undefined) return 1;
      this.partitionCounts.set(hub, n);
    }
    return n;
  }

  async deleteHub(hub: string): Promise<void> {
    await this.commit([{ op: "deleteHub", hub }]);
  }

  /**
   * From now on every commit first checks, in its own transaction, that this node still holds the
   * leases fence(ops) names, and is refused with LeaseLostError (nothing written) when one moved.
   * undefined turns fencing off (one node: no check, no cost).
   */
  setFence(fence: StoreFence | undefined): void {
    this.fence = fence;
  }

  /**
   * The engine's group commit: the same as commit(), resolving with the milliseconds the round trip
   * that commits took (the single statement, or the COMMIT), for the sync metric.
   */
  async commitAsync(ops: StoreOp[], fence?: readonly FenceClaim[]): Promise<number> {
    return this.write(ops, fence);
  }

  /**
   * Applies all ops in one transaction, in order: all or nothing. Rejects on failure. `fence`: the
   * leases the batch must hold (else those setFence names), LeaseLostError when one is not held.
   */
  async commit(ops: StoreOp[], fence?: readonly FenceClaim[]): Promise<void> {
    await this.write(ops, fence);
  }

  private async write(ops: StoreOp[], explicitFence?: readonly FenceClaim[]): Promise<number> {
    const fence = explicitFence ?? this.fence?.(ops) ?? [];
    const encoded = encodeOps(ops);
    // The engine's groups fold into one statement per table; anything else goes op by op.
    const hubs = new Set(encoded.map((op) => op.hub));
    const hubOps = encoded.some((op) => op.op === "createHub" || op.op === "deleteHub");
    const counts = new Map<string, number>();
    if (!hubOps) for (const hub of hubs) counts.set(hub, await this.partitionsOf(hub));
    for (const op of encoded) if (!hubOps && (op.op === "putInbox" || op.op === "deleteInbox")) checkPart(op.hub, op.part, counts.get(op.hub) ?? 1);
    const folded = hubOps ? undefined : foldOps(encoded, (hub, id) => partitionOf(id, counts.get(hub) ?? 1));
    if (folded) return this.writeFolded(folded, fence);
    let commitMs = 0;
    await this.transaction(async (c) => {
      if (fence.length > 0) checkFence((await c.query(fenceStatement(fence))).rows[0]);
      const known = new Map<string, number>();
      const maxSeq = new Map<string, number>();
      for (const op of encoded) {
        if (op.op === "createHub") {
          // An existing hub keeps the partition count it was created with.
          const row = await c.query<{ partitions: number }>(
            "INSERT INTO hubs (name, partitions) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING partitions",
            [op.hub, op.partitions ?? 1],
          );
          known.set(op.hub, row.rows[0].partitions);
          continue;
        }
        if (op.op === "deleteHub") {
          for (const table of HUB_TABLES) await c.query(`DELETE FROM ${table} WHERE hub = $1`, [op.hub]);
          await c.query("DELETE FROM hubs WHERE name = $1", [op.hub]);
          known.delete(op.hub);
          maxSeq.delete(op.hub);
          continue;
        }
        let partitions = known.get(op.hub);
        if (partitions === undefined) {
          partitions = (await c.query<{ partitions: number }>("SELECT partitions FROM hubs WHERE name = $1", [op.hub])).rows[0]?.partitions;
          if (partitions === undefined) throw unknownHub(op.hub);
          known.set(op.hub, partitions);
        }
        const n = partitions;
        if (op.op === "putInbox" || op.op === "deleteInbox") checkPart(op.hub, op.part, n);
        await apply(c, op, (id) => partitionOf(id, n));
        const seq = seqWritten(op);
        if (seq > (maxSeq.get(op.hub) ?? 0)) maxSeq.set(op.hub, seq);
      }
      for (const [hub, seq] of maxSeq) await c.query("UPDATE hubs SET max_seq = GREATEST(max_seq, $1) WHERE name = $2", [seq, hub]);
    }, "BEGIN", (ms) => (commitMs = ms));
    // Created or deleted hubs are read again on their next write.
    for (const op of encoded) if (op.op === "createHub" || op.op === "deleteHub") this.partitionCounts.delete(op.hub);
    return commitMs;
  }

  /** What the scheduler keeps hot for the hub (with `part`, for that partition of it), from one consistent snapshot. */
  async load(hub: string, part?: number): Promise<HubSnapshot> {
    if (part !== undefined) checkPart(hub, part, await this.partitionsOf(hub));
    // $3: the partition, or NULL for all of them.
    const mine = "($3::int IS NULL OR part = $3::int)";
    return this.transaction(async (c) => {
      const instances = (await c.query<InstanceRow>(
        `SELECT ${PG_INSTANCE_COLUMNS} FROM instances WHERE hub = $1 AND ${mine}
           AND (status = ANY($2::int[]) OR instance_id IN (SELECT instance_id FROM messages WHERE hub = $1 AND ${mine}))
         ORDER BY instance_id`,
        [hub, NON_TERMINAL_STATUSES, part ?? null],
      )).rows.map(toInstance);
      const histories = new Map<string, HistoryEvent[]>(instances.map((r) => [r.instanceId, []]));
      const events = await c.query<{ instanceId: string; event: Buffer }>(
        'SELECT instance_id AS "instanceId", event FROM history WHERE hub = $1 AND instance_id = ANY($2::text[]) ORDER BY instance_id, idx',
        [hub, instances.map((r) => r.instanceId)],
      );
      for (const row of events.rows) histories.get(row.instanceId)?.push(decodeEvent(row.event));
      const messages = await c.query<MessageRow>(
        `SELECT seq, instance_id AS "instanceId", execution_id AS "executionId", visible_at AS "visibleAt", event FROM messages WHERE hub = $1 AND ($2::int IS NULL OR part = $2::int) ORDER BY seq`,
        [hub, part ?? null],
      );
      const activities = await c.query<ActivityRow>(`SELECT ${PG_ACTIVITY_COLUMNS} FROM activities WHERE hub = $1 AND ($2::int IS NULL OR part = $2::int) ORDER BY seq`, [hub, part ?? null]);
      const schedules = await c.query<{ data: string }>("SELECT data FROM schedules WHERE hub = $1 ORDER BY schedule_id", [hub]);
      const row = (await c.query<{ max_seq: number; partitions: number }>("SELECT max_seq, partitions FROM hubs WHERE name = $1", [hub])).rows[0];
      const retention = (await c.query<{ policy: string }>("SELECT policy FROM retention_policies WHERE hub = $1", [hub])).rows[0];
      const snapshot: HubSnapshot = {
        instances: instances.map((instance) => ({ instance, history: histories.get(instance.instanceId) ?? [] })),
        messages: messages.rows.map(toMessage),
        activities: activities.rows.map(toActivity),
        schedules: schedules.rows.map((r) => JSON.parse(r.data) as ScheduleRecord),
        maxSeq: row?.max_seq ?? 0,
      };
      if (retention) snapshot.retention = JSON.parse(retention.policy) as RetentionPolicy;
      if (row && row.partitions > 1) snapshot.partitions = row.partitions;
      return snapshot;
    }, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  async getInstance(hub: string, instanceId: string): Promise<InstanceRecord | undefined> {
    const row = (await this.pool.query<InstanceRow>(`SELECT ${PG_INSTANCE_COLUMNS} FROM instances WHERE hub = $1 AND instance_id = $2`, [hub, instanceId])).rows[0];
    return row && toInstance(row);
  }

  async getHistory(hub: string, instanceId: string): Promise<HistoryEvent[]> {
    const rows = (await this.pool.query<{ event: Buffer }>("SELECT event FROM history WHERE hub = $1 AND instance_id = $2 ORDER BY idx", [hub, instanceId])).rows;
    return rows.map((r) => decodeEvent(r.event));
  }

  /** Ordered by (createdAt, instanceId), as the other stores. */
  async queryInstances(hub: string, filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage> {
    const size = effectivePageSize(pageSize);
    const after = continuationToken ? decodeContinuationToken(continuationToken) : undefined;
    const f = filterToPg(filter);
    const params: unknown[] = [hub, ...f.params];
    const next = (v: unknown) => `$${params.push(v)}`;
    const cursor = after ? ` AND (created_at, instance_id) > (${next(after.createdAt)}, ${next(after.instanceId)})` : "";
    const sql = `SELECT ${PG_INSTANCE_COLUMNS} FROM instances WHERE hub = $1${f.where}${cursor} ORDER BY created_at, instance_id LIMIT ${next(size + 1)}`;
    const rows = (await this.pool.query<InstanceRow>(sql, params)).rows;
    return toInstancePage(rows.map(toInstance), size);
  }

  async listInstanceIds(hub: string, filter: InstanceFilter, pageSize: number, after?: string): Promise<{ ids: string[]; last?: string }> {
    const size = effectivePageSize(pageSize);
    const f = filterToPg(filter);
    const params: unknown[] = [hub, ...f.params];
    const next = (v: unknown) => `$${params.push(v)}`;
    const cursor = after !== undefined ? ` AND instance_id > ${next(after)}` : "";
    const sql = `SELECT instance_id AS id FROM instances WHERE hub = $1${f.where}${cursor} ORDER BY instance_id LIMIT ${next(size + 1)}`;
    return toIdPage((await this.pool.query<{ id: string }>(sql, params)).rows.map((r) => r.id), size);
  }

  async listInstances(hub: string, filter: InstanceFilter, listing: InstanceListing): Promise<InstanceRecord[]> {
    const { offset, limit } = listingWindow(listing.offset, listing.limit);
    const f = filterToPg(filter);
    const order = listing.newestFirst ? "DESC" : "ASC";
    const params: unknown[] = [hub, ...f.params, limit, offset];
    const sql = `SELECT ${PG_LISTED_COLUMNS} FROM instances WHERE hub = $1${f.where} ORDER BY created_at ${order}, instance_id ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`;
    return (await this.pool.query<InstanceRow>(sql, params)).rows.map(toInstance);
  }

  async countByStatus(hub: string, filter: InstanceFilter): Promise<Map<Status, number>> {
    const f = filterToPg(filter);
    const rows = (await this.pool.query<{ status: Status; n: number }>(`SELECT status, COUNT(*)::bigint AS n FROM instances WHERE hub = $1${f.where} GROUP BY status`, [hub, ...f.params])).rows;
    return new Map(rows.map((r) => [r.status, r.n]));
  }

  async findInstanceIds(hub: string, filter: InstanceFilter, limit: number): Promise<string[]> {
    const f = filterToPg(filter);
    const max = effectiveLimit(limit);
    // LIMIT NULL is no limit in PostgreSQL.
    const params = [hub, ...f.params, max === Infinity ? null : max];
    const rows = (await this.pool.query<{ id: string }>(`SELECT instance_id AS id FROM instances WHERE hub = $1${f.where} LIMIT $${params.length}`, params)).rows;
    return rows.map((r) => r.id);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Folded batches: one statement, atomic by itself, when the batch allows it (one round trip); else a transaction. */
  private async writeFolded(hubs: NonNullable<ReturnType<typeof foldOps>>, fence: readonly FenceClaim[]): Promise<number> {
    const statements = foldedStatements(hubs, fence);
    if (statements.length === 1) {
      const started = performance.now();
      checkWritten(statements[0], (await this.pool.query(statements[0])).rows[0]);
      return performance.now() - started;
    }
    let commitMs = 0;
    await this.transaction(async (c) => {
      for (const s of statements) checkWritten(s, (await c.query(s)).rows[0]);
    }, "BEGIN", (ms) => (commitMs = ms));
    return commitMs;
  }

  /** Runs body in a transaction; `committed` learns how many milliseconds the COMMIT took. */
  private async transaction<T>(body: (c: PoolClient) => Promise<T>, begin = "BEGIN", committed?: (ms: number) => void): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query(begin);
      const result = await body(c);
      const started = performance.now();
      await c.query("COMMIT");
      committed?.(performance.now() - started);
      return result;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
}

/** INSERT of a hub's row, or UPDATE of every other column when its key exists. */
function upsertSql(table: string, key: string, columns: string[]): string {
  const all = ["hub", ...columns];
  const updates = columns.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`).join(", ");
  return `INSERT INTO ${table} (${all.join(", ")}) VALUES (${all.map((_, i) => `$${i + 1}`).join(", ")}) ON CONFLICT (hub, ${key}) DO UPDATE SET ${updates}`;
}

// Columns in the order rows.ts lists a record's values.
const PUT_INSTANCE = upsertSql("instances", "instance_id", ["instance_id", "status", "created_at", "completed_at", "input", "output", "custom_status", "data", "name", "parent_instance_id", "part"]);
const PUT_MESSAGE = upsertSql("messages", "seq", ["seq", "instance_id", "execution_id", "visible_at", "event", "part"]);
const PUT_SCHEDULE = upsertSql("schedules", "schedule_id", ["schedule_id", "data"]);
const PUT_ACTIVITY = upsertSql("activities", "seq", ["seq", "instance_id", "execution_id", "task_id", "name", "version", "input", "tags", "visible_at", "abandon_count", "part"]);

/** `partOf`: the partition of an instance id in the op's hub. */
async function apply(c: PoolClient, op: EncodedOp, partOf: (instanceId: string) => number): Promise<void> {
  switch (op.op) {
    case "putInstance":
      await c.query(PUT_INSTANCE, [op.hub, ...instanceColumns(op.instance), partOf(op.instance.instanceId)]);
      return;
    case "appendHistory": {
      // idx runs 0..length-1 without gaps (checked here), so max + 1 is the length.
      const length = (await c.query<{ n: number }>("SELECT coalesce(max(idx) + 1, 0)::bigint AS n FROM history WHERE hub = $1 AND instance_id = $2", [op.hub, op.instanceId])).rows[0].n;
      checkAppendFrom(op, length);
      return insertHistory(c, op.hub, op.instanceId, op.from, op.events);
    }
    case "replaceHistory":
      await c.query("DELETE FROM history WHERE hub = $1 AND instance_id = $2", [op.hub, op.instanceId]);
      return insertHistory(c, op.hub, op.instanceId, 0, op.events);
    case "putMessage": {
      const m = op.message;
      await c.query(PUT_MESSAGE, [op.hub, m.seq, m.instanceId, m.executionId ?? null, m.visibleAt, Buffer.from(m.event), partOf(m.instanceId)]);
      return;
    }
    case "deleteMessages":
      await c.query("DELETE FROM messages WHERE hub = $1 AND seq = ANY($2::bigint[])", [op.hub, op.seqs]);
      return;
    case "putActivity":
      await c.query(PUT_ACTIVITY, [op.hub, ...activityColumns(op.activity), partOf(op.activity.instanceId)]);
      return;
    case "putInbox":
    case "deleteInbox":
      return applyInboxOp(c, op);
    case "deleteActivity":
      await c.query("DELETE FROM activities WHERE hub = $1 AND seq = $2", [op.hub, op.seq]);
      return;
    case "deleteInstance":
      for (const table of INSTANCE_TABLES) await c.query(`DELETE FROM ${table} WHERE hub = $1 AND instance_id = $2`, [op.hub, op.instanceId]);
      return;
    case "setRetention":
      if (op.policy) await c.query("INSERT INTO retention_policies (hub, policy) VALUES ($1, $2) ON CONFLICT (hub) DO UPDATE SET policy = excluded.policy", [op.hub, JSON.stringify(op.policy)]);
      else await c.query("DELETE FROM retention_policies WHERE hub = $1", [op.hub]);
      return;
    case "putSchedule":
      await c.query(PUT_SCHEDULE, [op.hub, op.schedule.scheduleId, JSON.stringify(op.schedule)]);
      return;
    case "deleteSchedule":
      await c.query("DELETE FROM schedules WHERE hub = $1 AND schedule_id = $2", [op.hub, op.scheduleId]);
      return;
    default:
      throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

/** The events in one statement: arrays of indexes and bytes, unnested into rows. */
async function insertHistory(c: PoolClient, hub: string, instanceId: string, from: number, events: Uint8Array[]): Promise<void> {
  if (events.length === 0) return;
  await c.query(
    "INSERT INTO history (hub, instance_id, idx, event) SELECT $1, $2, t.idx, t.event FROM unnest($3::int[], $4::bytea[]) AS t(idx, event)",
    [hub, instanceId, events.map((_, i) => from + i), events.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength))],
  );
}
