// Read semantics shared by both stores: which instances a filter matches, the orders pages follow,
// page sizes and how a page of rows becomes a result. The memory store calls these directly; the
// SQLite store mirrors matchesFilter in SQL (sqlite-query.ts) and uses the rest as is.
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, effectivePageSize, payloadBytes } from "../core/limits";
import { InstanceRecord, Status, isTerminal } from "../core/model";
import { Cursor, encodeContinuationToken } from "./continuation";
import { InstanceFilter, InstancePage } from "./store";

/**
 * Page sizes live in core/limits.ts (QueryEntities pages with the same rules): pageSize <= 0 (or not
 * a number) means DEFAULT_PAGE_SIZE (100); more than MAX_PAGE_SIZE (1000) means MAX_PAGE_SIZE, and
 * the rest follows through the continuation token / last key.
 */
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, effectivePageSize };

/**
 * Filter semantics: every present criterion must hold. An empty statuses list and an empty prefix
 * mean "no criterion" (that is how unset repeated/string fields arrive over gRPC). Time bounds are
 * inclusive; a completed-time bound excludes instances that have no completedAt. Entity records
 * (ids starting with '@') share the instance table but never match: filters select orchestrations.
 */
export function matchesFilter(r: InstanceRecord, f: InstanceFilter): boolean {
  if (r.instanceId.startsWith("@")) return false;
  if (f.statuses && f.statuses.length > 0 && !f.statuses.includes(r.status)) return false;
  if (f.createdFrom !== undefined && !(r.createdAt >= f.createdFrom)) return false;
  if (f.createdTo !== undefined && !(r.createdAt <= f.createdTo)) return false;
  if (f.completedFrom !== undefined && !(r.completedAt !== undefined && r.completedAt >= f.completedFrom)) return false;
  if (f.completedTo !== undefined && !(r.completedAt !== undefined && r.completedAt <= f.completedTo)) return false;
  if (f.instanceIdPrefix && !r.instanceId.startsWith(f.instanceIdPrefix)) return false;
  if (f.name !== undefined && r.name !== f.name) return false;
  if (f.version !== undefined && (r.version ?? "") !== f.version) return false;
  if (f.parentInstanceId !== undefined && r.parentInstanceId !== f.parentInstanceId) return false;
  if (f.topLevelOnly && r.parentInstanceId !== undefined) return false;
  if (f.tag && r.tags?.[f.tag.key] !== f.tag.value) return false;
  return true;
}

/** Whether load() must return the instance: it is not terminal, or it has messages waiting. */
export function needsLoading(r: InstanceRecord, hasMessages: boolean): boolean {
  return !isTerminal(r.status) || hasMessages;
}

/** The statuses load() always returns, for stores that select by status. */
export const NON_TERMINAL_STATUSES: readonly Status[] = Object.values(Status).filter(
  (v): v is Status => typeof v === "number" && !isTerminal(v),
);

/**
 * Orders strings by Unicode code point, which is how SQLite's BINARY collation orders UTF-8 text.
 * Plain `<` compares UTF-16 code units and puts astral characters (surrogate pairs) before
 * U+E000..U+FFFF; both stores must page in the same order, so ids are compared with this instead.
 */
export function compareIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Moves surrogates (0xD800..0xDFFF) above 0xE000..0xFFFF, keeping everything else in place.
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** The order queryInstances pages in: (createdAt, instanceId). */
export function compareByCreated(a: Cursor, b: Cursor): number {
  return a.createdAt - b.createdAt || compareIds(a.instanceId, b.instanceId);
}

/** The order listInstances pages in. */
export function compareForListing(newestFirst: boolean): (a: Cursor, b: Cursor) => number {
  return newestFirst ? (a, b) => compareByCreated(b, a) : compareByCreated;
}

/** A listing's offset and limit made safe: whole numbers, the limit at most MAX_PAGE_SIZE. */
export function listingWindow(offset: number, limit: number): { offset: number; limit: number } {
  return { offset: Math.max(0, Math.floor(offset) || 0), limit: Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit) || DEFAULT_PAGE_SIZE)) };
}

/** A record without its payloads, as listings return it. */
export function withoutPayloads(r: InstanceRecord): InstanceRecord {
  const { input: _input, output: _output, customStatus: _customStatus, ...rest } = r;
  return rest;
}

/**
 * Turns the rows a store fetched for one page into the result. Stores fetch pageSize + 1 rows in
 * order: the extra row only tells that another page exists, which keeps the last page token-free.
 */
export function toInstancePage(rows: InstanceRecord[], pageSize: number): InstancePage {
  if (rows.length <= pageSize) return { instances: rows };
  const instances = rows.slice(0, pageSize);
  const last = instances[instances.length - 1];
  return { instances, continuationToken: encodeContinuationToken({ createdAt: last.createdAt, instanceId: last.instanceId }) };
}

/**
 * A page cut short once its payloads (input, output, custom status) pass maxBytes, so a page of
 * large instances stays a sane response; at least one row is kept, and the token resumes after the
 * last row kept.
 */
export function trimPageToBytes(page: InstancePage, maxBytes: number): InstancePage {
  let total = 0;
  for (let i = 0; i < page.instances.length; i++) {
    const r = page.instances[i];
    total += payloadBytes(r.input) + payloadBytes(r.output) + payloadBytes(r.customStatus);
    if (total > maxBytes && i > 0) {
      const instances = page.instances.slice(0, i);
      const last = instances[i - 1];
      return { instances, continuationToken: encodeContinuationToken({ createdAt: last.createdAt, instanceId: last.instanceId }) };
    }
  }
  return page;
}

/** Like toInstancePage for listInstanceIds: `last` is set only when another page follows. */
export function toIdPage(ids: string[], pageSize: number): { ids: string[]; last?: string } {
  if (ids.length <= pageSize) return { ids };
  const page = ids.slice(0, pageSize);
  return { ids: page, last: page[page.length - 1] };
}

/**
 * findInstanceIds: limit <= 0 means no limit. Internal only (purge by filter, in batches of 500): its
 * ids never reach a client, which sees only the purged count; client-facing reads use effectivePageSize.
 */
export function effectiveLimit(limit: number): number {
  return limit > 0 ? Math.floor(limit) || 1 : Infinity;
}
