// A durable Store in one SQLite file, <dir>/dts.sqlite, through better-sqlite3 (synchronous, like
// the Store interface). WAL journal; commit() is one IMMEDIATE transaction, so a batch is all or
// nothing. History events and message events are stored as protobuf bytes; instance records keep
// their filterable fields in columns (see sqlite-schema.ts).
import Database from "better-sqlite3";
import * as path from "path";
import { HistoryEvent, InstanceRecord, Status } from "../core/model";
import { RetentionPolicy } from "../core/retention";
import { ScheduleRecord } from "../core/schedule";
import { decodeContinuationToken } from "./continuation";
import { EncodedOp, encodeOps } from "./encoded-batch";
import { runBytes, runEvents } from "./history-runs";
import { acquireDataDirLock, createPrivateFile, DataDirLock, ensurePrivateDir } from "./data-dir-lock";
import { checkAppendFrom, checkPart, seqWritten, unknownHub } from "./ops";
import { effectiveLimit, effectivePageSize, listingWindow, toIdPage, toInstancePage } from "./query";
import { busyWaitPerAttempt, DEFAULT_BUSY_TIMEOUT_MS, isBusy, retryWhileBusy } from "./busy-retry";
import { configure, migrate } from "./sqlite-schema";
import { INSTANCE_COLUMNS, LISTED_COLUMNS, prepare } from "./sqlite-rows";
import { ActivityRow, activityColumns, InstanceRow, instanceColumns, MessageRow, toActivity, toInstance, toMessage } from "./rows";
import { StatementCache, filterToSql } from "./sqlite-query";
import { InlineCommits } from "./inline-commit";
import { SqliteWriter } from "./sqlite-writer-client";
import { HubSnapshot, InboxEntry, InstanceFilter, InstanceListing, InstancePage, Store, StoreFatalError, StoreOp } from "./store";
import { log } from "../log/log";

export interface SqliteStoreOptions {
  /** "full" (default) survives power loss; "normal" may lose the latest commits on power loss. */
  synchronous?: "full" | "normal";
  /** Write commits on a separate thread (commitAsync) so the caller's event loop does not wait on disk (small ones on an idle store excepted: inline-commit.ts). */
  writerThread?: boolean;
  /** With the writer thread: which commits run on this connection instead (default: measured on this event loop). */
  inlineCommits?: InlineCommits;
  /** Hold the data directory's lock (data-dir-lock.ts) while open (default true); the writer thread's store does not. */
  dataDirLock?: boolean;
  /** How long a write waits for a lock another connection holds before it fails (busy-retry.ts). */
  busyTimeoutMs?: number;
  /** Where waits for a locked database are reported (default: stderr). */
  log?: (message: string) => void;
}

