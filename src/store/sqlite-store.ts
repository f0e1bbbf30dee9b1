// A durable Store in one SQLite file, <dir>/dts.sqlite, through better-sqlite3 (synchronous, like
// the Store interface). WAL journal; commit() is one IMMEDIATE transaction, so a batch is all or
// nothing. History events and message events are stored as protobuf bytes; instance records keep
// their filterable fields in columns (see sqlite-schema.ts).
import Database from "better-sqlite3";
import * as path from "path";
import { ActivityRecord, HistoryEvent, InstanceRecord, MessageRecord, Status } from "../core/model";
import { decodeContinuationToken } from "./continuation";
import { decodeEvent, EncodedOp, encodeOps } from "./encoded-batch";
import { acquireDataDirLock, createPrivateFile, DataDirLock, ensurePrivateDir } from "./data-dir-lock";
import { checkAppendFrom, seqWritten, unknownHub } from "./ops";
import { NON_TERMINAL_STATUSES, effectiveLimit, effectivePageSize, listingWindow, toIdPage, toInstancePage } from "./query";
import { busyWaitPerAttempt, DEFAULT_BUSY_TIMEOUT_MS, retryWhileBusy } from "./busy-retry";
import { configure, migrate } from "./sqlite-schema";
import { StatementCache, filterToSql } from "./sqlite-query";
import { SqliteWriter } from "./sqlite-writer-client";
import { HubSnapshot, InstanceFilter, InstanceListing, InstancePage, Store, StoreFatalError, StoreOp } from "./store";

export interface SqliteStoreOptions {
  /** "full" (default) survives power loss; "normal" may lose the latest commits on power loss. */
  synchronous?: "full" | "normal";
  /** Write commits on a separate thread (commitAsync) so the caller's event loop never waits on disk. */
  writerThread?: boolean;
  /** Hold the data directory's lock (data-dir-lock.ts) while open (default true); the writer thread's store does not. */
  dataDirLock?: boolean;
  /** How long a write waits for a lock another connection holds before it fails (busy-retry.ts). */
  busyTimeoutMs?: number;
  /** Where waits for a locked database are reported (default: stderr). */
  log?: (message: string) => void;
}

export const SQLITE_FILE = "dts.sqlite";

const INSTANCE_COLUMNS = "instanceId, status, createdAt, completedAt, input, output, customStatus, data";
/** A listing's columns: no payloads (NULLs in their place, so toInstance reads the row as usual). */
const LISTED_COLUMNS = "instanceId, status, createdAt, completedAt, NULL AS input, NULL AS output, NULL AS customStatus, data";
const ACTIVITY_COLUMNS = "seq, instanceId, executionId, taskId, name, version, input, tags, visibleAt, abandonCount";
const nonTerminal = NON_TERMINAL_STATUSES.join(", ");

interface InstanceRow {
  instanceId: string;
  status: number;
  createdAt: number;
  completedAt: number | null;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  data: string;
}

interface MessageRow {
  seq: number;
  instanceId: string;
  executionId: string | null;
  visibleAt: number;
  event: Buffer;
}

