// Work-item filters (GetWorkItemsRequest.workItemFilters): which orchestrations, activities and
// entities a worker can run. A worker that sends none runs everything. Names and versions compare
// case-insensitively, as the .NET SDK groups them when it builds a filter from its registry.
import { pb } from "../proto";
import { invalid } from "./errors";

export type FilterKind = "orchestration" | "activity" | "entity";

/** Accepted names (lowercased) of one kind, each with its accepted versions (lowercased); undefined: any version. */
export type NameFilter = ReadonlyMap<string, ReadonlySet<string> | undefined>;

export type WorkFilter = Readonly<Record<FilterKind, NameFilter>>;

/** The key a name or version is compared by. */
export function filterKey(s: string | null | undefined): string {
  return (s ?? "").toLowerCase();
}

/**
 * The filter a worker asked for; undefined when it sent none, or one that names nothing (a worker
 * that accepted nothing would only hold a stream open). An entry without a name is INVALID_ARGUMENT.
 */
export function workFilter(req: pb.IWorkItemFilters | null | undefined): WorkFilter | undefined {
  if (!req) return undefined;
  const names = (field: string, list: { name?: string | null; versions?: string[] | null }[] | null | undefined): NameFilter => {
    const m = new Map<string, Set<string> | undefined>();
    for (const [i, f] of (list ?? []).entries()) {
      // A nameless entry matches nothing anyone can start: a mistake in the worker's filter, said at once.
      if (!f.name) throw invalid(`workItemFilters.${field}[${i}].name must not be empty: name what this worker runs, or send no filter to receive everything`);
      const name = filterKey(f.name);
      const versions = (f.versions ?? []).map(filterKey);
      const before = m.get(name);
      // The same name twice: its versions add up; an empty list (any version) wins.
      if (m.has(name) && before === undefined) continue;
      m.set(name, versions.length === 0 ? undefined : new Set([...(before ?? []), ...versions]));
    }
    return m;
  };
  const filter = { orchestration: names("orchestrations", req.orchestrations), activity: names("activities", req.activities), entity: names("entities", req.entities) };
  return filter.orchestration.size + filter.activity.size + filter.entity.size === 0 ? undefined : filter;
}

/** Whether a worker with filter `f` (undefined: no filter) may run work of this kind, name and version. */
export function accepts(f: WorkFilter | undefined, kind: FilterKind, name: string, version?: string): boolean {
  if (!f) return true;
  const byName = f[kind];
  const key = filterKey(name);
  if (!byName.has(key)) return false;
  const versions = byName.get(key);
  return !versions || kind === "entity" || versions.has(filterKey(version));
}

/** The filter as the dashboard shows it: `Name` or `Name@v1|v2` per accepted entry. */
export function describeFilter(f: WorkFilter | undefined): Record<FilterKind, string[]> | undefined {
  if (!f) return undefined;
  const list = (m: NameFilter) => [...m].map(([name, versions]) => (versions ? `${name}@${[...versions].join("|")}` : name));
  return { orchestration: list(f.orchestration), activity: list(f.activity), entity: list(f.entity) };
}
