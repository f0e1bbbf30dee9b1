// The dashboard's routes: pages (GET), form actions (POST, same origin only), the history download,
// the emulator-compatible JSON API (api/json-api.ts), deep links and sign-in (sign-in/). Every request
// but assets and sign-in asks DashboardIdentity for its caller first; a page without one goes to sign-in.
import type { IncomingMessage, ServerResponse } from "http";
import { isTerminal } from "../core/model";
import { isApiUrl, JsonApi, sendApiError } from "./api/json-api";
import { bulkAction, DONE_MESSAGES, INSTANCE_ACTIONS, jsonField, parseNewOrchestration } from "./actions";
import { Caller, DashboardIdentity, SignInRequired } from "./caller";
import { SCRIPT, STYLESHEET } from "./assets";
import { eventView } from "./history-view";
import { HubAccess } from "./hub-access";
import { metricsRegistry } from "./metrics";
import { Registry } from "prom-client";
import { html } from "./html";
import { checkSameOrigin, checkUrlText, HttpError, readForm, redirect, send, sendHtml, sendJson, statusOf } from "./http";
import { hubPath, page } from "./layout";
import { entitiesPage, entityPage, entityPath } from "./pages/entities";
import { confirmPage, EMPTY_FORM, newOrchestrationPage, NewOrchestrationForm } from "./pages/forms";
import { hubsPage } from "./pages/hubs";
import { InstanceView, instancePage } from "./pages/instance";
import { filterOf, listSearch, parseListQuery } from "./pages/list-query";
import { instancePath, orchestrationsPage } from "./pages/orchestrations";
import { workersPage } from "./pages/workers";
import { SignInRoutes } from "./sign-in/sign-in-routes";
import { errorText, log } from "../log/log";
import { policyFromForm, retentionPage } from "./pages/retention";
import { EMPTY_SCHEDULE_FORM, NewScheduleForm, schedulesPage } from "./pages/schedules";
import { parseScheduleBody } from "./api/schedule-routes";

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Decoded path segments (ids may hold '/', sent as %2F). */
  parts: string[];
}

function decodeParts(pathname: string): string[] {
  return pathname.split("/").filter((p) => p !== "").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new HttpError(400, "The path is not valid percent-encoding");
    }
  });
}

export class DashboardRoutes {
  private readonly api: JsonApi;

  private readonly metrics: Registry;

