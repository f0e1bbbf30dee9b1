// Reading and checking the JSON API's request bodies. Every refusal names the field and what it
// must hold, so a client author can fix the call from the message alone.
import type { IncomingMessage } from "http";
import { nulStringPath } from "../../core/limits";
import { HttpError, readBody } from "../http";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The body parsed, or undefined when there is none. Only JSON is accepted (a missing Content-Type too: tools often omit it). */
export async function readJson(req: IncomingMessage): Promise<Json | undefined> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type && type !== "application/json" && !type.endsWith("+json")) throw new HttpError(415, `Send the body as application/json (got ${type})`);
  const text = await readBody(req);
  if (!text.trim()) return undefined;
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch (err) {
    throw new HttpError(400, `The request body is not valid JSON: ${(err as Error).message}`);
  }
  const nul = nulStringPath(body);
  if (nul !== undefined) throw new HttpError(400, `${nul === "the request" ? "The body" : nul} holds the character U+0000 (NUL), which the scheduler does not take`);
  return body;
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The body as an object; an absent body is an empty one when `optional`. */
export function objectBody(body: Json | undefined, what: string, optional = false): JsonObject {
  if (body === undefined && optional) return {};
  if (!isObject(body)) throw new HttpError(400, `The body must be a JSON object: ${what}`);
  return body;
}

/** The first of several spellings of one field that is present (clients disagree on case). */
export function pick(o: JsonObject, ...names: string[]): Json | undefined {
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

export function optString(v: Json | undefined, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new HttpError(400, `${field} must be a string`);
  return v;
}

export function optBoolean(v: Json | undefined, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new HttpError(400, `${field} must be true or false`);
  return v;
}

export function optInteger(v: Json | undefined, field: string, min: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new HttpError(400, `${field} must be an integer of at least ${min}`);
  return v;
}

/** An RFC 3339 date and time (e.g. 2026-12-01T08:30:00Z) as epoch milliseconds. */
export function optTime(v: Json | undefined, field: string): number | undefined {
  const text = optString(v, field);
  if (text === undefined || text === "") return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new HttpError(400, `${field} must be an RFC 3339 date and time, e.g. 2026-12-01T08:30:00Z`);
  return ms;
}

export function optStringMap(v: Json | undefined, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== "string")) throw new HttpError(400, `${field} must be an object of string values, e.g. {"team": "billing"}`);
  return Object.keys(v).length ? (v as Record<string, string>) : undefined;
}

/**
 * A payload as the engine keeps it (JSON text). A string is taken as JSON text already serialized
 * (the clients send input that way) and must parse; any other JSON value is serialized here.
 */
export function optPayload(v: Json | undefined, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") return JSON.stringify(v);
  if (!v.trim()) return undefined;
  try {
    JSON.parse(v);
  } catch {
    throw new HttpError(400, `${field} is a string but not JSON text; send serialized JSON (e.g. "\\"hello\\"" or "{\\"a\\":1}") or a JSON value`);
  }
  return v;
}

/** Instance ids: a JSON array of strings, or an object holding one under instanceIds / InstanceIds. */
export function idList(body: Json | undefined, what: string): string[] {
  const list = isObject(body) ? pick(body, "instanceIds", "InstanceIds", "ids") : body;
  if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== "string" || !x)) {
    throw new HttpError(400, `Send the instance ids to ${what} as a non-empty JSON array of strings (or {"instanceIds": [...]})`);
  }
  return [...new Set(list as string[])];
}