interface ActivityRow {
  seq: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  version: string | null;
  input: string | null;
  tags: string | null;
  visibleAt: number;
  abandonCount: number | null;
}

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly commitAsync?: (ops: StoreOp[]) => Promise<void>;
  readonly ready?: () => Promise<void>;
  readonly onFatal?: (listener: (err: StoreFatalError) => void) => void;
  /** The writer thread, when commits run on one (tests reach it to inject a crash). */
  readonly writer?: SqliteWriter;
  private readonly db: Database.Database;
  private readonly lock?: DataDirLock;
  private readonly s: ReturnType<typeof prepare>;
  private readonly filtered: StatementCache;
  private readonly commitTx: Database.Transaction<(ops: EncodedOp[]) => void>;
  private readonly deleteHubTx: Database.Transaction<(hub: string) => void>;
  private readonly loadTx: Database.Transaction<(hub: string) => HubSnapshot>;
  private readonly busyTimeoutMs: number;
  private readonly log: (message: string) => void;

  constructor(dir: string, options: SqliteStoreOptions = {}) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.log = options.log ?? ((message) => console.error(`dts: ${message}`));
    // The directory 0700 if created here, the database 0600 (SQLite gives its -wal and -shm the same).
    ensurePrivateDir(dir);
    this.lock = options.dataDirLock === false ? undefined : acquireDataDirLock(dir);
    try {
      const file = path.join(dir, SQLITE_FILE);
      createPrivateFile(file);
      this.db = new Database(file);
    } catch (err) {
      this.lock?.release();
      throw err;
    }
    try {
      retryWhileBusy("opening the database", this.busyTimeoutMs, this.log, () => {
        configure(this.db, { synchronous: options.synchronous ?? "full", busyTimeoutMs: busyWaitPerAttempt(this.busyTimeoutMs) });
        migrate(this.db);
      });
      this.s = prepare(this.db);
    } catch (err) {
      this.db.close();
      this.lock?.release();
      throw err;
    }
    this.filtered = new StatementCache(this.db);
    if (options.writerThread) {
      const writer = new SqliteWriter({ dir, synchronous: options.synchronous ?? "full", busyTimeoutMs: this.busyTimeoutMs, log: this.log });
      this.writer = writer;
      this.commitAsync = (ops) => writer.commit(ops);
      this.ready = () => writer.ready;
      this.onFatal = (listener) => writer.onFatal(listener);
    }
    this.commitTx = this.db.transaction((ops: EncodedOp[]) => this.applyAll(ops));
    this.deleteHubTx = this.db.transaction((hub: string) => {
      for (const statement of this.s.deleteHub) statement.run(hub);
    });
    // One read transaction, so the snapshot is consistent even if another connection writes.
    this.loadTx = this.db.transaction((hub: string) => this.readSnapshot(hub));
  }

  listHubs(): string[] {
    return this.s.listHubs.all() as string[];
  }

  createHub(hub: string): void {
    retryWhileBusy(`creating task hub "${hub}"`, this.busyTimeoutMs, this.log, () => this.s.createHub.run(hub));
  }

  deleteHub(hub: string): void {
    retryWhileBusy(`deleting task hub "${hub}"`, this.busyTimeoutMs, this.log, () => this.deleteHubTx.immediate(hub));
  }

  load(hub: string): HubSnapshot {
    return this.loadTx(hub);
  }

  commit(ops: StoreOp[]): void {
    this.commitEncoded(encodeOps(ops));
  }

  /** commit() for a batch whose events are already encoded (the writer thread's). */
  commitEncoded(ops: EncodedOp[]): void {
    // IMMEDIATE: take the write lock up front; appendHistory reads before it writes.
    retryWhileBusy("a commit", this.busyTimeoutMs, this.log, () => this.commitTx.immediate(ops));
  }

  getInstance(hub: string, instanceId: string): InstanceRecord | undefined {
    const row = this.s.getInstance.get(hub, instanceId) as InstanceRow | undefined;
    return row && toInstance(row);
  }

  getHistory(hub: string, instanceId: string): HistoryEvent[] {
    return (this.s.getHistory.all(hub, instanceId) as Buffer[]).map(decodeEvent);
  }

  queryInstances(hub: string, filter: InstanceFilter, pageSize: number, continuationToken?: string): InstancePage {
    const size = effectivePageSize(pageSize);
    const after = continuationToken ? decodeContinuationToken(continuationToken) : undefined;
    const f = filterToSql(filter);
    const statement = this.filtered.get(
      `query:${f.shape}:${after ? "after" : ""}`,
      () =>
        `SELECT ${INSTANCE_COLUMNS} FROM instances WHERE hub = ?${f.where}` +
        (after ? " AND (createdAt, instanceId) > (?, ?)" : "") +
        " ORDER BY createdAt, instanceId LIMIT ?",
    );
    const params = after ? [hub, ...f.params, after.createdAt, after.instanceId] : [hub, ...f.params];
    const rows = statement.all(...params, size + 1) as InstanceRow[];
    return toInstancePage(rows.map(toInstance), size);
  }

  listInstanceIds(hub: string, filter: InstanceFilter, pageSize: number, after?: string): { ids: string[]; last?: string } {
    const size = effectivePageSize(pageSize);
    const f = filterToSql(filter);
    const statement = this.filtered.get(
      `list:${f.shape}:${after ? "after" : ""}`,
      () =>
        `SELECT instanceId FROM instances WHERE hub = ?${f.where}` +
        (after ? " AND instanceId > ?" : "") +
        " ORDER BY instanceId LIMIT ?",
      true,
    );
    const params = after ? [hub, ...f.params, after] : [hub, ...f.params];
    return toIdPage(statement.all(...params, size + 1) as string[], size);
  }

  listInstances(hub: string, filter: InstanceFilter, listing: InstanceListing): InstanceRecord[] {
    const { offset, limit } = listingWindow(listing.offset, listing.limit);
    const f = filterToSql(filter);
    const order = listing.newestFirst ? "DESC" : "ASC";
    const statement = this.filtered.get(
      `listing:${f.shape}:${order}`,
      () => `SELECT ${LISTED_COLUMNS} FROM instances WHERE hub = ?${f.where} ORDER BY createdAt ${order}, instanceId ${order} LIMIT ? OFFSET ?`,
    );
    return (statement.all(hub, ...f.params, limit, offset) as InstanceRow[]).map(toInstance);
  }

  countByStatus(hub: string, filter: InstanceFilter): Map<Status, number> {
    const f = filterToSql(filter);
    const statement = this.filtered.get(`count:${f.shape}`, () => `SELECT status, COUNT(*) AS n FROM instances WHERE hub = ?${f.where} GROUP BY status`);
    return new Map((statement.all(hub, ...f.params) as { status: Status; n: number }[]).map((r) => [r.status, r.n]));
  }

  findInstanceIds(hub: string, filter: InstanceFilter, limit: number): string[] {
    const f = filterToSql(filter);
    const statement = this.filtered.get(`find:${f.shape}`, () => `SELECT instanceId FROM instances WHERE hub = ?${f.where} LIMIT ?`, true);
    const max = effectiveLimit(limit);
    // A negative LIMIT means none in SQLite.
    return statement.all(hub, ...f.params, max === Infinity ? -1 : max) as string[];
  }

  close(): void | Promise<void> {
    if (!this.db.open) return;
    const finish = () => {
      try {
        this.db.pragma("optimize");
        this.db.close();
      } finally {
        this.lock?.release(); // after the writer thread and this connection are done with the files
      }
    };
    if (this.writer) return this.writer.close().then(finish);
    finish();
  }

  private applyAll(ops: EncodedOp[]): void {
    const known = new Set<string>();
    const maxSeq = new Map<string, number>();
    for (const op of ops) {
      if (op.op === "createHub") {
        this.s.createHub.run(op.hub);
        known.add(op.hub);
        continue;
      }
      if (op.op === "deleteHub") {
        for (const statement of this.s.deleteHub) statement.run(op.hub);
        known.delete(op.hub);
        maxSeq.delete(op.hub);
        continue;
      }
      if (!known.has(op.hub)) {
        if (this.s.hubExists.get(op.hub) === undefined) throw unknownHub(op.hub);
        known.add(op.hub);
      }
      this.apply(op);
      const seq = seqWritten(op);
      if (seq > (maxSeq.get(op.hub) ?? 0)) maxSeq.set(op.hub, seq);
    }
    for (const [hub, seq] of maxSeq) this.s.raiseMaxSeq.run(seq, hub);
  }

  private apply(op: EncodedOp): void {
    const s = this.s;
    switch (op.op) {
      case "putInstance":
        s.putInstance.run(op.hub, ...instanceColumns(op.instance));
        break;
      case "appendHistory":
        checkAppendFrom(op, s.historyLength.get(op.hub, op.instanceId) as number);
        this.insertHistory(op.hub, op.instanceId, op.from, op.events);
        break;
      case "replaceHistory":
        s.deleteHistory.run(op.hub, op.instanceId);
        this.insertHistory(op.hub, op.instanceId, 0, op.events);
        break;
      case "putMessage": {
        const m = op.message;
        s.putMessage.run(op.hub, m.seq, m.instanceId, m.executionId ?? null, m.visibleAt, m.event);
        break;
      }
      case "deleteMessages":
        for (const seq of op.seqs) s.deleteMessage.run(op.hub, seq);
        break;
      case "putActivity":
        s.putActivity.run(op.hub, ...activityColumns(op.activity));
        break;
      case "deleteActivity":
        s.deleteActivity.run(op.hub, op.seq);
        break;
      case "deleteInstance":
        for (const statement of s.deleteInstance) statement.run(op.hub, op.instanceId);
        break;
      case "createHub":
      case "deleteHub":
        break; // applyAll handles hub ops
      default:
        throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }

  private insertHistory(hub: string, instanceId: string, from: number, events: Uint8Array[]): void {
    for (let i = 0; i < events.length; i++) this.s.insertHistory.run(hub, instanceId, from + i, events[i]);
  }

  private readSnapshot(hub: string): HubSnapshot {
    const instances = (this.s.loadInstances.all({ hub }) as InstanceRow[]).map((row) => ({
      instance: toInstance(row),
      history: this.getHistory(hub, row.instanceId),
    }));
    return {
      instances,
      messages: (this.s.loadMessages.all(hub) as MessageRow[]).map(toMessage),
      activities: (this.s.loadActivities.all(hub) as ActivityRow[]).map(toActivity),
      maxSeq: (this.s.hubMaxSeq.get(hub) as number | undefined) ?? 0,
    };
  }
}

