// POST …/orchestrations/query: the clients' filter, paging and sort, run on the engine's listing.
// Filters the store indexes (status, created and completed times) go to the store and the common
// case (newest or oldest first) pages there; substring filters and other sort orders need a scan
// of what the store matched, which is fine at the sizes a development scheduler holds.
import { MAX_PAGE_SIZE } from "../../core/limits";
import { InstanceRecord, Status, STATUS_NAMES } from "../../core/model";
import { InstanceFilter } from "../../store/store";
import { HttpError } from "../http";
import { HubAccess } from "../hub-access";
import { Paging, parsePaging, parseSort, Sort, sortBy } from "./paging";
import { textFilter, timeRange } from "./query-filters";
import { isObject, Json, objectBody, pick } from "./request-body";
import { orchestrationJson, OrchestrationJson } from "./shapes";

const SORT_KEYS: Record<string, (r: InstanceRecord) => string | number> = {
  ORCHESTRATION_ID: (r) => r.instanceId,
  NAME: (r) => r.name,
  VERSION: (r) => r.version ?? "",
  CREATED_AT: (r) => r.createdAt,
  LAST_UPDATED_AT: (r) => r.lastUpdatedAt,
  START_AT: (r) => r.scheduledStartAt ?? r.createdAt,
  COMPLETED_AT: (r) => r.completedAt ?? 0,
  ORCHESTRATION_STATUS: (r) => STATUS_NAMES[r.status] ?? "",
  TAGS: (r) => tagText(r),
};

export interface OrchestrationQuery extends Paging {
  filter: InstanceFilter;
  /** What the store cannot filter on, checked on each record it returns. */
  match?: (r: InstanceRecord) => boolean;
  sort: Sort;
}

const BY_STATUS_NAME = new Map<string, Status>();
for (const [n, name] of Object.entries(STATUS_NAMES)) {
  const s = Number(n) as Status;
  BY_STATUS_NAME.set(name.toLowerCase(), s);
  BY_STATUS_NAME.set(name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), s);
}

/** ORCHESTRATION_STATUS_RUNNING, RUNNING, Running, ContinuedAsNew, CONTINUED_AS_NEW or the enum number. */
export function parseStatus(v: Json): Status {
  if (typeof v === "number" && STATUS_NAMES[v] !== undefined) return v as Status;
  const s = typeof v === "string" ? BY_STATUS_NAME.get(v.trim().toLowerCase().replace(/^orchestration_status_/, "")) : undefined;
  if (s === undefined) throw new HttpError(400, `Unknown orchestration status ${JSON.stringify(v)}: use ${Object.values(STATUS_NAMES).join(", ")} (or ORCHESTRATION_STATUS_RUNNING and so on)`);
  return s;
}

