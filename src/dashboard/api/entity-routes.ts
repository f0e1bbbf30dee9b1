// The JSON API's entity routes (under …/taskhubs/entities): query, one entity, its state, delete.
import { HttpError, send, sendJson, statusOf } from "../http";
import { HubAccess } from "../hub-access";
import { ApiCall, ApiRoute } from "./api-call";
import { parseEntityQuery, runEntityQuery } from "./entity-query";
import { idList } from "./request-body";
import { entityJson } from "./shapes";

function existing(access: HubAccess, c: ApiCall) {
  const e = access.entity(c.hub, c.params.id);
  if (!e) throw new HttpError(404, `Entity '${c.params.id}' not found in task hub '${c.hub}' (entity ids look like @name@key)`);
  return e;
}

export const ENTITY_ROUTES: ApiRoute[] = [
  {
    method: "POST", path: "entities/query", access: "read",
    handle: async (a, c) => sendJson(c.res, 200, runEntityQuery(a, c.hub, parseEntityQuery(await c.body()))),
  },
  {
    method: "DELETE", path: "entities/delete", access: "write",
    handle: async (a, c) => {
      const ids = idList(await c.body(), "delete");
      const refused: string[] = [];
      for (const id of ids) {
        // One at a time: an entity in a live critical section is refused without stopping the others.
        const n = await a.deleteEntity(c.hub, id).catch((err) => {
          if (statusOf(err) >= 500) throw err;
          return 0;
        });
        if (n === 0) refused.push(id);
      }
      sendJson(c.res, 200, { deletedCount: ids.length - refused.length, unsuccessful: refused });
    },
  },
  { method: "GET", path: "entities/:id", access: "read", handle: (a, c) => sendJson(c.res, 200, entityJson(existing(a, c))) },
  {
    method: "GET", path: "entities/:id/state", access: "read",
    handle: (a, c) => {
      const e = existing(a, c);
      if (e.data.state === undefined) throw new HttpError(404, `Entity '${e.rec.instanceId}' has no state (it holds only a lock or queued operations)`);
      // The state is JSON text already: sent as is.
      send(c.res, 200, e.data.state, "application/json; charset=utf-8");
    },
  },
  {
    method: "DELETE", path: "entities/:id", access: "write",
    handle: async (a, c) => {
      const e = existing(a, c);
      await a.deleteEntity(c.hub, e.rec.instanceId);
      send(c.res, 204, "", "text/plain; charset=utf-8");
    },
  },
];
