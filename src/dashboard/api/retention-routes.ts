// The JSON API's retention routes (…/taskhubs/retention, the hub in x-taskhub): the hub's policy
// and the period in force per finished status; PUT sets the hub's own policy, DELETE goes back to
// the scheduler's. Writes need the Contributor role (access "write").
import { RETENTION_FIELDS, RetentionPolicy } from "../../core/retention";
import { HttpError, sendJson } from "../http";
import { RetentionView } from "../hub-access";
import { ApiRoute } from "./api-call";
import { Json, objectBody } from "./request-body";

const EXAMPLE = `{"days": 30, "completedDays": 7, "failedDays": 90}`;

export function retentionJson(v: RetentionView) {
  return {
    taskHub: v.hub,
    policy: v.own ?? null,
    schedulerPolicy: v.scheduler,
    periods: v.periods.map((p) => ({ status: p.name, days: p.days, from: p.from })),
  };
}

/** The body as a policy; values are checked by the engine (whole days, 0 to keep forever). */
export function policyFromBody(body: Json | undefined): RetentionPolicy {
  const b = objectBody(body, EXAMPLE);
  const unknown = Object.keys(b).filter((k) => !RETENTION_FIELDS.includes(k as keyof RetentionPolicy));
  if (unknown.length) throw new HttpError(400, `Unknown field(s) ${unknown.join(", ")}; a retention policy has ${RETENTION_FIELDS.join(", ")} (whole days, 0 keeps forever)`);
  const policy: RetentionPolicy = {};
  for (const [k, v] of Object.entries(b)) if (v !== null) policy[k as keyof RetentionPolicy] = v as number;
  if (Object.keys(policy).length === 0) throw new HttpError(400, `Give at least one period, e.g. ${EXAMPLE}; to follow the scheduler's policy again, DELETE …/taskhubs/retention`);
  return policy;
}

export const RETENTION_ROUTES: ApiRoute[] = [
  { method: "GET", path: "retention", access: "read", handle: (a, c) => sendJson(c.res, 200, retentionJson(a.retention(c.hub))) },
  { method: "PUT", path: "retention", access: "write", handle: async (a, c) => sendJson(c.res, 200, retentionJson(await a.setRetention(c.hub, policyFromBody(await c.body())))) },
  { method: "DELETE", path: "retention", access: "write", handle: async (a, c) => sendJson(c.res, 200, retentionJson(await a.setRetention(c.hub, undefined))) },
];
