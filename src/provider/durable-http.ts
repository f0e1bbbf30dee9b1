// Durable HTTP (`context.df.callHttp`) as the Durable extension runs it: each request is the built-in
// activity "BuiltIn::HttpActivity" (its input the request, its result the response), so the response
// is stored in history and a replay never repeats the request. With the asynchronous pattern the
// orchestration polls a 202's Location: durable-functions' CallHttpWithPollingTask numbers a timer
// and a follow-up request itself, and the host (action-plan.ts) schedules them with those ids, as the
// extension's CallHttpAsync loop does. This module has the wire shapes, the polling rules and the
// request itself.
import { TokenSourceCache } from "./credentials";

/** The extension's reserved activity name: no app function can have it ("::" is not allowed in names). */
export const HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity";

/** The extension's httpSettings.defaultAsyncRequestSleepTimeMilliseconds default. */
export const DEFAULT_HTTP_POLL_MS = 30_000;

/** .NET's HttpClient default, which the extension keeps when a request gives no timeout. */
export const DEFAULT_HTTP_TIMEOUT_MS = 100_000;

/** The activity's input: durable-functions' DurableHttpRequest (plus `timeout`, as the .NET type has). */
export interface DurableHttpRequestJson {
  method: string;
  uri: string;
  headers?: Record<string, string | string[]>;
  content?: string;
  tokenSource?: { resource?: string; kind?: string };
  asynchronousPatternEnabled?: boolean;
  /** Milliseconds, or a .NET TimeSpan ("00:00:30"). */
  timeout?: number | string;
}

/** The activity's result, read by durable-functions as a DurableHttpResponse. */
export interface DurableHttpResponseJson {
  statusCode: number;
  headers: Record<string, string | string[]>;
  content: string;
}

/** The request of a CallHttp action (`{actionType: 8, httpRequest}`). */
export function requestOfAction(httpRequest: unknown): DurableHttpRequestJson {
  const r = (httpRequest ?? {}) as Partial<DurableHttpRequestJson>;
  return {
    method: typeof r.method === "string" && r.method ? r.method : "GET",
    uri: String(r.uri ?? ""),
    ...(r.headers ? { headers: r.headers } : {}),
    ...(typeof r.content === "string" ? { content: r.content } : {}),
    ...(r.tokenSource ? { tokenSource: r.tokenSource } : {}),
    asynchronousPatternEnabled: r.asynchronousPatternEnabled !== false,
    ...(r.timeout !== undefined ? { timeout: r.timeout } : {}),
  };
}

/** A header's value, names compared case-insensitively (as DurableHttpResponse.getHeader does). */
export function headerOf(headers: Record<string, string | string[]> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : headers[key];
  return Array.isArray(v) ? v[0] : v;
}

export interface PollStep {
  /** When the timer before the next request fires. */
  fireAt: number;
  /** The next request: GET the Location. */
  request: DurableHttpRequestJson;
}

/**
 * What follows a response under the asynchronous pattern: undefined when the polling is over (not a
 * 202 with a Location, as CallHttpWithPollingTask decides), else the timer and the next request.
 * The delay is Retry-After in seconds (or an HTTP date), else the host's default sleep.
 */
export function nextPoll(resultJson: string | undefined, current: DurableHttpRequestJson, now: number, defaultSleepMs: number): PollStep | undefined {
  let response: Partial<DurableHttpResponseJson> | undefined;
  try {
    response = resultJson ? JSON.parse(resultJson) : undefined;
  } catch {
    return undefined;
  }
  const location = headerOf(response?.headers, "Location");
  if (response?.statusCode !== 202 || !location) return undefined;
  return { fireAt: now + retryAfterMs(headerOf(response.headers, "Retry-After"), now, defaultSleepMs), request: pollRequest(current, location) };
}

function retryAfterMs(value: string | undefined, now: number, defaultMs: number): number {
  if (value === undefined || value.trim() === "") return defaultMs;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? defaultMs : Math.max(0, at - now);
}

/**
 * The extension's poll request: GET the Location (resolved against the request's URL when relative)
 * with the same headers and token source, minus x-functions-key (a function key rarely opens a
 * status endpoint).
 */
export function pollRequest(current: DurableHttpRequestJson, location: string): DurableHttpRequestJson {
  let uri = location;
  try {
    uri = new URL(location, current.uri).toString();
  } catch {
    // left as it is: the request then fails and the orchestration sees why
  }
  const headers = current.headers ? Object.fromEntries(Object.entries(current.headers).filter(([k]) => k.toLowerCase() !== "x-functions-key")) : undefined;
  const { content: _content, ...rest } = current;
  return { ...rest, method: "GET", uri, ...(headers ? { headers } : {}) };
}

export interface DurableHttpOptions {
  /** Bearer tokens for `tokenSource` requests, by scope. */
  tokens?: TokenSourceCache;
}

/**
 * Makes one request. A response of any status is a result; not getting one (no connection, timeout,
 * a token that cannot be had) throws, and the activity fails with that error.
 */
export async function executeDurableHttp(request: DurableHttpRequestJson, options: DurableHttpOptions = {}): Promise<DurableHttpResponseJson> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(request.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, String(one));
  }
  const resource = request.tokenSource?.resource;
  if (resource) {
    if (!options.tokens) throw new Error(`callHttp to ${request.uri} asks for a token for '${resource}' but this host has no credential for it`);
    headers.set("Authorization", `Bearer ${await options.tokens.forScope(scopeOf(resource)).getToken()}`);
  }
  const timeoutMs = timeoutOf(request.timeout);
  const method = request.method.toUpperCase();
  try {
    // The timeout covers the body too: a response is only a result once it has been read.
    const res = await fetch(request.uri, { method, headers, body: request.content, signal: AbortSignal.timeout(timeoutMs) });
    const content = await res.text();
    const out: Record<string, string | string[]> = {};
    res.headers.forEach((value, name) => {
      out[name] = value;
    });
    const cookies = res.headers.getSetCookie();
    if (cookies.length > 1) out["set-cookie"] = cookies;
    return { statusCode: res.status, headers: out, content };
  } catch (err) {
    throw new Error(`callHttp ${method} ${request.uri} failed: ${describeFetchError(err, timeoutMs)}`);
  }
}

/**
 * The scope for a ManagedIdentityTokenSource resource: Azure AD v2 wants "<resource>/.default"
 * (the extension passes the resource the same way through Azure.Identity).
 */
export function scopeOf(resource: string): string {
  if (resource.endsWith("/.default")) return resource;
  return resource.endsWith("/") ? `${resource}.default` : `${resource}/.default`;
}

function timeoutOf(t: number | string | undefined): number {
  if (typeof t === "number" && t > 0) return t;
  if (typeof t === "string") {
    // .NET TimeSpan text: [d.]hh:mm:ss[.fffffff]
    const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(t.trim());
    if (m) {
      const ms = ((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60_000 + Number(m[4]) * 1000;
      if (ms > 0) return ms;
    }
  }
  return DEFAULT_HTTP_TIMEOUT_MS;
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return `no response within ${timeoutMs} ms`;
  const cause = e?.cause;
  if (cause?.message) return cause.code ? `${cause.code}: ${cause.message}` : cause.message;
  return e?.message ?? String(err);
}