  constructor(private readonly access: HubAccess, private readonly identity: DashboardIdentity, private readonly signIn: SignInRoutes, counters?: Registry) {
    this.metrics = counters ? Registry.merge([metricsRegistry(access), counters]) : metricsRegistry(access);
    this.api = new JsonApi(access, identity);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let r: Request | undefined;
    try {
      const url = new URL(req.url ?? "/", "http://dashboard.invalid");
      r = { req, res, url, parts: decodeParts(url.pathname) };
      await this.route(r);
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private async route(r: Request): Promise<void> {
    const { req, res, parts, url } = r;
    const method = req.method ?? "GET";
    if (method === "GET" && parts[0] === "assets") {
      if (parts[1] === "app.css") return send(res, 200, STYLESHEET, "text/css; charset=utf-8", { "Cache-Control": "max-age=300" });
      if (parts[1] === "app.js") return send(res, 200, SCRIPT, "text/javascript; charset=utf-8", { "Cache-Control": "max-age=300" });
      throw new HttpError(404, "No such asset");
    }
    if (parts[0] === "auth" && parts.length === 2 && (await this.signIn.handle(req, res, parts[1], url))) return;
    // The JSON API, under both prefixes the clients use (the emulator's REST port and its dashboard's /api).
    if (parts[0] === "v1" && parts[1] === "taskhubs") return this.api.handle(req, res, url, parts.slice(2), "/v1/taskhubs");
    if (parts[0] === "api" && parts[1] === "v1" && parts[2] === "taskhubs") return this.api.handle(req, res, url, parts.slice(3), "/api/v1/taskhubs");
    checkUrlText(url, parts);
    if (method === "GET" && parts.join("/") === "favicon.ico") return send(res, 204, "", "image/x-icon");
    // Probes for a supervisor or load balancer: no sign-in, and nothing in them but a reason.
    if (method === "GET" && parts.length === 1 && (parts[0] === "healthz" || parts[0] === "readyz")) {
      const reason = parts[0] === "healthz" ? this.access.unhealthy() : this.access.notReady();
      return send(res, reason ? 503 : 200, reason ? `${reason}\n` : "ok\n", "text/plain; charset=utf-8", { "Cache-Control": "no-store" });
    }
    const caller = await this.identity.callerOf(req);
    if (method === "GET" && parts.join("/") === "metrics") {
      caller.check("metrics", "*");
      return send(res, 200, await this.metrics.metrics(), this.metrics.contentType);
    }
    if (method === "GET" && parts.length === 0) return sendHtml(res, 200, await hubsPage(this.access, caller));
    if (method === "GET" && parts[0] === "switch") {
      const target = url.searchParams.get("hub") ?? "";
      return redirect(res, target.startsWith("/hubs/") ? target : "/");
    }
    // Deep links of the managed service's portal: /subscriptions/<s>/schedulers/<x>/taskhubs/<hub>/orchestrations[/<id>].
    if (method === "GET" && parts[0] === "subscriptions" && parts[2] === "schedulers" && parts[4] === "taskhubs" && parts[5]) {
      return redirect(res, parts[7] !== undefined ? instancePath(parts[5], parts[7]) : hubPath(parts[5], "/orchestrations"));
    }
    if (parts[0] !== "hubs" || parts[1] === undefined) throw new HttpError(404, "No such page");
    const hub = parts[1];
    if (!this.access.has(hub)) throw new HttpError(404, `Task hub '${hub}' is not served here`);
    const rest = parts.slice(2);
    if (method === "GET") {
      caller.check("read", hub);
      return this.get(r, caller, hub, rest);
    }
    if (method === "POST") {
      checkSameOrigin(req);
      caller.check("write", hub);
      return this.post(r, caller, hub, rest, await readForm(req));
    }
    throw new HttpError(405, `${method} is not supported here`);
  }

  private async get({ res, url }: Request, caller: Caller, hub: string, rest: string[]): Promise<void> {
    const q = url.searchParams;
    const done = DONE_MESSAGES[q.get("done") ?? ""];
    const [section, id, sub] = rest;
    if (section === undefined) return redirect(res, hubPath(hub, "/orchestrations"));
    if (section === "orchestrations" && id === undefined) return sendHtml(res, 200, await orchestrationsPage(this.access, caller, hub, parseListQuery(q), done && (q.get("n") ? `${done} (${q.get("n")})` : done)));
    if (section === "orchestrations" && sub === undefined) {
      const rec = await this.access.instance(hub, id);
      if (!rec) throw new HttpError(404, `Orchestration instance '${id}' not found in task hub '${hub}'`);
      const view = (["timeline", "history", "sequence"] as const).find((v) => v === q.get("view")) ?? "timeline";
      return sendHtml(res, 200, await instancePage(this.access, caller, hub, rec, view as InstanceView, Math.max(1, Number(q.get("page")) || 1), done));
    }
    if (section === "orchestrations" && sub === "history.json") return this.download(res, hub, id);
    if (section === "new" && id === undefined) return sendHtml(res, 200, newOrchestrationPage(this.access, caller, hub, EMPTY_FORM));
    if (section === "entities" && id === undefined) return sendHtml(res, 200, entitiesPage(this.access, caller, hub, q.get("prefix") ?? "", q.get("after") || undefined));
    if (section === "entities" && sub === undefined) {
      const e = this.access.entity(hub, id);
      if (!e) throw new HttpError(404, `Entity '${id}' not found in task hub '${hub}'`);
      return sendHtml(res, 200, entityPage(this.access, caller, hub, e, done));
    }
    if (section === "workers" && id === undefined) return sendHtml(res, 200, workersPage(this.access, caller, hub));
    if (section === "retention" && id === undefined) return sendHtml(res, 200, retentionPage(this.access, caller, hub, done));
    if (section === "schedules" && id === undefined) return sendHtml(res, 200, schedulesPage(this.access, caller, hub, EMPTY_SCHEDULE_FORM, done));
    throw new HttpError(404, "No such page");
  }

  private async download(res: ServerResponse, hub: string, id: string): Promise<void> {
    const rec = await this.access.instance(hub, id);
    const history = await this.access.history(hub, id);
    if (!rec || !history) throw new HttpError(404, `Orchestration instance '${id}' not found in task hub '${hub}'`);
    const file = `${id.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100) || "instance"}-history.json`;
    sendJson(res, 200, { taskHub: hub, instanceId: id, name: rec.name, executionId: rec.executionId, events: history.map(eventView) }, { "Content-Disposition": `attachment; filename="${file}"` });
  }

  private async post({ res, url }: Request, caller: Caller, hub: string, rest: string[], form: URLSearchParams): Promise<void> {
    const [section, id, action] = rest;
    if (section === "orchestrations" && id === undefined) return this.create(res, caller, hub, form);
    if (section === "bulk" && id === undefined) return this.bulk(res, url, caller, hub, form);
    if (section === "retention" && id === undefined) {
      try {
        await this.access.setRetention(hub, policyFromForm(form));
        return redirect(res, `${hubPath(hub, "/retention")}?done=saved`);
      } catch (err) {
        // The form again, with what was entered and why it was refused.
        return sendHtml(res, statusOf(err), retentionPage(this.access, caller, hub, undefined, (err as Error).message, form));
      }
    }
    if (section === "orchestrations" && action === "purge") {
      const rec = await this.access.instance(hub, id);
      if (!rec) throw new HttpError(404, `Orchestration instance '${id}' not found in task hub '${hub}'`);
      if (form.get("confirm") !== "yes") {
        return sendHtml(res, 200, confirmPage(this.access, caller, hub, `Purge ${id} and its history? This cannot be undone.`, `${instancePath(hub, id)}/purge`, []));
      }
      if (!isTerminal(rec.status)) throw new HttpError(409, `Orchestration instance '${id}' is still running; terminate it before purging it`);
      await this.access.purge(hub, [id]);
      return redirect(res, `${hubPath(hub, "/orchestrations")}?done=purged`);
    }
    if (section === "orchestrations" && id !== undefined && action !== undefined && INSTANCE_ACTIONS[action]) {
      try {
        const out = await INSTANCE_ACTIONS[action](this.access, hub, id, form);
        return redirect(res, `${instancePath(hub, out.instanceId ?? id)}?done=${out.done}`);
      } catch (err) {
        // The instance page again, with why the action was refused.
        const rec = await this.access.instance(hub, id);
        if (!rec) throw err;
        return sendHtml(res, statusOf(err), await instancePage(this.access, caller, hub, rec, "timeline", 1, undefined, (err as Error).message));
      }
    }
    if (section === "entities" && id !== undefined && action === "signal") {
      const operation = (form.get("operation") ?? "").trim();
      if (!operation) throw new HttpError(400, "Give the operation's name; no signal was sent");
      await this.access.signalEntity(hub, id, operation, jsonField(form.get("input"), "The input"));
      return redirect(res, `${entityPath(hub, id)}?done=signaled`);
    }
    if (section === "schedules") return this.schedule(res, caller, hub, id, action, form);
    if (section === "entities" && id !== undefined && action === "delete") {
      await this.access.deleteEntity(hub, id);
      return redirect(res, `${hubPath(hub, "/entities")}?done=deleted`);
    }
    throw new HttpError(404, "No such action");
  }

  private async create(res: ServerResponse, caller: Caller, hub: string, form: URLSearchParams): Promise<void> {
    const fields: NewOrchestrationForm = {
      name: form.get("name") ?? "", instanceId: form.get("instanceId") ?? "", input: form.get("input") ?? "", startAt: form.get("startAt") ?? "", tags: form.get("tags") ?? "",
    };
    try {
      const id = await this.access.start(hub, parseNewOrchestration(fields));
      redirect(res, `${instancePath(hub, id)}?done=started`);
    } catch (err) {
      sendHtml(res, statusOf(err), newOrchestrationPage(this.access, caller, hub, fields, (err as Error).message));
    }
  }

  /** Creates a schedule from the form, or pauses, resumes or deletes one; a refusal shows the page again with why. */
  private async schedule(res: ServerResponse, caller: Caller, hub: string, id: string | undefined, action: string | undefined, form: URLSearchParams): Promise<void> {
    const fields = Object.fromEntries(Object.keys(EMPTY_SCHEDULE_FORM).map((k) => [k, form.get(k) ?? ""])) as unknown as NewScheduleForm;
    try {
      if (id === undefined) {
        // The form's times are UTC without a zone (datetime-local).
        const utc = (t: string) => (t.trim() && !/([zZ]|[+-]\d\d:\d\d)$/.test(t.trim()) ? `${t.trim()}Z` : t.trim());
        await this.access.createSchedule(hub, parseScheduleBody({ ...fields, interval: fields.every, startAt: utc(fields.startAt), endAt: utc(fields.endAt), input: fields.input.trim() }));
        return redirect(res, `${hubPath(hub, "/schedules")}?done=created`);
      }
      if (action === "pause") await this.access.pauseSchedule(hub, id);
      else if (action === "resume") await this.access.resumeSchedule(hub, id);
      else if (action === "delete") await this.access.deleteSchedule(hub, id);
      else throw new HttpError(404, "No such action");
      return redirect(res, `${hubPath(hub, "/schedules")}?done=${action === "pause" ? "paused" : action === "resume" ? "resumed" : "deleted"}`);
    } catch (err) {
      if (statusOf(err) >= 500) throw err;
      sendHtml(res, statusOf(err), schedulesPage(this.access, caller, hub, id === undefined ? fields : EMPTY_SCHEDULE_FORM, undefined, `${(err as Error).message}${id === undefined ? "; nothing was created" : ""}`));
    }
  }

  private async bulk(res: ServerResponse, url: URL, caller: Caller, hub: string, form: URLSearchParams): Promise<void> {
    const action = form.get("action") ?? "";
    if (action !== "terminate" && action !== "purge") throw new HttpError(400, `Unknown bulk action '${action}': use terminate or purge`);
    const query = parseListQuery(url.searchParams);
    const all = form.get("scope") === "all";
    const ids = all ? await this.access.matchingIds(hub, filterOf(query)) : form.getAll("id");
    if (ids.length === 0) throw new HttpError(400, "Select at least one instance (or choose all matching the filter)");
    if (form.get("confirm") !== "yes") {
      const fields: [string, string][] = [["action", action], ["scope", all ? "all" : "selected"], ...(all ? [] : ids.map((id): [string, string] => ["id", id]))];
      return sendHtml(res, 200, confirmPage(this.access, caller, hub, `${action === "purge" ? "Purge" : "Terminate"} ${ids.length} instance(s)? ${action === "purge" ? "Only finished ones are purged; this cannot be undone." : "Only running, pending or suspended ones are terminated."}`,
        `${hubPath(hub, "/bulk")}${listSearch(query)}`, fields));
    }
    const n = await bulkAction(this.access, hub, action, ids);
    redirect(res, `${hubPath(hub, "/orchestrations")}${listSearch(query) || "?"}${listSearch(query) ? "&" : ""}done=${action === "purge" ? "purged" : "terminated"}&n=${n}`);
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const status = statusOf(err);
    if (err instanceof SignInRequired && !res.headersSent && req.method === "GET" && req.url !== "/metrics") {
      // A page: off to sign-in and back here; with sign-in off, a page saying how to turn it on.
      if (this.signIn.enabled) return redirect(res, `/auth/sign-in?${new URLSearchParams({ return: req.url ?? "/" }).toString()}`);
      return sendHtml(res, 401, this.signIn.notice("Sign-in is off", html`<p>Auth is on, and the dashboard's pages need a signed-in person: start <code>dts serve</code> with
<code>--dashboard-client-id &lt;id&gt;</code>, a client registered at your identity provider with the redirect URI <code>&lt;this dashboard&gt;/auth/callback</code>.</p>
<p>Until then the JSON API (<code>/api/v1/taskhubs/…</code>) and <code>/metrics</code> accept <code>Authorization: Bearer &lt;access token&gt;</code>.</p>`));
    }
    const message = status === 500 ? "Something went wrong on the server; the details are in its log" : (err as Error).message;
    if (status === 500) log.error(`dts: dashboard: ${errorText(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A JSON API request refused before it reached the API (its path did not decode): JSON too.
    if (isApiUrl(req.url ?? "")) return sendApiError(res, status, message);
    sendHtml(res, status, page({ title: "Error", hubs: this.access.hubNames(), section: "hubs", error: message }, html`<p><a href="/">Task hubs</a></p>`));
  }
}
