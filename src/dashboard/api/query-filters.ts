// The filter fields the clients' query bodies share: text as {"value": "x"} (or a bare string),
// matched case-insensitively, and time ranges as {"start", "end"}.
import { HttpError } from "../http";
import { isObject, Json, JsonObject, optString, optTime } from "./request-body";

/** The filter's text, lower-cased, or undefined when absent or empty. */
export function textFilter(f: JsonObject, field: string): string | undefined {
  const v = f[field];
  if (v === undefined || v === null) return undefined;
  const text = isObject(v) ? optString(v.value, `filter.${field}.value`) : optString(v, `filter.${field}`);
  return text ? text.toLowerCase() : undefined;
}

/** A time range {"start": …, "end": …}: start inclusive, end exclusive (returned as an inclusive bound). */
export function timeRange(v: Json | undefined, field: string): { from?: number; to?: number } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new HttpError(400, `${field} must be an object like {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}`);
  const from = optTime(v.start, `${field}.start`);
  const end = optTime(v.end, `${field}.end`);
  return { from, to: end === undefined ? undefined : end - 1 };
}
