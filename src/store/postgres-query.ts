// The PostgreSQL mirror of query.ts's matchesFilter (as sqlite-query.ts is SQLite's), and the
// column lists that read rows back under the record fields' names (rows.ts converts them).
import { InstanceFilter } from "./store";

export const PG_INSTANCE_COLUMNS =
  'instance_id AS "instanceId", status, created_at AS "createdAt", completed_at AS "completedAt", input, output, custom_status AS "customStatus", data';
/** A listing's columns: no payloads (NULLs in their place, so toInstance reads the row as usual). */
export const PG_LISTED_COLUMNS =
  'instance_id AS "instanceId", status, created_at AS "createdAt", completed_at AS "completedAt", NULL AS input, NULL AS output, NULL AS "customStatus", data';
export const PG_ACTIVITY_COLUMNS =
  'seq, instance_id AS "instanceId", execution_id AS "executionId", task_id AS "taskId", name, version, input, tags, visible_at AS "visibleAt", abandon_count AS "abandonCount"';

export interface PgFilter {
  /** " AND ..." conditions to append after "WHERE hub = $1". */
  where: string;
  /** Their values, numbered from $2 on. */
  params: unknown[];
}

/** Keep in step with matchesFilter (query.ts): the shared store suite checks the stores agree. */
export function filterToPg(f: InstanceFilter): PgFilter {
  // Entities share the table; orchestration filters never match them (as in matchesFilter).
  let where = " AND instance_id NOT LIKE '@%'";
  const params: unknown[] = [];
  /** The placeholder of a new parameter ($1 is the hub). */
  const p = (value: unknown) => `$${params.push(value) + 1}`;
  if (f.statuses && f.statuses.length > 0) where += ` AND status = ANY(${p(f.statuses)}::int[])`;
  if (f.createdFrom !== undefined) where += ` AND created_at >= ${p(f.createdFrom)}`;
  if (f.createdTo !== undefined) where += ` AND created_at <= ${p(f.createdTo)}`;
  // NULL compares as unknown, so these also exclude instances without completedAt, as in matchesFilter.
  if (f.completedFrom !== undefined) where += ` AND completed_at >= ${p(f.completedFrom)}`;
  if (f.completedTo !== undefined) where += ` AND completed_at <= ${p(f.completedTo)}`;
  if (f.instanceIdPrefix) where += ` AND instance_id LIKE ${p(likePrefix(f.instanceIdPrefix))}`;
  if (f.name !== undefined) where += ` AND name = ${p(f.name)}`;
  // The version lives in the record's JSON, as the tags do.
  if (f.version !== undefined) where += ` AND COALESCE(data::jsonb ->> 'version', '') = ${p(f.version)}`;
  if (f.parentInstanceId !== undefined) where += ` AND parent_instance_id = ${p(f.parentInstanceId)}`;
  // ->> with the key as a parameter matches any key (dots, quotes) literally.
  if (f.tag) where += ` AND (data::jsonb -> 'tags' ->> ${p(f.tag.key)}) = ${p(f.tag.value)}`;
  if (f.topLevelOnly) where += " AND parent_instance_id IS NULL";
  return { where, params };
}

/** A LIKE pattern matching strings that start with `prefix` (backslash is LIKE's default escape). */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, "\\$&") + "%";
}
