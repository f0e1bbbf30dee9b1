// Input rules of the managed scheduler: instance ids, payload sizes and page sizes. Violations name the field and the limit.
import { SchedulerError, invalid } from "./errors";

export const MAX_INSTANCE_ID_LENGTH = 100;
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_TAGS_BYTES = 1000;

/** Rows per page of QueryInstances, ListInstanceIds and QueryEntities when the caller asks for none (or <= 0). */
export const DEFAULT_PAGE_SIZE = 100;
/**
 * The most rows one page of QueryInstances, ListInstanceIds or QueryEntities returns, whatever the
 * caller asks for: a larger request gets this many and a continuation token for the rest.
 */
export const MAX_PAGE_SIZE = 1000;
/** A page of instances with their payloads stops short of this many payload bytes (see trimPageToBytes). */
export const MAX_PAGE_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** A requested page size made usable: <= 0 or not a number means DEFAULT_PAGE_SIZE, above MAX_PAGE_SIZE means MAX_PAGE_SIZE. */
export function effectivePageSize(pageSize: number): number {
  if (!(pageSize > 0)) return DEFAULT_PAGE_SIZE;
  return Math.min(Math.floor(pageSize) || 1, MAX_PAGE_SIZE);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export function checkInstanceId(id: string | null | undefined, field = "instanceId"): string {
  if (!id) throw invalid(`${field} must not be empty`);
  if (id.length > MAX_INSTANCE_ID_LENGTH) throw invalid(`${field} is ${id.length} characters long; the limit is ${MAX_INSTANCE_ID_LENGTH}`);
  if (!PRINTABLE_ASCII.test(id)) throw invalid(`${field} '${printable(id)}' may contain only printable ASCII characters (0x20-0x7E)`);
  if (id.startsWith("@")) throw invalid(`${field} '${id}' must not start with '@': that prefix is reserved for entity ids`);
  return id;
}

/**
 * Whether a completion leaving a history of `length` events passes --max-history-events: only one
 * that does not end the orchestration can (the scheduler then fails it; a continued episode is left
 * to a work item of its own).
 */
export function passesHistoryLimit(length: number, limit: number, endsOrchestration: boolean): boolean {
  return length > limit && !endsOrchestration;
}

export function payloadBytes(value: string | null | undefined): number {
  return value ? Buffer.byteLength(value, "utf8") : 0;
}

/** A string the scheduler keeps may not hold U+0000 (see nulStringPath): INVALID_ARGUMENT naming the field. */
export function checkText(value: string | null | undefined, field: string): void {
  if (value && value.includes("\u0000")) throw invalid(`${field} holds the character U+0000 (NUL), which the scheduler does not keep`);
}

export function checkPayload(value: string | null | undefined, field: string, limit: number): void {
  checkText(value, field);
  const size = payloadBytes(value);
  if (size > limit) {
    throw new SchedulerError("RESOURCE_EXHAUSTED", `${field} is ${size} bytes; the limit is ${limit} bytes (--max-payload-bytes)`);
  }
}

export function checkTags(tags: Record<string, string> | null | undefined): void {
  if (!tags) return;
  let size = 0;
  for (const [k, v] of Object.entries(tags)) size += payloadBytes(k) + payloadBytes(v);
  if (size > MAX_TAGS_BYTES) throw new SchedulerError("RESOURCE_EXHAUSTED", `tags are ${size} bytes in total; the limit is ${MAX_TAGS_BYTES} bytes`);
}

/**
 * The first string in a decoded request (its fields, list items and map keys, at any depth) that
 * holds U+0000, by its path (e.g. "actions[1].scheduleTask.name"); undefined when there is none.
 * PostgreSQL's text cannot keep that character, and a request is taken or refused the same on every
 * store, so no store takes it. Bytes fields (Uint8Array) may hold anything.
 */
export function nulStringPath(value: unknown): string | undefined {
  return holdsNul(value) ? pathToNul(value, "") : undefined;
}

/** The check on the hot path: no paths built, nothing allocated but the key lists. */
function holdsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return false;
  if (Array.isArray(value)) return value.some(holdsNul);
  for (const key of Object.keys(value)) if (key.includes("\u0000") || holdsNul((value as Record<string, unknown>)[key])) return true;
  return false;
}

function pathToNul(value: unknown, path: string): string | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? path || "the request" : undefined;
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathToNul(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key.includes("\u0000")) return `a key of ${path || "the request"}`;
    const found = pathToNul((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