/** Every fixed statement, prepared once when the store opens. */
function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    listHubs: p("SELECT name FROM hubs ORDER BY name").pluck(),
    hubExists: p("SELECT 1 FROM hubs WHERE name = ?").pluck(),
    hubMaxSeq: p("SELECT maxSeq FROM hubs WHERE name = ?").pluck(),
    createHub: p("INSERT OR IGNORE INTO hubs (name) VALUES (?)"),
    raiseMaxSeq: p("UPDATE hubs SET maxSeq = max(maxSeq, ?) WHERE name = ?"),
    deleteHub: ["instances", "history", "messages", "activities"]
      .map((table) => p(`DELETE FROM ${table} WHERE hub = ?`))
      .concat(p("DELETE FROM hubs WHERE name = ?")),

    putInstance: p(
      `INSERT INTO instances (hub, ${INSTANCE_COLUMNS}, name, parentInstanceId) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hub, instanceId) DO UPDATE SET status = excluded.status, createdAt = excluded.createdAt,
         completedAt = excluded.completedAt, input = excluded.input, output = excluded.output,
         customStatus = excluded.customStatus, data = excluded.data, name = excluded.name, parentInstanceId = excluded.parentInstanceId`,
    ),
    getInstance: p(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE hub = ? AND instanceId = ?`),
    deleteInstance: ["instances", "history", "messages", "activities"].map((table) =>
      p(`DELETE FROM ${table} WHERE hub = ? AND instanceId = ?`),
    ),
    // The instances load() returns (query.ts needsLoading): the two status sets are disjoint, so
    // UNION ALL yields no duplicates, and each half can use an index.
    loadInstances: p(
      `SELECT ${INSTANCE_COLUMNS} FROM instances WHERE hub = @hub AND status IN (${nonTerminal})
       UNION ALL
       SELECT ${INSTANCE_COLUMNS} FROM instances WHERE hub = @hub AND status NOT IN (${nonTerminal})
         AND instanceId IN (SELECT instanceId FROM messages WHERE hub = @hub)`,
    ),

    // idx runs 0..length-1 without gaps (appendHistory enforces it), so max + 1 is the length.
    historyLength: p("SELECT coalesce(max(idx) + 1, 0) FROM history WHERE hub = ? AND instanceId = ?").pluck(),
    getHistory: p("SELECT event FROM history WHERE hub = ? AND instanceId = ? ORDER BY idx").pluck(),
    insertHistory: p("INSERT INTO history (hub, instanceId, idx, event) VALUES (?, ?, ?, ?)"),
    deleteHistory: p("DELETE FROM history WHERE hub = ? AND instanceId = ?"),

    putMessage: p(
      "INSERT OR REPLACE INTO messages (hub, seq, instanceId, executionId, visibleAt, event) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    deleteMessage: p("DELETE FROM messages WHERE hub = ? AND seq = ?"),
    loadMessages: p("SELECT seq, instanceId, executionId, visibleAt, event FROM messages WHERE hub = ? ORDER BY seq"),

    putActivity: p(`INSERT OR REPLACE INTO activities (hub, ${ACTIVITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteActivity: p("DELETE FROM activities WHERE hub = ? AND seq = ?"),
    loadActivities: p(`SELECT ${ACTIVITY_COLUMNS} FROM activities WHERE hub = ? ORDER BY seq`),
  };
}

// Row mapping. Absent optional fields are stored as NULL (or left out of the JSON) and read back as
// absent, so records round-trip exactly.

function instanceColumns(r: InstanceRecord): unknown[] {
  const { instanceId, status, createdAt, completedAt, input, output, customStatus, ...rest } = r;
  // name and parentInstanceId stay in data too (toInstance reads data); the columns are for filters.
  return [instanceId, status, createdAt, completedAt ?? null, input ?? null, output ?? null, customStatus ?? null, JSON.stringify(rest), r.name, r.parentInstanceId ?? null];
}

function toInstance(row: InstanceRow): InstanceRecord {
  const r = JSON.parse(row.data) as InstanceRecord;
  r.instanceId = row.instanceId;
  r.status = row.status;
  r.createdAt = row.createdAt;
  if (row.completedAt !== null) r.completedAt = row.completedAt;
  if (row.input !== null) r.input = row.input;
  if (row.output !== null) r.output = row.output;
  if (row.customStatus !== null) r.customStatus = row.customStatus;
  return r;
}

function toMessage(row: MessageRow): MessageRecord {
  const m: MessageRecord = { seq: row.seq, instanceId: row.instanceId, visibleAt: row.visibleAt, event: decodeEvent(row.event) };
  if (row.executionId !== null) m.executionId = row.executionId;
  return m;
}

function activityColumns(a: ActivityRecord): unknown[] {
  return [
    a.seq, a.instanceId, a.executionId, a.taskId, a.name, a.version ?? null, a.input ?? null,
    a.tags ? JSON.stringify(a.tags) : null, a.visibleAt, a.abandonCount ?? null,
  ];
}

function toActivity(row: ActivityRow): ActivityRecord {
  const a: ActivityRecord = {
    seq: row.seq,
    instanceId: row.instanceId,
    executionId: row.executionId,
    taskId: row.taskId,
    name: row.name,
    visibleAt: row.visibleAt,
  };
  if (row.version !== null) a.version = row.version;
  if (row.input !== null) a.input = row.input;
  if (row.tags !== null) a.tags = JSON.parse(row.tags) as Record<string, string>;
  if (row.abandonCount !== null) a.abandonCount = row.abandonCount;
  return a;
}
