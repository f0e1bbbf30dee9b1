// The JSON API's schedule routes (under …/taskhubs/schedules): list, create, one schedule, pause,
// resume, delete. The dashboard's schedule form goes through the same body parser.
import { CatchUp, parseInterval, ScheduleDefinition, ScheduleRecord, scheduleInstancePrefix } from "../../core/schedule";
import { invalid } from "../../core/errors";
import { HttpError, send, sendJson } from "../http";
import { HubAccess } from "../hub-access";
import { ApiRoute } from "./api-call";
import { JsonObject, objectBody, optBoolean, optPayload, optString, optTime, pick } from "./request-body";

export const SCHEDULE_BODY_EXAMPLE = `{"scheduleId": "nightly", "orchestrationName": "Report", "cron": "0 0 2 * * *", "timeZone": "Europe/Paris", "input": {"a": 1}}`;

/**
 * A new schedule from a JSON object: `interval` is text ("30s", "00:00:30", "PT30S") or seconds;
 * times are RFC 3339; `input` is a JSON value or JSON text, as for a new orchestration. The names the
 * .NET SDK's schedules use (ScheduleId, OrchestrationName, OrchestrationInput, Interval, StartAt,
 * EndAt, StartImmediatelyIfLate), which the Go CLI sends, are read too.
 */
export function parseScheduleBody(b: JsonObject): ScheduleDefinition {
  const interval = pick(b, "interval", "Interval");
  let intervalMs: number | undefined;
  if (typeof interval === "number") {
    if (!(interval >= 1)) throw invalid(`interval is ${interval} seconds; the shortest allowed is 1`);
    intervalMs = interval * 1000;
  } else if (typeof interval === "string" && interval.trim()) intervalMs = parseInterval(interval);
  else if (interval !== undefined && interval !== "") throw invalid(`interval must be text such as "30s", "00:00:30" or "PT30S", or a number of seconds`);
  if (optString(b.OrchestrationInstanceId, "OrchestrationInstanceId")) {
    throw invalid("OrchestrationInstanceId is not supported: each occurrence gets its own instance id, <scheduleId>@<occurrence time>");
  }
  // StartImmediatelyIfLate (the .NET name) is what catch-up "once" does.
  const late = optBoolean(b.StartImmediatelyIfLate, "StartImmediatelyIfLate");
  const catchUp = optString(b.catchUp, "catchUp")?.trim() || (late === false ? "skip" : "once");
  return {
    scheduleId: optString(pick(b, "scheduleId", "ScheduleId"), "scheduleId") ?? "",
    orchestrationName: optString(pick(b, "orchestrationName", "OrchestrationName"), "orchestrationName") ?? "",
    input: optPayload(pick(b, "input", "OrchestrationInput"), "input"),
    cron: optString(b.cron, "cron")?.trim() || undefined,
    timeZone: optString(b.timeZone, "timeZone")?.trim() || undefined,
    intervalMs,
    startAt: optTime(pick(b, "startAt", "StartAt"), "startAt"),
    endAt: optTime(pick(b, "endAt", "EndAt"), "endAt"),
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
    // The .NET SDK's shape, which the Go CLI reads (Status 0: active, anything else: paused).
    ScheduleConfiguration: {
      ScheduleId: r.scheduleId, OrchestrationName: r.orchestrationName, OrchestrationInput: r.input ?? null,
      Interval: r.intervalMs === undefined ? null : timeSpan(r.intervalMs), StartAt: iso(r.startAt), EndAt: iso(r.endAt), StartImmediatelyIfLate: r.catchUp === "once",
    },
    Status: r.paused ? 1 : 0, LastRunAt: iso(r.lastRunAt), ScheduleCreatedAt: iso(r.createdAt),
  };
}

/** A .NET TimeSpan's text: [d.]hh:mm:ss[.fff]. */
function timeSpan(ms: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86_400);
  const frac = ms % 1000 ? `.${String(ms % 1000).padStart(3, "0")}` : "";
  return `${days ? `${days}.` : ""}${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}${frac}`;
}

function existing(a: HubAccess, hub: string, id: string): ScheduleRecord {
  const r = a.schedule(hub, id);
  if (!r) throw new HttpError(404, `Schedule '${id}' not found in task hub '${hub}'`);
  return r;
}

export const SCHEDULE_ROUTES: ApiRoute[] = [
  {
    // `entities` is the list under the name the Go CLI reads (the .NET SDK keeps schedules as entities); one page holds them all.
    method: "GET", path: "schedules", access: "read",
    handle: (a, c) => {
      const schedules = a.schedules(c.hub).map(scheduleJson);
      sendJson(c.res, 200, { schedules, entities: schedules });
    },
  },
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
