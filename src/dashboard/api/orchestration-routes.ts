// The JSON API's orchestration routes (under …/taskhubs/orchestrations): query, metadata, payloads,
// history per execution, create, restart, purge and the history-event actions.
import { isTerminal } from "../../core/model";
import { HttpError, send, sendJson } from "../http";
import { HubAccess } from "../hub-access";
import { ApiCall, ApiRoute } from "./api-call";
import { applyHistoryAction, applyHistoryActions, parseHistoryAction } from "./history-actions";
import { parseOrchestrationQuery, runOrchestrationQuery } from "./orchestration-query";
import { idList, isObject, objectBody, optBoolean, optPayload, optString, optStringMap, optTime, pick } from "./request-body";
import { historyEventJson, orchestrationJson, payloadsJson } from "./shapes";

async function existing(access: HubAccess, c: ApiCall) {
  const rec = await access.instance(c.hub, c.params.id);
  if (!rec) throw new HttpError(404, `Orchestration instance '${c.params.id}' not found in task hub '${c.hub}'`);
  // Entities share the instance records; they have their own routes.
  if (rec.entity) throw new HttpError(404, `'${c.params.id}' is an entity, not an orchestration: use entities/${encodeURIComponent(c.params.id)}`);
  return rec;
}

/**
 * The history as a bare array (what the Go CLI decodes) or wrapped as {"history": [...]} (what the
 * VS Code extension reads). Nothing in their requests tells them apart but Go's default User-Agent;
 * `?shape=array` or `?shape=object` says it outright.
 */
function historyShape(c: ApiCall): "array" | "object" {
  const asked = c.url.searchParams.get("shape");
  if (asked === "array" || asked === "object") return asked;
  if (asked !== null) throw new HttpError(400, `shape must be array or object, not '${asked}'`);
  return /^Go-http-client\//.test(c.req.headers["user-agent"] ?? "") ? "array" : "object";
}

async function create(access: HubAccess, c: ApiCall): Promise<void> {
  const b = objectBody(await c.body(), `{"name": "MyOrchestration", "instanceId": "optional", "input": "{\\"a\\":1}"}`);
  const name = optString(b.name, "name")?.trim();
  if (!name) throw new HttpError(400, "name (the orchestration's name) must not be empty; nothing was created");
  const id = await access.start(c.hub, {
    name,
    instanceId: optString(b.instanceId, "instanceId")?.trim() || undefined,
    version: optString(b.version, "version") || undefined,
    input: optPayload(b.input, "input"),
    scheduledStartAt: optTime(pick(b, "scheduledStartTimestamp", "scheduledStartTime"), "scheduledStartTimestamp"),
    tags: optStringMap(b.tags, "tags"),
  });
  // The Go CLI reads the new id from the Location header's last segment.
  sendJson(c.res, 201, { instanceId: id }, { Location: `${c.base}/orchestrations/${encodeURIComponent(id)}` });
}

async function purgeOne(access: HubAccess, c: ApiCall): Promise<void> {
  const rec = await existing(access, c);
  if (!isTerminal(rec.status)) throw new HttpError(409, `Orchestration instance '${rec.instanceId}' is still running; terminate it before purging it`);
  await access.purge(c.hub, [rec.instanceId]);
  send(c.res, 204, "", "text/plain; charset=utf-8");
}

async function purgeMany(access: HubAccess, c: ApiCall): Promise<void> {
  const ids = idList(await c.body(), "purge");
  const done = await access.finished(c.hub, ids);
  const purged = done.length ? await access.purge(c.hub, done) : 0;
  sendJson(c.res, 200, { purgedInstanceCount: purged, unsuccessful: ids.filter((id) => !done.includes(id)) });
}

export const ORCHESTRATION_ROUTES: ApiRoute[] = [
  {
    method: "POST", path: "orchestrations/query", access: "read",
    handle: async (a, c) => sendJson(c.res, 200, await runOrchestrationQuery(a, c.hub, parseOrchestrationQuery(await c.body()))),
  },
  {
    method: "POST", path: "orchestrations/addhistoryevents", access: "write",
    handle: async (a, c) => sendJson(c.res, 200, await applyHistoryActions(a, c.hub, await c.body())),
  },
  {
    method: "POST", path: "orchestrations/forceterminate", access: "write",
    handle: async (a, c) => {
      const body = await c.body();
      const ids = idList(body, "terminate");
      const reason = isObject(body) ? optString(pick(body, "reason", "Reason"), "reason") : undefined;
      sendJson(c.res, 200, await a.forceTerminate(c.hub, ids, reason || undefined));
    },
  },
  { method: "DELETE", path: "orchestrations/purge", access: "write", handle: purgeMany },
  { method: "POST", path: "orchestrations/purge", access: "write", handle: purgeMany },
  { method: "POST", path: "orchestrations", access: "write", handle: create },
  { method: "GET", path: "orchestrations/:id", access: "read", handle: async (a, c) => sendJson(c.res, 200, orchestrationJson(await existing(a, c))) },
  { method: "DELETE", path: "orchestrations/:id", access: "write", handle: purgeOne },
  { method: "GET", path: "orchestrations/:id/payloads", access: "read", handle: async (a, c) => sendJson(c.res, 200, payloadsJson(await existing(a, c))) },
  {
    method: "GET", path: "orchestrations/:id/executions/:executionId/history", access: "read",
    handle: async (a, c) => {
      const shape = historyShape(c);
      const rec = await existing(a, c);
      const known = [rec.executionId, ...(rec.rewoundExecutionIds ?? [])];
      if (!known.includes(c.params.executionId)) {
        throw new HttpError(404, `Execution '${c.params.executionId}' of '${rec.instanceId}' is not kept: only the current execution's history is (executionId '${rec.executionId}')`);
      }
      const history = ((await a.history(c.hub, rec.instanceId)) ?? []).map(historyEventJson);
      sendJson(c.res, 200, shape === "array" ? history : { history });
    },
  },
  {
    method: "POST", path: "orchestrations/:id/history", access: "write",
    handle: async (a, c) => {
      const action = parseHistoryAction(await c.body());
      await applyHistoryAction(a, c.hub, c.params.id, action);
      sendJson(c.res, 202, { instanceId: c.params.id, event: action.kind });
    },
  },
  {
    method: "POST", path: "orchestrations/:id/restart", access: "write",
    handle: async (a, c) => {
      const b = objectBody(await c.body(), `{"restartWithNewInstanceId": false}`, true);
      const fresh = optBoolean(pick(b, "restartWithNewInstanceId", "RestartWithNewInstanceId"), "restartWithNewInstanceId") ?? false;
      sendJson(c.res, 200, { instanceId: await a.restart(c.hub, c.params.id, fresh) });
    },
  },
];
