// Reading a Durable HTTP management API request (query values, JSON bodies, content types) and the
// shape of its answers (errors as the extension sends them, gRPC codes as HTTP statuses).
import * as grpc from "@grpc/grpc-js";
import * as http from "http";
import { toTimestamp } from "../core/events";
import { effectivePageSize } from "../core/limits";
import { pb } from "../proto";
import { parseRuntimeStatuses } from "./status-payload";

export interface ApiRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialized unless a Buffer or undefined. */
  body?: unknown;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const bool = (v: string | null, dflt: boolean) => (v === null ? dflt : v.toLowerCase() === "true");

export function error(status: number, message: string): ApiResponse {
  // A JSON string: durable-functions' client puts the body of some errors (rewind's 404/412) straight
  // into an Error message, and the extension answers those with a string too.
  return { status, body: message };
}

export function grpcToHttp(code: grpc.status): number {
  switch (code) {
    case grpc.status.NOT_FOUND: return 404;
    case grpc.status.INVALID_ARGUMENT: return 400;
    case grpc.status.ALREADY_EXISTS: return 409;
    case grpc.status.FAILED_PRECONDITION: return 412;
    case grpc.status.RESOURCE_EXHAUSTED: return 413;
    case grpc.status.UNAUTHENTICATED: return 401;
    case grpc.status.PERMISSION_DENIED: return 403;
    case grpc.status.UNIMPLEMENTED: return 501;
    case grpc.status.UNAVAILABLE: return 503;
    case grpc.status.DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

/** An entity's scheduler id: @name@key, the name lower-cased as durable-functions' EntityId does. */
export function entityId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

/** The body as JSON text (undefined when empty); 400 when it is not JSON. */
export function jsonBody(body: Buffer): string | undefined {
  const text = body.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    throw new HttpError(400, "Invalid JSON content");
  }
}

/**
 * 415 for a state-changing request whose body is not declared JSON: an HTML form or a "simple"
 * cross-site request (text/plain, form-urlencoded, multipart) cannot send application/json, so this
 * keeps a web page the user visits from starting or terminating their orchestrations. An empty body
 * without a Content-Type passes (durable-functions' client and `curl -X POST` send terminate so);
 * an empty body declared as a form does not (a form without fields).
 */
export function nonJsonRefusal(req: ApiRequest): ApiResponse | undefined {
  const declared = header(req, "content-type");
  if (declared === undefined ? req.body.length === 0 : isJsonType(declared)) return undefined;
  const got = declared === undefined ? "a body without a Content-Type" : `Content-Type '${declared}'`;
  return error(415, `The Durable management API accepts only JSON request bodies, and this request has ${got}. Send the body as JSON with the header 'Content-Type: application/json' (or send no body).`);
}

/** application/json or a +json type (application/merge-patch+json...), parameters such as charset aside. */
export function isJsonType(contentType: string): boolean {
  const type = contentType.split(";")[0].trim().toLowerCase();
  return type === "application/json" || /^[^\s/]+\/[^\s/]+\+json$/.test(type);
}

export function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

export function int(v: string | null, name: string): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `${name} must be a whole number, got '${v}'`);
  return n;
}

/** ?top= as a page size: 100 when absent or 0, at most 1000 (MAX_PAGE_SIZE); the continuation token gets the rest. */
export function pageSize(q: URLSearchParams): number {
  return effectivePageSize(int(q.get("top"), "top") ?? 0);
}

export function seconds(v: string | null): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!isFinite(n) || n < 0) throw new HttpError(400, `timeout must be a number of seconds, got '${v}'`);
  return n;
}

export function time(v: string | null, name: string): pb.google.protobuf.ITimestamp | undefined {
  if (v === null || v === "") return undefined;
  const ms = Date.parse(v);
  if (isNaN(ms)) throw new HttpError(400, `${name} must be a date and time (ISO 8601), got '${v}'`);
  return toTimestamp(ms);
}

export function statuses(v: string | null): pb.OrchestrationStatus[] | undefined {
  try {
    return parseRuntimeStatuses(v);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}
