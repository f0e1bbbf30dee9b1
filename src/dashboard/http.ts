// The dashboard's HTTP plumbing: answers with the security headers every page carries, request
// bodies read within a limit, and the same-origin rule for requests that change state.
import type { IncomingMessage, ServerResponse } from "http";
import { SchedulerError } from "../core/errors";
import { checkText, nulStringPath } from "../core/limits";
import { Html } from "./html";

/** No inline script or style, nothing from elsewhere, no framing, forms only to this origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, body: string | Buffer | Html, type: string, headers: Record<string, string | string[]> = {}): void {
  const payload = body instanceof Html ? body.text : body;
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(payload);
}

export function sendHtml(res: ServerResponse, status: number, body: Html): void {
  send(res, status, body, "text/html; charset=utf-8");
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), "application/json; charset=utf-8", headers);
}

/** 303 See Other: after a form post, the browser loads the target with GET. */
export function redirect(res: ServerResponse, location: string): void {
  send(res, 303, "", "text/plain; charset=utf-8", { Location: location });
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `The request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A URL whose decoded path segments or query hold U+0000, which the scheduler takes in no string: 400. */
export function checkUrlText(url: URL, segments: string[]): void {
  const nul = nulStringPath({ path: segments, query: [...url.searchParams] });
  if (nul !== undefined) throw new HttpError(400, `The URL's ${nul.startsWith("path") ? "path" : "query"} holds the character U+0000 (NUL), which the scheduler does not take`);
}

/** A form post's fields (application/x-www-form-urlencoded); repeated names keep every value. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new HttpError(415, "Send the form as application/x-www-form-urlencoded");
  const form = new URLSearchParams(await readBody(req));
  // U+0000 in a name or value: 400 (INVALID_ARGUMENT) naming the field, as for any string the scheduler keeps.
  for (const [name, value] of form) {
    checkText(name, "A form field's name");
    checkText(value, `The form field ${JSON.stringify(name)}`);
  }
  return form;
}

/**
 * Browsers say where a request comes from (Origin, Sec-Fetch-Site); one from another site must not
 * change anything (no cross-site form posts). Tools that send neither are not browsers and pass.
 */
export function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") throw new HttpError(403, "Requests that change state must come from the dashboard's own pages");
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new HttpError(403, "The request's Origin header is not a URL");
    }
    if (host !== req.headers.host) throw new HttpError(403, "Requests that change state must come from the dashboard's own pages");
  } else if (origin === "null") {
    throw new HttpError(403, "Requests that change state must come from the dashboard's own pages");
  }
}

/** The HTTP status for an engine error: the user's mistake (4xx) or ours to retry (503). */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (!(err instanceof SchedulerError)) return 500;
  switch (err.code) {
    case "INVALID_ARGUMENT": return 400;
    case "NOT_FOUND": return 404;
    case "ALREADY_EXISTS":
    case "FAILED_PRECONDITION": return 409;
    case "PERMISSION_DENIED": return 403;
    case "UNAUTHENTICATED": return 401;
    case "RESOURCE_EXHAUSTED": return 429;
    case "UNAVAILABLE": return 503;
    default: return 500;
  }
}
