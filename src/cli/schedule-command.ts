// `dts schedule create|list|get|pause|resume|delete`: a task hub's schedules, through the dashboard
// port's JSON API (cli/dashboard-api.ts), which is where the scheduler serves them.
import { parseArgs } from "util";
import { callDashboardApi, DASHBOARD_TARGET_OPTIONS, DASHBOARD_TARGET_USAGE, dashboardTarget, DashboardTarget } from "./dashboard-api";
import { UsageError } from "./flags";

export const SCHEDULE_USAGE = `Usage: dts schedule <verb> [options]

Recurring orchestration starts kept by the scheduler. Each occurrence starts an instance with the id
<schedule id>@<occurrence time, ISO 8601 UTC>, so no occurrence ever starts twice.

Verbs:
  create <id> --orchestration <name> (--cron <expr> [--time-zone <zone>] | --every <interval>)
         [--input <json>] [--start-at <time>] [--end-at <time>] [--catch-up once|skip]
  list [--json]            every schedule with its state and next and last run times
  get <id>                 one schedule, as JSON
  pause <id>               start no occurrence until resumed
  resume <id>              go on from the first occurrence after now
  delete <id>              delete the schedule (the instances it started stay)

Create options:
  --orchestration <name>   the orchestration each occurrence starts
  --cron <expr>            NCRONTAB, seconds first: "0 */5 * * * *" (five fields: second 0)
  --time-zone <zone>       IANA time zone the cron expression is read in (default UTC)
  --every <interval>       30s, 5m, 1h30m, 2d, a TimeSpan (00:00:30) or ISO 8601 (PT30S); at least 1s
  --input <json>           the orchestration's input, JSON text
  --start-at <time>        no occurrence before (RFC 3339, e.g. 2026-12-01T08:00:00Z); an interval counts from it
  --end-at <time>          no occurrence after
  --catch-up once|skip     occurrences missed while the scheduler was down: start one instance
                           for them (once, the default) or none (skip)

Target:
${DASHBOARD_TARGET_USAGE}`;

const OPTIONS = {
  ...DASHBOARD_TARGET_OPTIONS,
  orchestration: { type: "string" },
  cron: { type: "string" },
  "time-zone": { type: "string" },
  every: { type: "string" },
  input: { type: "string" },
  "start-at": { type: "string" },
  "end-at": { type: "string" },
  "catch-up": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A schedule as the API sends it (dashboard/api/schedule-routes.ts scheduleJson). */
interface ScheduleJson {
  scheduleId: string;
  orchestrationName: string;
  cron: string | null;
  timeZone: string | null;
  intervalSeconds: number | null;
  state: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastInstanceId: string | null;
}

/** Runs the verb; prints what it did on `out`. Throws UsageError or DashboardApiError. */
export async function scheduleCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = console.log): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [verb, id, ...extra] = positionals;
  if (values.help || verb === undefined || verb === "help") {
    process.stdout.write(SCHEDULE_USAGE);
    return;
  }
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const target = dashboardTarget(values, env);
  if (verb === "list") {
    if (id !== undefined) throw new UsageError(`'dts schedule list' takes no schedule id`);
    const { schedules } = await callDashboardApi<{ schedules: ScheduleJson[] }>(target, "GET", "schedules");
    if (values.json) out(JSON.stringify(schedules, null, 2));
    else out(table(schedules));
    return;
  }
  if (!["create", "get", "pause", "resume", "delete"].includes(verb)) {
    throw new UsageError(`unknown verb 'schedule ${verb}'; use create, list, get, pause, resume or delete`);
  }
  if (!id) throw new UsageError(`'dts schedule ${verb}' needs the schedule's id`);
  const path = `schedules/${encodeURIComponent(id)}`;
  if (verb === "create") return create(target, id, values, out);
  if (verb === "get") return out(JSON.stringify(await callDashboardApi<ScheduleJson>(target, "GET", path), null, 2));
  if (verb === "delete") {
    await callDashboardApi(target, "DELETE", path);
    return out(`Deleted schedule '${id}' from task hub '${target.hub}'.`);
  }
  const s = await callDashboardApi<ScheduleJson>(target, "POST", `${path}/${verb}`);
  out(`Schedule '${s.scheduleId}' is ${s.state}${s.nextRunAt ? `; next run ${s.nextRunAt}` : ""}.`);
}

async function create(target: DashboardTarget, id: string, v: { [K in keyof typeof OPTIONS]?: string | boolean }, out: (line: string) => void): Promise<void> {
  const orchestrationName = v.orchestration as string | undefined;
  if (!orchestrationName) throw new UsageError("give the orchestration each occurrence starts: --orchestration <name>");
  if ((v.cron === undefined) === (v.every === undefined)) throw new UsageError("give either --cron <expr> or --every <interval> (one of the two)");
  const s = await callDashboardApi<ScheduleJson>(target, "POST", "schedules", {
    scheduleId: id, orchestrationName, cron: v.cron, timeZone: v["time-zone"], interval: v.every, input: v.input,
    startAt: v["start-at"], endAt: v["end-at"], catchUp: v["catch-up"],
  });
  out(`Created schedule '${s.scheduleId}' in task hub '${target.hub}'; first run ${s.nextRunAt}.`);
}

function table(schedules: ScheduleJson[]): string {
  if (schedules.length === 0) return "No schedules.";
  const rows = [["ID", "ORCHESTRATION", "WHEN", "STATE", "NEXT RUN", "LAST RUN", "LAST INSTANCE"]].concat(schedules.map((s) => [
    s.scheduleId, s.orchestrationName, s.cron !== null ? `cron ${s.cron} (${s.timeZone})` : `every ${s.intervalSeconds}s`,
    s.state, s.nextRunAt ?? "-", s.lastRunAt ?? "-", s.lastInstanceId ?? "-",
  ]));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}
