// How records sit in SQLite rows: the columns and the fixed statements (prepared once per
// connection); the conversions between records and rows are in rows.ts.
import Database from "better-sqlite3";
import { NON_TERMINAL_STATUSES } from "./query";

export const INSTANCE_COLUMNS = "instanceId, status, createdAt, completedAt, input, output, customStatus, data";
/** A listing's columns: no payloads (NULLs in their place, so toInstance reads the row as usual). */
export const LISTED_COLUMNS = "instanceId, status, createdAt, completedAt, NULL AS input, NULL AS output, NULL AS customStatus, data";
export const ACTIVITY_COLUMNS = "seq, instanceId, executionId, taskId, name, version, input, tags, visibleAt, abandonCount";
export const nonTerminal = NON_TERMINAL_STATUSES.join(", ");

/** Every fixed statement, prepared once when the store opens. */
export function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    listHubs: p("SELECT name FROM hubs ORDER BY name").pluck(),
    hubExists: p("SELECT 1 FROM hubs WHERE name = ?").pluck(),
    hubMaxSeq: p("SELECT maxSeq FROM hubs WHERE name = ?").pluck(),
    createHub: p("INSERT OR IGNORE INTO hubs (name) VALUES (?)"),
    raiseMaxSeq: p("UPDATE hubs SET maxSeq = max(maxSeq, ?) WHERE name = ?"),
    deleteHub: ["instances", "history", "messages", "activities", "retention_policies", "schedules"]
      .map((table) => p(`DELETE FROM ${table} WHERE hub = ?`))
      .concat(p("DELETE FROM hubs WHERE name = ?")),

    putInstance: p(
      `INSERT INTO instances (hub, ${INSTANCE_COLUMNS}, name, parentInstanceId) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hub, instanceId) DO UPDATE SET status = excluded.status, createdAt = excluded.createdAt,
         completedAt = excluded.completedAt, input = excluded.input, output = excluded.output,
         customStatus = excluded.customStatus, data = excluded.data, name = excluded.name, parentInstanceId = excluded.parentInstanceId`,
    ),
    // The same write when the indexed columns stay as they are: it leaves the five indexes alone
    // (a third of the upsert's cost), and changes no row when any of them differs.
    putInstanceUnindexed: p(
      `UPDATE instances SET input = ?, output = ?, customStatus = ?, data = ?
       WHERE hub = ? AND instanceId = ? AND status = ? AND createdAt = ? AND completedAt IS ? AND name IS ? AND parentInstanceId IS ?`,
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

    // Runs follow one another without gaps (appendHistory enforces it), so the last run's end is the length.
    historyEnd: p("SELECT idx + eventCount FROM history WHERE hub = ? AND instanceId = ? ORDER BY idx DESC LIMIT 1").pluck(),
    getHistory: p("SELECT eventCount, event FROM history WHERE hub = ? AND instanceId = ? ORDER BY idx"),
    insertHistory: p("INSERT INTO history (hub, instanceId, idx, eventCount, event) VALUES (?, ?, ?, ?, ?)"),
    deleteHistory: p("DELETE FROM history WHERE hub = ? AND instanceId = ?"),

    putMessage: p(
      "INSERT OR REPLACE INTO messages (hub, seq, instanceId, executionId, visibleAt, event) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    deleteMessage: p("DELETE FROM messages WHERE hub = ? AND seq = ?"),
    loadMessages: p("SELECT seq, instanceId, executionId, visibleAt, event FROM messages WHERE hub = ? ORDER BY seq"),

    putActivity: p(`INSERT OR REPLACE INTO activities (hub, ${ACTIVITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteActivity: p("DELETE FROM activities WHERE hub = ? AND seq = ?"),
    loadActivities: p(`SELECT ${ACTIVITY_COLUMNS} FROM activities WHERE hub = ? ORDER BY seq`),

    putRetention: p("INSERT OR REPLACE INTO retention_policies (hub, policy) VALUES (?, ?)"),
    deleteRetention: p("DELETE FROM retention_policies WHERE hub = ?"),
    getRetention: p("SELECT policy FROM retention_policies WHERE hub = ?").pluck(),
    putSchedule: p("INSERT OR REPLACE INTO schedules (hub, scheduleId, data) VALUES (?, ?, ?)"),
    deleteSchedule: p("DELETE FROM schedules WHERE hub = ? AND scheduleId = ?"),
    loadSchedules: p("SELECT data FROM schedules WHERE hub = ? ORDER BY scheduleId").pluck(),
  };
}
