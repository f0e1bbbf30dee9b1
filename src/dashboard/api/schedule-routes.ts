// The JSON API's schedule routes (under …/taskhubs/schedules): list, create, one schedule, pause,
// resume, delete. The dashboard's schedule form goes through the same body parser.
import { CatchUp, parseInterval, ScheduleDefinition, ScheduleRecord, scheduleInstancePrefix } from "../../core/schedule";
import { invalid } from "../../core/errors";
import { HttpError, send, sendJson } from "../http";
import { HubAccess } from "../hub-access";
import { ApiRoute } from "./api-call";
import { JsonObject, objectBody, optPayload, optString, optTime } from "./request-body";

export const SCHEDULE_BODY_EXAMPLE = `{"scheduleId": "nightly", "orchestrationName": "Report", "cron": "0 0 2 * * *", "timeZone": "Europe/Paris", "input": {"a": 1}}`;

/**
 * A new schedule from a JSON object: `interval` is text ("30s", "00:00:30") or seconds; times are
 * RFC 3339; `input` is a JSON value or JSON text, as for a new orchestration.
 */
export function parseScheduleBody(b: JsonObject): ScheduleDefinition {
  const interval = b.interval;
  let intervalMs: number | undefined;
  if (typeof interval === "number") {
    if (!(interval >= 1)) throw invalid(`interval is ${interval} seconds; the shortest allowed is 1`);
    intervalMs = interval * 1000;
  }
  else if (typeof interval === "string" && interval.trim()) intervalMs = parseInterval(interval);
  else if (interval !== undefined && interval !== null && interval !== "") throw invalid(`interval must be text such as "30s" or "00:00:30", or a number of seconds`);
  const catchUp = optString(b.catchUp, "catchUp")?.trim() || "once";
  return {
    scheduleId: optString(b.scheduleId, "scheduleId") ?? "",
    orchestrationName: optString(b.orchestrationName, "orchestrationName") ?? "",
    input: optPayload(b.input, "input"),
    cron: optString(b.cron, "cron")?.trim() || undefined,
    timeZone: optString(b.timeZone, "timeZone")?.trim() || undefined,
    intervalMs,
    startAt: optTime(b.startAt, "startAt"),
    endAt: optTime(b.endAt, "endAt"),
    catchUp: catchUp as CatchUp,
  };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** Active, paused, or ended (no occurrence left before its end time). */
export function scheduleState(r: ScheduleRecord): "active" | "paused" | "ended" {
  return r.paused ? "paused" : r.nextRunAt === undefined ? "ended" : "active";
}

export function scheduleJson(r: ScheduleRecord) {
  return {
    scheduleId: r.scheduleId, orchestrationName: r.orchestrationName, input: r.input ?? null,
    cron: r.cron ?? null, timeZone: r.cron ? r.timeZone ?? "UTC" : null, intervalSeconds: r.intervalMs === undefined ? null : r.intervalMs / 1000,
    startAt: iso(r.startAt), endAt: iso(r.endAt), catchUp: r.catchUp, state: scheduleState(r),
    nextRunAt: r.paused ? null : iso(r.nextRunAt), lastRunAt: iso(r.lastRunAt), lastInstanceId: r.lastInstanceId ?? null,
    instanceIdPrefix: scheduleInstancePrefix(r.scheduleId), createdAt: iso(r.createdAt),
  };
}

function existing(a: HubAccess, hub: string, id: string): ScheduleRecord {
  const r = a.schedule(hub, id);
  if (!r) throw new HttpError(404, `Schedule '${id}' not found in task hub '${hub}'`);
  return r;
}

export const SCHEDULE_ROUTES: ApiRoute[] = [
  { method: "GET", path: "schedules", access: "read", handle: (a, c) => sendJson(c.res, 200, { schedules: a.schedules(c.hub).map(scheduleJson) }) },
  {
    method: "POST", path: "schedules", access: "write",
    handle: async (a, c) => {
      const r = await a.createSchedule(c.hub, parseScheduleBody(objectBody(await c.body(), SCHEDULE_BODY_EXAMPLE)));
      sendJson(c.res, 201, scheduleJson(r), { Location: `${c.base}/schedules/${encodeURIComponent(r.scheduleId)}` });
    },
  },
  { method: "GET", path: "schedules/:id", access: "read", handle: (a, c) => sendJson(c.res, 200, scheduleJson(existing(a, c.hub, c.params.id))) },
  { method: "POST", path: "schedules/:id/pause", access: "write", handle: async (a, c) => sendJson(c.res, 200, scheduleJson(await a.pauseSchedule(c.hub, c.params.id))) },
  { method: "POST", path: "schedules/:id/resume", access: "write", handle: async (a, c) => sendJson(c.res, 200, scheduleJson(await a.resumeSchedule(c.hub, c.params.id))) },
  {
    method: "DELETE", path: "schedules/:id", access: "write",
    handle: async (a, c) => {
      await a.deleteSchedule(c.hub, c.params.id);
      send(c.res, 204, "", "text/plain; charset=utf-8");
    },
  },
];
