// Paging and sort as the clients' query bodies give them: {"pagination": {"startIndex", "count"}}
// and {"sort": [{"column", "direction"}]}, the first sort entry deciding the order.
import { MAX_PAGE_SIZE } from "../../core/limits";
import { HttpError } from "../http";
import { isObject, JsonObject, optInteger, optString } from "./request-body";

const DEFAULT_COUNT = 100;

export interface Paging {
  offset: number;
  count: number;
}

export interface Sort {
  column: string;
  descending: boolean;
}

export function parsePaging(q: JsonObject): Paging {
  const p = q.pagination ?? {};
  if (!isObject(p)) throw new HttpError(400, `pagination must be an object like {"startIndex": 0, "count": 50}`);
  return {
    offset: optInteger(p.startIndex, "pagination.startIndex", 0) ?? 0,
    count: Math.min(optInteger(p.count, "pagination.count", 1) ?? DEFAULT_COUNT, MAX_PAGE_SIZE),
  };
}

export function parseSort(q: JsonObject, columns: string[], fallback: Sort): Sort {
  const sorts = q.sort === undefined || q.sort === null ? [] : Array.isArray(q.sort) ? q.sort : [q.sort];
  const first = sorts[0];
  if (first !== undefined && !isObject(first)) throw new HttpError(400, `sort must be a list like [{"column": "${fallback.column}", "direction": "DESCENDING_SORT"}]`);
  const column = optString(first?.column, "sort[0].column")?.toUpperCase() ?? fallback.column;
  if (!columns.includes(column)) throw new HttpError(400, `Unknown sort column '${column}': use ${columns.join(", ")}`);
  const direction = optString(first?.direction, "sort[0].direction")?.toUpperCase();
  if (direction === undefined) return { column, descending: fallback.descending };
  if (!/^(ASC|DESC)(ENDING)?(_SORT)?$/.test(direction)) throw new HttpError(400, `Unknown sort direction '${direction}': use ASCENDING_SORT or DESCENDING_SORT`);
  return { column, descending: direction.startsWith("DESC") };
}

/** Sorts in place by key (stable, so ties keep the order they came in). */
export function sortBy<T>(items: T[], key: (item: T) => string | number, descending: boolean): T[] {
  const sign = descending ? -1 : 1;
  return items.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}
