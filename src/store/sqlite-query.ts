// The SQL mirror of query.ts's matchesFilter, and a cache of the filtered statements.
// Each combination of present criteria ("shape") gets its own SQL text containing only those
// conditions, so SQLite can plan each with the right index (a catch-all "? IS NULL OR ..." statement
// could not seek on any of them). A statement is prepared on the first use of its shape and reused.
import type { Database, Statement } from "better-sqlite3";
import { InstanceFilter } from "./store";

export interface SqlFilter {
  /** Which criteria are present, e.g. "sCp"; part of the statement cache key. */
  shape: string;
  /** " AND ..." conditions to append after "WHERE hub = ?". */
  where: string;
  params: unknown[];
}

/** Keep in step with matchesFilter (query.ts): the shared test suite checks both stores agree. */
export function filterToSql(f: InstanceFilter): SqlFilter {
  let shape = "";
  // Entities share the table; orchestration filters never match them (as in matchesFilter).
  let where = " AND instanceId NOT GLOB '@*'";
  const params: unknown[] = [];
  const add = (key: string, condition: string, value: unknown) => {
    shape += key;
    where += ` AND ${condition}`;
    params.push(value);
  };
  if (f.statuses && f.statuses.length > 0) add("s", "status IN (SELECT value FROM json_each(?))", JSON.stringify(f.statuses));
  if (f.createdFrom !== undefined) add("c", "createdAt >= ?", f.createdFrom);
  if (f.createdTo !== undefined) add("C", "createdAt <= ?", f.createdTo);
  // NULL compares as unknown, so these also exclude instances without completedAt, as in matchesFilter.
  if (f.completedFrom !== undefined) add("d", "completedAt >= ?", f.completedFrom);
  if (f.completedTo !== undefined) add("D", "completedAt <= ?", f.completedTo);
  if (f.instanceIdPrefix) add("p", "instanceId GLOB ?", globPrefix(f.instanceIdPrefix));
  if (f.name !== undefined) add("n", "name = ?", f.name);
  // The version lives in the record's JSON, as the tags do: a scan of what the other conditions leave.
  if (f.version !== undefined) add("v", "COALESCE(json_extract(data, '$.version'), '') = ?", f.version);
  if (f.parentInstanceId !== undefined) add("a", "parentInstanceId = ?", f.parentInstanceId);
  // Any key (dots, quotes) matches literally through json_each, which no JSON path could promise.
  if (f.tag) {
    shape += "g";
    where += " AND EXISTS (SELECT 1 FROM json_each(data, '$.tags') WHERE key = ? AND value = ?)";
    params.push(f.tag.key, f.tag.value);
  }
  if (f.topLevelOnly) {
    shape += "t";
    where += " AND parentInstanceId IS NULL";
  }
  return { shape, where, params };
}

/**
 * A GLOB pattern matching strings that start with `prefix`. GLOB is case-sensitive (like startsWith)
 * and, unlike LIKE, lets SQLite seek the index on the literal leading part. Its metacharacters are
 * escaped as one-character classes.
 */
export function globPrefix(prefix: string): string {
  return prefix.replace(/[*?[]/g, "[$&]") + "*";
}

export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  /** The statement cached under `key`, prepared from sql() on first use (plucking the first column if asked). */
  get(key: string, sql: () => string, pluck = false): Statement {
    let statement = this.statements.get(key);
    if (!statement) {
      statement = this.db.prepare(sql());
      if (pluck) statement.pluck();
      this.statements.set(key, statement);
    }
    return statement;
  }
}
