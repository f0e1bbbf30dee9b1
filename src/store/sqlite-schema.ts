// The SQLite schema and its migrations. PRAGMA user_version holds how many migrations a database
// has had; opening applies the missing ones in one transaction. To change the schema, append a
// migration (never edit a shipped one).
import type { Database } from "better-sqlite3";

// Rowid tables (not WITHOUT ROWID) for everything holding payloads: rows can be large.
// instances keeps the columns queries filter and sort on, the big strings in their own columns (no
// JSON escaping of payloads) and the remaining small fields as JSON in `data`.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE hubs (
    name TEXT PRIMARY KEY,
    maxSeq INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;

  CREATE TABLE instances (
    hub TEXT NOT NULL,
    instanceId TEXT NOT NULL,
    status INTEGER NOT NULL,
    createdAt INTEGER NOT NULL,
    completedAt INTEGER,
    input TEXT,
    output TEXT,
    customStatus TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (hub, instanceId)
  );
  CREATE INDEX instances_by_status ON instances (hub, status);
  CREATE INDEX instances_by_created ON instances (hub, createdAt, instanceId);
  CREATE INDEX instances_by_completed ON instances (hub, completedAt);

  CREATE TABLE history (
    hub TEXT NOT NULL,
    instanceId TEXT NOT NULL,
    idx INTEGER NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (hub, instanceId, idx)
  );

  CREATE TABLE messages (
    hub TEXT NOT NULL,
    seq INTEGER NOT NULL,
    instanceId TEXT NOT NULL,
    executionId TEXT,
    visibleAt INTEGER NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (hub, seq)
  );
  CREATE INDEX messages_by_instance ON messages (hub, instanceId);

  CREATE TABLE activities (
    hub TEXT NOT NULL,
    seq INTEGER NOT NULL,
    instanceId TEXT NOT NULL,
    executionId TEXT NOT NULL,
    taskId INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    input TEXT,
    tags TEXT,
    visibleAt INTEGER NOT NULL,
    abandonCount INTEGER,
    PRIMARY KEY (hub, seq)
  );
  CREATE INDEX activities_by_instance ON activities (hub, instanceId);
  `,
  // The dashboard filters by name and parent, and lists newest first.
  `
  ALTER TABLE instances ADD COLUMN name TEXT;
  ALTER TABLE instances ADD COLUMN parentInstanceId TEXT;
  UPDATE instances SET name = json_extract(data, '$.name'), parentInstanceId = json_extract(data, '$.parentInstanceId');
  CREATE INDEX instances_by_name ON instances (hub, name, createdAt);
  CREATE INDEX instances_by_parent ON instances (hub, parentInstanceId);
  `,
  // A hub's own retention policy (core/retention.ts) as JSON; no row: the scheduler's policy applies.
  `
  CREATE TABLE retention_policies (
    hub TEXT PRIMARY KEY,
    policy TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // Schedules (core/schedule.ts): the whole record as JSON; a rowid table, as the input can be large.
  `
  CREATE TABLE schedules (
    hub TEXT NOT NULL,
    scheduleId TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (hub, scheduleId)
  );
  `,
  // History in runs (history-runs.ts): a row holds the events of one append, idx its first event's
  // index. The rows before are runs of one, as the default says.
  `
  ALTER TABLE history ADD COLUMN eventCount INTEGER NOT NULL DEFAULT 1;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface PragmaOptions {
  synchronous: "full" | "normal";
  /** How long SQLite itself waits for another connection's lock, per attempt. */
  busyTimeoutMs: number;
}

export function configure(db: Database, options: PragmaOptions): void {
  // First, so switching a new database to WAL waits for another connection's lock like every write.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
  db.pragma("journal_mode = WAL");
  // FULL syncs the WAL on every commit (durable across power loss); NORMAL only at checkpoints
  // (a power cut may lose the last commits, but never corrupts the database).
  db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
  db.pragma("cache_size = -65536"); // KiB: 64 MiB of page cache
  db.pragma("temp_store = MEMORY");
  db.pragma("foreign_keys = OFF"); // referential cleanup is explicit (deleteHub, deleteInstance)
}

export function migrate(db: Database): void {
  // Up to date (the usual case, and always for the writer thread): no need for the write lock.
  if ((db.pragma("user_version", { simple: true }) as number) === SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock before reading the version, so two processes opening the same
  // fresh database cannot both run the migrations.
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this build supports (${SCHEMA_VERSION})`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
