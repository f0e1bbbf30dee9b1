// POST …/entities/query: filter by name, key and last change, page and sort, as the Go CLI sends it.
// Entities live in memory (the hub's hot state), so this reads them all and filters here.
import { MAX_PAGE_SIZE } from "../../core/limits";
import { HttpError } from "../http";
import { EntityView, HubAccess } from "../hub-access";
import { isObject, Json, JsonObject, objectBody, optBoolean, optInteger, optString } from "./request-body";
import { entityJson, entityParts } from "./shapes";
import { timeRange } from "./orchestration-query";

const DEFAULT_COUNT = 100;

const SORT_KEYS: Record<string, (e: EntityView) => string | number> = {
  NAME: (e) => entityParts(e.rec.instanceId).name,
  KEY: (e) => entityParts(e.rec.instanceId).key,
  LAST_MODIFIED_AT: (e) => e.rec.lastUpdatedAt,
};

export interface EntityQuery {
  match: (e: EntityView) => boolean;
  sort: { column: string; descending: boolean };
  offset: number;
  count: number;
}

function value(f: JsonObject, field: string): string | undefined {
  const v = f[field];
  if (v === undefined || v === null) return undefined;
  return (isObject(v) ? optString(v.value, `filter.${field}.value`) : optString(v, `filter.${field}`)) || undefined;
}

export function parseEntityQuery(body: Json | undefined): EntityQuery {
  const q = objectBody(body, `{"filter": {"name": {"value": "counter"}}, "pagination": {"startIndex": 0, "count": 50}}`, true);
  const f = q.filter ?? {};
  if (!isObject(f)) throw new HttpError(400, "filter must be an object");
  const name = value(f, "name")?.toLowerCase();
  const key = value(f, "key")?.toLowerCase();
  const prefix = value(f, "nameStartsWith")?.toLowerCase();
  const excluded = f.excludeNameStartsWith ?? [];
  if (!Array.isArray(excluded)) throw new HttpError(400, `filter.excludeNameStartsWith must be a list like [{"value": "dafx-"}]`);
  const without = excluded.map((x, i) => (isObject(x) ? optString(x.value, `filter.excludeNameStartsWith[${i}].value`) : optString(x, `filter.excludeNameStartsWith[${i}]`)) ?? "").filter(Boolean).map((x) => x.toLowerCase());
  const modified = timeRange(f.lastModifiedAt, "filter.lastModifiedAt");
  optBoolean(q.fetchTotalCount, "fetchTotalCount"); // the total is always sent

  const p = q.pagination ?? {};
  if (!isObject(p)) throw new HttpError(400, `pagination must be an object like {"startIndex": 0, "count": 50}`);
  const sorts = q.sort === undefined || q.sort === null ? [] : Array.isArray(q.sort) ? q.sort : [q.sort];
  const first = sorts[0];
  if (first !== undefined && !isObject(first)) throw new HttpError(400, `sort must be a list like [{"column": "NAME", "direction": "ASCENDING_SORT"}]`);
  const column = (optString(first?.column, "sort[0].column") ?? "NAME").toUpperCase();
  if (!SORT_KEYS[column]) throw new HttpError(400, `Unknown sort column '${column}': use ${Object.keys(SORT_KEYS).join(", ")}`);
  const direction = (optString(first?.direction, "sort[0].direction") ?? "ASCENDING_SORT").toUpperCase();
  return {
    offset: optInteger(p.startIndex, "pagination.startIndex", 0) ?? 0,
    count: Math.min(optInteger(p.count, "pagination.count", 1) ?? DEFAULT_COUNT, MAX_PAGE_SIZE),
    sort: { column, descending: direction.startsWith("DESC") },
    match: (e) => {
      const parts = entityParts(e.rec.instanceId);
      const n = parts.name.toLowerCase();
      if (name && !n.includes(name)) return false;
      if (key && !parts.key.toLowerCase().includes(key)) return false;
      if (prefix && !n.startsWith(prefix)) return false;
      if (without.some((w) => n.startsWith(w))) return false;
      if (modified?.from !== undefined && e.rec.lastUpdatedAt < modified.from) return false;
      if (modified?.to !== undefined && e.rec.lastUpdatedAt > modified.to) return false;
      return true;
    },
  };
}

/** Every entity of the hub, the engine's pages followed to the end. */
function allEntities(access: HubAccess, hub: string): EntityView[] {
  const out: EntityView[] = [];
  let after: string | undefined;
  for (;;) {
    const page = access.entities(hub, undefined, after, MAX_PAGE_SIZE);
    out.push(...page.entities);
    if (page.last === undefined || page.entities.length === 0) return out;
    after = page.last;
  }
}

export function runEntityQuery(access: HubAccess, hub: string, q: EntityQuery) {
  const matched = allEntities(access, hub).filter(q.match);
  const key = SORT_KEYS[q.sort.column];
  const sign = q.sort.descending ? -1 : 1;
  matched.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
  return { entities: matched.slice(q.offset, q.offset + q.count).map(entityJson), totalCount: matched.length };
}
