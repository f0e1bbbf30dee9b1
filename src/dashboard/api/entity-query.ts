// POST …/entities/query: filter by name, key and last change, page and sort, as the Go CLI sends it.
// Entities live in memory (the hub's hot state), so this reads them all and filters here.
import { MAX_PAGE_SIZE } from "../../core/limits";
import { HttpError } from "../http";
import { EntityView, HubAccess } from "../hub-access";
import { Paging, parsePaging, parseSort, Sort, sortBy } from "./paging";
import { textFilter, timeRange } from "./query-filters";
import { isObject, Json, objectBody, optBoolean, optString } from "./request-body";
import { entityJson, entityParts } from "./shapes";

const SORT_KEYS: Record<string, (e: EntityView) => string | number> = {
  NAME: (e) => entityParts(e.rec.instanceId).name,
  KEY: (e) => entityParts(e.rec.instanceId).key,
  LAST_MODIFIED_AT: (e) => e.rec.lastUpdatedAt,
};

export interface EntityQuery extends Paging {
  match: (e: EntityView) => boolean;
  sort: Sort;
}

export function parseEntityQuery(body: Json | undefined): EntityQuery {
  const q = objectBody(body, `{"filter": {"name": {"value": "counter"}}, "pagination": {"startIndex": 0, "count": 50}}`, true);
  const f = q.filter ?? {};
  if (!isObject(f)) throw new HttpError(400, "filter must be an object");
  const name = textFilter(f, "name");
  const key = textFilter(f, "key");
  const prefix = textFilter(f, "nameStartsWith");
  const excluded = f.excludeNameStartsWith ?? [];
  if (!Array.isArray(excluded)) throw new HttpError(400, `filter.excludeNameStartsWith must be a list like [{"value": "dafx-"}]`);
  const without = excluded.map((x, i) => (isObject(x) ? optString(x.value, `filter.excludeNameStartsWith[${i}].value`) : optString(x, `filter.excludeNameStartsWith[${i}]`)) ?? "").filter(Boolean).map((x) => x.toLowerCase());
  const modified = timeRange(f.lastModifiedAt, "filter.lastModifiedAt");
  optBoolean(q.fetchTotalCount, "fetchTotalCount"); // the total is always sent

  return {
    ...parsePaging(q),
    sort: parseSort(q, Object.keys(SORT_KEYS), { column: "NAME", descending: false }),
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
  sortBy(matched, SORT_KEYS[q.sort.column], q.sort.descending);
  return { entities: matched.slice(q.offset, q.offset + q.count).map(entityJson), totalCount: matched.length };
}