function tagText(r: InstanceRecord): string {
  return Object.entries(r.tags ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(", ");
}

function statuses(v: Json | undefined): Status[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = isObject(v) ? pick(v, "status", "statuses") : v;
  const items = Array.isArray(list) ? list : list === undefined ? [] : [list];
  const out = [...new Set(items.map(parseStatus))];
  return out.length ? out : undefined;
}

export function parseOrchestrationQuery(body: Json | undefined): OrchestrationQuery {
  const q = objectBody(body, `{"filter": {...}, "pagination": {"startIndex": 0, "count": 50}, "sort": [{"column": "CREATED_AT", "direction": "DESCENDING_SORT"}]}`, true);
  const f = q.filter === undefined || q.filter === null ? {} : q.filter;
  if (!isObject(f)) throw new HttpError(400, "filter must be an object");
  const filter: InstanceFilter = {};
  const st = statuses(f.orchestrationStatus);
  if (st) filter.statuses = st;
  const created = timeRange(f.createdAt, "filter.createdAt");
  if (created?.from !== undefined) filter.createdFrom = created.from;
  if (created?.to !== undefined) filter.createdTo = created.to;
  const completed = timeRange(f.completedAt, "filter.completedAt");
  if (completed?.from !== undefined) filter.completedFrom = completed.from;
  if (completed?.to !== undefined) filter.completedTo = completed.to;

  const checks: ((r: InstanceRecord) => boolean)[] = [];
  const id = textFilter(f, "orchestrationId") ?? textFilter(f, "instanceId");
  if (id) checks.push((r) => r.instanceId.toLowerCase().includes(id));
  const name = textFilter(f, "name");
  if (name) checks.push((r) => r.name.toLowerCase().includes(name));
  const version = textFilter(f, "version");
  if (version) checks.push((r) => (r.version ?? "").toLowerCase().includes(version));
  const tags = textFilter(f, "tags");
  if (tags) checks.push((r) => tagText(r).toLowerCase().includes(tags));
  const updated = timeRange(f.lastUpdatedAt, "filter.lastUpdatedAt");
  if (updated) checks.push((r) => (updated.from === undefined || r.lastUpdatedAt >= updated.from) && (updated.to === undefined || r.lastUpdatedAt <= updated.to));
  const start = timeRange(f.startAt, "filter.startAt");
  if (start) checks.push((r) => { const at = r.scheduledStartAt ?? r.createdAt; return (start.from === undefined || at >= start.from) && (start.to === undefined || at <= start.to); });

  const sort = parseSort(q, Object.keys(SORT_KEYS), { column: "CREATED_AT", descending: true });
  return {
    filter, ...parsePaging(q), sort,
    match: checks.length ? (r) => checks.every((c) => c(r)) : undefined,
  };
}

export interface OrchestrationQueryResult {
  orchestrations: OrchestrationJson[];
  totalCount: number;
  trivia: {
    earliestTimestamp?: string; latestTimestamp?: string;
    totalCount: number; completedCount: number; runningCount: number; failedCount: number; pendingCount: number;
  };
}

function trivia(counts: Map<Status, number>, earliest?: number, latest?: number): OrchestrationQueryResult["trivia"] {
  const n = (s: Status) => counts.get(s) ?? 0;
  let total = 0;
  for (const c of counts.values()) total += c;
  return {
    earliestTimestamp: earliest === undefined ? undefined : new Date(earliest).toISOString(),
    latestTimestamp: latest === undefined ? undefined : new Date(latest).toISOString(),
    totalCount: total, completedCount: n(Status.ORCHESTRATION_STATUS_COMPLETED), runningCount: n(Status.ORCHESTRATION_STATUS_RUNNING),
    failedCount: n(Status.ORCHESTRATION_STATUS_FAILED), pendingCount: n(Status.ORCHESTRATION_STATUS_PENDING),
  };
}

export async function runOrchestrationQuery(access: HubAccess, hub: string, q: OrchestrationQuery): Promise<OrchestrationQueryResult> {
  if (!q.match && q.sort.column === "CREATED_AT") {
    // The store pages this one itself, newest or oldest first.
    const page = await access.list(hub, q.filter, { newestFirst: q.sort.descending, offset: q.offset, limit: q.count });
    const counts = await access.counts(hub, q.filter);
    const oldest = (await access.list(hub, q.filter, { newestFirst: false, offset: 0, limit: 1 }))[0];
    const newest = (await access.list(hub, q.filter, { newestFirst: true, offset: 0, limit: 1 }))[0];
    const t = trivia(counts, oldest?.createdAt, newest?.createdAt);
    return { orchestrations: page.map(orchestrationJson), totalCount: t.totalCount, trivia: t };
  }
  const all: InstanceRecord[] = [];
  for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
    const batch = await access.list(hub, q.filter, { newestFirst: true, offset, limit: MAX_PAGE_SIZE });
    for (const r of batch) if (!q.match || q.match(r)) all.push(r);
    if (batch.length < MAX_PAGE_SIZE) break;
  }
  sortBy(all, SORT_KEYS[q.sort.column], q.sort.descending);
  const counts = new Map<Status, number>();
  let earliest: number | undefined;
  let latest: number | undefined;
  for (const r of all) {
    counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    earliest = earliest === undefined ? r.createdAt : Math.min(earliest, r.createdAt);
    latest = latest === undefined ? r.createdAt : Math.max(latest, r.createdAt);
  }
  return { orchestrations: all.slice(q.offset, q.offset + q.count).map(orchestrationJson), totalCount: all.length, trivia: trivia(counts, earliest, latest) };
}
