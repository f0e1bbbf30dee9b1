// The PostgreSQL schema and its migrations. dts_schema holds how many migrations the database has
// had; opening applies the missing ones in one transaction under an advisory lock, so several nodes
// starting at once against a new database migrate it exactly once. To change the schema, append a
// migration (never edit a shipped one).
//
// The tables mirror SQLite's (sqlite-schema.ts). Instance ids sort and compare as bytes (COLLATE
// "C"), as in SQLite and JavaScript, so pages and prefix filters agree across stores and LIKE
// 'prefix%' can use the index whatever the database's own collation is.
import type { PoolClient } from "pg";

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE hubs (
    name TEXT COLLATE "C" PRIMARY KEY,
    max_seq BIGINT NOT NULL DEFAULT 0
  );

  CREATE TABLE instances (
    hub TEXT COLLATE "C" NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    status INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    data TEXT NOT NULL,
    name TEXT COLLATE "C",
    parent_instance_id TEXT COLLATE "C",
    PRIMARY KEY (hub, instance_id)
  );
  CREATE INDEX instances_by_status ON instances (hub, status);
  CREATE INDEX instances_by_created ON instances (hub, created_at, instance_id);
  CREATE INDEX instances_by_completed ON instances (hub, completed_at);
  CREATE INDEX instances_by_name ON instances (hub, name, created_at);
  CREATE INDEX instances_by_parent ON instances (hub, parent_instance_id);

  CREATE TABLE history (
    hub TEXT COLLATE "C" NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    idx INTEGER NOT NULL,
    event BYTEA NOT NULL,
    PRIMARY KEY (hub, instance_id, idx)
  );

  CREATE TABLE messages (
    hub TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    execution_id TEXT,
    visible_at BIGINT NOT NULL,
    event BYTEA NOT NULL,
    PRIMARY KEY (hub, seq)
  );
  CREATE INDEX messages_by_instance ON messages (hub, instance_id);

  CREATE TABLE activities (
    hub TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    input TEXT,
    tags TEXT,
    visible_at BIGINT NOT NULL,
    abandon_count INTEGER,
    PRIMARY KEY (hub, seq)
  );
  CREATE INDEX activities_by_instance ON activities (hub, instance_id);
  `,
  // A hub's own retention policy (core/retention.ts), as JSON.
  `
  CREATE TABLE retention_policies (
    hub TEXT COLLATE "C" PRIMARY KEY,
    policy TEXT NOT NULL
  );
  `,
  // Schedules (core/schedule.ts): the whole record as JSON, as in SQLite.
  `
  CREATE TABLE schedules (
    hub TEXT COLLATE "C" NOT NULL,
    schedule_id TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (hub, schedule_id)
  );
  `,
  // Cluster membership and partition ownership (postgres-leases.ts). Times are ms by the database's
  // clock, never a node's. A lease's epoch only grows: every acquisition takes epoch + 1, so
  // (hub, part, epoch) names one holding, and a write fenced on it fails once the lease moved.
  `
  CREATE TABLE cluster_nodes (
    node_id TEXT COLLATE "C" PRIMARY KEY,
    address TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    leaving BOOLEAN NOT NULL DEFAULT false
  );

  CREATE TABLE partition_leases (
    hub TEXT COLLATE "C" NOT NULL,
    part INTEGER NOT NULL,
    owner TEXT COLLATE "C",
    epoch BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (hub, part)
  );
  CREATE INDEX partition_leases_by_owner ON partition_leases (owner);
  `,
  // Partitions (core/partition.ts): a hub's count, fixed at creation (existing hubs keep 1, so all
  // their rows are partition 0); each instance row, message and activity carries its instance's
  // partition so one partition loads alone; the inbox holds messages between partitions, by the
  // receiving partition, until it applies them (and deletes them in that same commit).
  `
  ALTER TABLE hubs ADD COLUMN partitions INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE instances ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE activities ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX instances_by_part ON instances (hub, part, status);
  CREATE INDEX messages_by_part ON messages (hub, part, seq);
  CREATE INDEX activities_by_part ON activities (hub, part, seq);

  CREATE TABLE partition_inbox (
    hub TEXT COLLATE "C" NOT NULL,
    part INTEGER NOT NULL,
    id BIGSERIAL,
    message BYTEA NOT NULL,
    PRIMARY KEY (hub, part, id)
  );
  `,
];

/** Now in epoch ms by the database's clock (the statement's moment, not its transaction's): what lease times are compared with. */
export const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Any fixed number: every dts node takes the same transaction-scoped lock to migrate. */
const MIGRATION_LOCK = 0x64747331; // "dts1"

/** Brings the database to PG_SCHEMA_VERSION; refuses one that a newer build has migrated further. */
export async function migratePostgres(client: PoolClient): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS dts_schema (version INTEGER NOT NULL)");
    const row = (await client.query<{ version: number }>("SELECT version FROM dts_schema")).rows[0];
    const version = row?.version ?? 0;
    if (version > PG_SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this build supports (${PG_SCHEMA_VERSION})`);
    }
    for (let v = version; v < PG_SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v]);
    if (!row) await client.query("INSERT INTO dts_schema (version) VALUES ($1)", [PG_SCHEMA_VERSION]);
    else if (version !== PG_SCHEMA_VERSION) await client.query("UPDATE dts_schema SET version = $1", [PG_SCHEMA_VERSION]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
