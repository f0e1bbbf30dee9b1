// The emulator-compatible JSON API under /v1/taskhubs/… and /api/v1/taskhubs/…: the hub comes from
// the x-taskhub header, the caller is decided by DashboardIdentity (a bearer token or a session), changes obey the same-origin rule (tools
// that send no Origin pass), and every error is JSON with an HTTP status and a message that says
// what to change.
import type { IncomingMessage, ServerResponse } from "http";
import { DashboardIdentity } from "../caller";
import { checkSameOrigin, checkUrlText, HttpError, sendJson, statusOf } from "../http";
import { HubAccess } from "../hub-access";
import { ApiCall, ApiRoute, matchPath } from "./api-call";
import { ENTITY_ROUTES } from "./entity-routes";
import { ORCHESTRATION_ROUTES } from "./orchestration-routes";
import { Json, readJson } from "./request-body";
import { RETENTION_ROUTES } from "./retention-routes";
import { ARCHIVE_ROUTES } from "./archive-routes";
import { SCHEDULE_ROUTES } from "./schedule-routes";
import { workerJson } from "./shapes";
import { errorText, log } from "../../log/log";

const HUB_ROUTES: ApiRoute[] = [
  { method: "GET", path: "ping", access: "read", handle: (_a, c) => sendJson(c.res, 200, { taskHub: c.hub, status: "ok" }) },
  { method: "GET", path: "workers", access: "read", handle: (a, c) => sendJson(c.res, 200, { workers: a.workers(c.hub).map(workerJson) }) },
];

/** A request for the JSON API, told from its raw URL (before its path is decoded, which may fail). */
export function isApiUrl(rawUrl: string): boolean {
  return /^\/(?:api\/)?v1\/taskhubs(?:[/?]|$)/.test(rawUrl);
}

/** The JSON API's error answer: its status and a message that says what to change. */
export function sendApiError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message, status });
}

/** Literal paths come before parameterised ones in each list, so orchestrations/query is not an instance id. */
export const ROUTES: ApiRoute[] = [...HUB_ROUTES, ...ORCHESTRATION_ROUTES, ...ENTITY_ROUTES, ...RETENTION_ROUTES, ...ARCHIVE_ROUTES, ...SCHEDULE_ROUTES];

export class JsonApi {
  constructor(private readonly access: HubAccess, private readonly identity: DashboardIdentity) {}

  /** `segments` are the decoded path segments after …/taskhubs; `base` is the prefix up to and with taskhubs. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[], base: string): Promise<void> {
    try {
      checkUrlText(url, segments);
      await this.dispatch(req, res, url, segments, base);
    } catch (err) {
      const status = statusOf(err);
      if (status === 500) log.error(`dts: dashboard API: ${errorText(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendApiError(res, status, status === 500 ? "Something went wrong on the server; the details are in its log" : (err as Error).message);
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[], base: string): Promise<void> {
    const method = req.method ?? "GET";
    const fits = ROUTES.map((r) => ({ r, params: matchPath(r, segments) })).filter((m) => m.params !== undefined);
    const found = fits.find((m) => m.r.method === method);
    if (!found) {
      if (fits.length) {
        const allowed = [...new Set(fits.map((m) => m.r.method))].join(", ");
        res.setHeader("Allow", allowed);
        throw new HttpError(405, `${method} is not supported on ${url.pathname}; use ${allowed}`);
      }
      throw new HttpError(404, `No API route ${method} ${url.pathname}; the routes are listed in the README (Dashboard JSON API)`);
    }
    // Who first: a caller without a session or token learns nothing, not even which hubs exist.
    const caller = await this.identity.callerOf(req);
    const hub = this.hubOf(req);
    if (found.r.access === "write") checkSameOrigin(req);
    caller.check(found.r.access, hub);
    let body: Promise<Json | undefined> | undefined;
    const call: ApiCall = { req, res, url, hub, base, params: found.params!, body: () => (body ??= readJson(req)) };
    await found.r.handle(this.access, call);
  }

  private hubOf(req: IncomingMessage): string {
    const raw = req.headers["x-taskhub"];
    const hub = (Array.isArray(raw) ? raw[0] : raw ?? "").trim();
    if (!hub) throw new HttpError(400, "Send the task hub's name in the x-taskhub header (e.g. x-taskhub: default)");
    if (!this.access.has(hub)) throw new HttpError(404, `Task hub '${hub}' is not served here; served: ${this.access.hubNames().join(", ") || "none"}`);
    return hub;
  }
}