export const SQLITE_FILE = "dts.sqlite";

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly commitAsync?: (ops: StoreOp[]) => Promise<number | void>;
  readonly ready?: () => Promise<void>;
  readonly onFatal?: (listener: (err: StoreFatalError) => void) => void;
  /** The writer thread, when commits run on one (tests reach it to inject a crash). */
  readonly writer?: SqliteWriter;
  private readonly db: Database.Database;
  private readonly lock?: DataDirLock;
  private readonly s: ReturnType<typeof prepare>;
  private readonly filtered: StatementCache;
  private readonly commitTx: Database.Transaction<(ops: EncodedOp[], applied?: (ms: number) => void) => void>;
  private readonly deleteHubTx: Database.Transaction<(hub: string) => void>;
  private readonly loadTx: Database.Transaction<(hub: string) => HubSnapshot>;
  private readonly busyTimeoutMs: number;
  /** Switches this connection's wait for another's write lock off and back on, around an inline commit. */
  private readonly busyTimeout?: { none: Database.Statement; usual: Database.Statement };
  private readonly log: (message: string) => void;

  constructor(dir: string, options: SqliteStoreOptions = {}) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.log = options.log ?? ((message) => log.warning(`dts: ${message}`));
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
      const inline = options.inlineCommits ?? new InlineCommits();
      const usual = busyWaitPerAttempt(this.busyTimeoutMs);
      this.busyTimeout = { none: this.db.prepare("PRAGMA busy_timeout = 0"), usual: this.db.prepare(`PRAGMA busy_timeout = ${usual}`) };
      this.commitAsync = (ops) => this.commitOffLoop(ops, writer, inline);
      this.ready = () => writer.ready;
      this.onFatal = (listener) => writer.onFatal(listener);
    }
    this.commitTx = this.db.transaction((ops: EncodedOp[], applied?: (ms: number) => void) => {
      const started = performance.now();
      this.applyAll(ops);
      // Measured inside the transaction: the rest of the transaction's time is its BEGIN and COMMIT.
      applied?.(performance.now() - started);
    });
    this.deleteHubTx = this.db.transaction((hub: string) => {
      for (const statement of this.s.deleteHub) statement.run(hub);
    });
    // One read transaction, so the snapshot is consistent even if another connection writes.
    this.loadTx = this.db.transaction((hub: string) => this.readSnapshot(hub));
  }

  listHubs(): string[] {
    return this.s.listHubs.all() as string[];
  }

  createHub(hub: string, partitions = 1): void {
    onePartition(hub, partitions);
    retryWhileBusy(`creating task hub "${hub}"`, this.busyTimeoutMs, this.log, () => this.s.createHub.run(hub));
  }

  deleteHub(hub: string): void {
    retryWhileBusy(`deleting task hub "${hub}"`, this.busyTimeoutMs, this.log, () => this.deleteHubTx.immediate(hub));
  }

  /** A SQLite hub is one partition: `part` may only be 0. */
  load(hub: string, part?: number): HubSnapshot {
    if (part !== undefined) checkPart(hub, part, 1);
    return this.loadTx(hub);
  }

  /** One partition never sends itself messages through an inbox. */
  readInbox(hub: string, part: number, _limit?: number): InboxEntry[] {
    checkPart(hub, part, 1);
    return [];
  }

  commit(ops: StoreOp[]): void {
    this.commitEncoded(encodeOps(ops));
  }

  /**
   * commit() for a batch whose events are already encoded (the writer thread's). Returns the
   * milliseconds the transaction took beyond applying its ops: its COMMIT, which is the sync to disk.
   */
  commitEncoded(ops: EncodedOp[]): number {
    return retryWhileBusy("a commit", this.busyTimeoutMs, this.log, () => this.commitOnce(ops));
  }

  /** One attempt; returns the milliseconds of its COMMIT (the sync to disk). */
  private commitOnce(ops: EncodedOp[]): number {
    let applied = 0;
    const started = performance.now();
    // IMMEDIATE: take the write lock up front; appendHistory reads before it writes.
    this.commitTx.immediate(ops, (ms) => (applied = ms));
    return Math.max(0, performance.now() - started - applied);
  }

  /** commitAsync: on the writer thread, or inline when the batch is small and the store idle (inline-commit.ts). */
  private commitOffLoop(ops: StoreOp[], writer: SqliteWriter, inline: InlineCommits): Promise<number | undefined> {
    if (inline.takes(ops, writer.idle)) {
      try {
        const started = performance.now();
        const ms = this.commitIfUnlocked(encodeOps(ops));
        if (ms !== undefined) {
          inline.synced(ms, performance.now() - started);
          return Promise.resolve(ms);
        }
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return writer.commit(ops).then((ms) => (inline.synced(ms ?? 0), ms));
  }

  /**
   * The commit on this connection if no other connection holds the write lock; undefined if one does
   * (the writer thread then waits for it: the event loop must not).
   */
  private commitIfUnlocked(ops: EncodedOp[]): number | undefined {
    this.busyTimeout!.none.run();
    try {
      return this.commitOnce(ops);
    } catch (err) {
      if (isBusy(err)) return undefined;
      throw err;
    } finally {
      this.busyTimeout!.usual.run();
    }
  }

  getInstance(hub: string, instanceId: string): InstanceRecord | undefined {
    const row = this.s.getInstance.get(hub, instanceId) as InstanceRow | undefined;
    return row && toInstance(row);
  }

  getHistory(hub: string, instanceId: string): HistoryEvent[] {
    return (this.s.getHistory.all(hub, instanceId) as { eventCount: number; event: Buffer }[]).flatMap((row) => runEvents(row.eventCount, row.event));
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
        onePartition(op.hub, op.partitions ?? 1);
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
      case "putInstance": {
        // Most writes of a running instance change only its payloads and data.
        const [instanceId, status, createdAt, completedAt, input, output, customStatus, data, name, parentInstanceId] = instanceColumns(op.instance);
        if (s.putInstanceUnindexed.run(input, output, customStatus, data, op.hub, instanceId, status, createdAt, completedAt, name, parentInstanceId).changes === 0) {
          s.putInstance.run(op.hub, instanceId, status, createdAt, completedAt, input, output, customStatus, data, name, parentInstanceId);
        }
        break;
      }
      case "appendHistory":
        checkAppendFrom(op, (s.historyEnd.get(op.hub, op.instanceId) as number | undefined) ?? 0);
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
      case "setRetention":
        if (op.policy) s.putRetention.run(op.hub, JSON.stringify(op.policy));
        else s.deleteRetention.run(op.hub);
        break;
      case "putSchedule":
        s.putSchedule.run(op.hub, op.schedule.scheduleId, JSON.stringify(op.schedule));
        break;
      case "deleteSchedule":
        s.deleteSchedule.run(op.hub, op.scheduleId);
        break;
      case "createHub":
      case "deleteHub":
        break; // applyAll handles hub ops
      default:
        throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }

  private insertHistory(hub: string, instanceId: string, from: number, events: Uint8Array[]): void {
    if (events.length > 0) this.s.insertHistory.run(hub, instanceId, from, events.length, runBytes(events));
  }

  private readSnapshot(hub: string): HubSnapshot {
    const instances = (this.s.loadInstances.all({ hub }) as InstanceRow[]).map((row) => ({
      instance: toInstance(row),
      history: this.getHistory(hub, row.instanceId),
    }));
    const snapshot: HubSnapshot = {
      instances,
      messages: (this.s.loadMessages.all(hub) as MessageRow[]).map(toMessage),
      activities: (this.s.loadActivities.all(hub) as ActivityRow[]).map(toActivity),
      schedules: (this.s.loadSchedules.all(hub) as string[]).map((data) => JSON.parse(data) as ScheduleRecord),
      maxSeq: (this.s.hubMaxSeq.get(hub) as number | undefined) ?? 0,
    };
    const retention = this.s.getRetention.get(hub) as string | undefined;
    if (retention !== undefined) snapshot.retention = JSON.parse(retention) as RetentionPolicy;
    return snapshot;
  }
}

/** SQLite serves one node, so a hub has one partition (several are for PostgreSQL clusters). */
function onePartition(hub: string, partitions: number): void {
  if (partitions !== 1) throw new Error(`task hub "${hub}": the SQLite store keeps a hub in one partition; ${partitions} partitions need --store postgres`);
}
