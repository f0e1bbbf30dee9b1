// The orchestration list's state, all of it in the URL (so a link or a reload shows the same view):
// parsed from the query string into a store filter, and written back for links.
import { Status, STATUS_NAMES } from "../../core/model";
import { InstanceFilter } from "../../store/store";
import { HttpError } from "../http";

export const PAGE_SIZES = [25, 50, 100] as const;
export const REFRESH_SECONDS = [0, 2, 5, 10, 30] as const;

export interface ListQuery {
  statuses: Status[];
  name: string;
  /** Exact; blank: any. */
  version: string;
  prefix: string;
  /** "key=value". */
  tag: string;
  /** datetime-local values, read as UTC. */
  from: string;
  to: string;
  showSub: boolean;
  size: number;
  page: number;
  refresh: number;
}

const BY_NAME = new Map(Object.entries(STATUS_NAMES).map(([k, v]) => [v.toLowerCase(), Number(k) as Status]));

function utcMillis(value: string, field: string): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(ms)) throw new HttpError(400, `${field} must be a date and time, e.g. 2026-12-01T08:30`);
  return ms;
}

function oneOf<T extends number>(raw: string | null, allowed: readonly T[], fallback: T): T {
  const n = Number(raw);
  return (allowed as readonly number[]).includes(n) ? (n as T) : fallback;
}

/** "key=value" as a tag; a user error names the text (and `consequence`, e.g. "; nothing was created"). */
export function parseTag(text: string, consequence: string): { key: string; value: string } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new HttpError(400, `Tag '${text.trim()}' must be key=value, e.g. team=billing${consequence}`);
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

export function parseListQuery(q: URLSearchParams): ListQuery {
  const statuses: Status[] = [];
  for (const s of q.getAll("status").flatMap((v) => v.split(","))) {
    if (!s) continue;
    const status = BY_NAME.get(s.trim().toLowerCase());
    if (status === undefined) throw new HttpError(400, `Unknown status '${s}': use ${Object.values(STATUS_NAMES).join(", ")}`);
    if (!statuses.includes(status)) statuses.push(status);
  }
  const page = Math.max(1, Math.floor(Number(q.get("page"))) || 1);
  const query: ListQuery = {
    statuses, name: (q.get("name") ?? "").trim(), version: (q.get("version") ?? "").trim(), prefix: q.get("prefix") ?? "", tag: (q.get("tag") ?? "").trim(), from: q.get("from") ?? "", to: q.get("to") ?? "",
    showSub: q.get("sub") === "1", size: oneOf(q.get("size"), PAGE_SIZES, 25), page, refresh: oneOf(q.get("refresh"), REFRESH_SECONDS, 0),
  };
  filterOf(query); // rejects bad dates before anything is read
  return query;
}

export function filterOf(q: ListQuery): InstanceFilter {
  const f: InstanceFilter = {};
  if (q.statuses.length) f.statuses = q.statuses;
  if (q.name) f.name = q.name;
  if (q.version) f.version = q.version;
  if (q.prefix) f.instanceIdPrefix = q.prefix;
  if (q.tag) f.tag = parseTag(q.tag, "");
  const from = utcMillis(q.from, "Created from");
  const to = utcMillis(q.to, "Created to");
  if (from !== undefined) f.createdFrom = from;
  if (to !== undefined) f.createdTo = to;
  if (!q.showSub) f.topLevelOnly = true;
  return f;
}

/** The query string for `q` with some fields changed (defaults left out, so URLs stay short). */
export function listSearch(q: ListQuery, change: Partial<ListQuery> = {}): string {
  const v = { ...q, ...change };
  const p = new URLSearchParams();
  for (const s of v.statuses) p.append("status", STATUS_NAMES[s]);
  if (v.name) p.set("name", v.name);
  if (v.version) p.set("version", v.version);
  if (v.prefix) p.set("prefix", v.prefix);
  if (v.tag) p.set("tag", v.tag);
  if (v.from) p.set("from", v.from);
  if (v.to) p.set("to", v.to);
  if (v.showSub) p.set("sub", "1");
  if (v.size !== 25) p.set("size", String(v.size));
  if (v.page > 1) p.set("page", String(v.page));
  if (v.refresh) p.set("refresh", String(v.refresh));
  const text = p.toString();
  return text ? `?${text}` : "";
}
