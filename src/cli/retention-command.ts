// `dts retention show|set`: a task hub's retention policy, read and changed at run time through the
// dashboard port's JSON API (GET/PUT/DELETE /api/v1/taskhubs/retention).
import { parseArgs } from "util";
import { describeDays } from "../core/retention";
import { callDashboardApi, DASHBOARD_TARGET_OPTIONS, DASHBOARD_TARGET_USAGE, dashboardTarget } from "./dashboard-api";
import { int, UsageError } from "./flags";

export const RETENTION_USAGE = `Usage: dts retention show [options]
       dts retention set [options] (--days <n> | --completed-days <n> | --failed-days <n> | --canceled-days <n> | --terminated-days <n> ...)
       dts retention set [options] --clear

Shows or sets a task hub's retention: how many whole days after an instance finished (Completed,
Failed, Canceled, Terminated) it is purged with its history; 0 keeps forever. A hub's own policy
wins over the scheduler's (dts serve --retention-days ...); a status it leaves out takes its --days,
then the scheduler's setting. set replaces the hub's policy with the periods given; --clear removes
it (the scheduler's policy applies again).

Options:
${DASHBOARD_TARGET_USAGE}  --days <n>             every finished status
  --completed-days <n>   Completed instances
  --failed-days <n>      Failed instances
  --canceled-days <n>    Canceled instances
  --terminated-days <n>  Terminated instances
  --clear                remove the hub's own policy
  --json                 print the API's JSON answer
  -h, --help             show this help
`;

const PERIOD_FLAGS = [["days", "days"], ["completed-days", "completedDays"], ["failed-days", "failedDays"], ["canceled-days", "canceledDays"], ["terminated-days", "terminatedDays"]] as const;

interface RetentionAnswer {
  taskHub: string;
  policy: Record<string, number> | null;
  periods: { status: string; days: number; from: "hub" | "scheduler" }[];
}

export async function retentionCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
    process.stdout.write(RETENTION_USAGE);
    return;
  }
  if (verb !== "show" && verb !== "set") throw new UsageError(`unknown command 'retention ${verb}'; try 'dts retention show' or 'dts retention set' (dts retention --help)`);
  const { values } = parseArgs({
    args: rest, strict: true,
    options: { ...DASHBOARD_TARGET_OPTIONS, ...Object.fromEntries(PERIOD_FLAGS.map(([f]) => [f, { type: "string" as const }])), clear: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(RETENTION_USAGE);
    return;
  }
  const target = dashboardTarget(values, env);
  const flags = values as Record<string, string | undefined>;
  const policy = Object.fromEntries(PERIOD_FLAGS.filter(([f]) => flags[f] !== undefined).map(([f, field]) => [field, int(f, flags[f], 0)]));
  if (verb === "show" && (Object.keys(policy).length || values.clear)) throw new UsageError("dts retention show takes no periods and no --clear; use dts retention set");
  if (verb === "set" && !values.clear && !Object.keys(policy).length) throw new UsageError("dts retention set needs at least one of --days, --completed-days, --failed-days, --canceled-days, --terminated-days, or --clear");
  if (verb === "set" && values.clear && Object.keys(policy).length) throw new UsageError("--clear removes the hub's policy; give it alone, or give periods without --clear");
  // A refusal (DashboardApiError) is printed by the dts entry point, with exit code 1.
  const answer = verb === "show" ? await callDashboardApi<RetentionAnswer>(target, "GET", "retention")
    : values.clear ? await callDashboardApi<RetentionAnswer>(target, "DELETE", "retention")
      : await callDashboardApi<RetentionAnswer>(target, "PUT", "retention", policy);
  process.stdout.write(values.json ? `${JSON.stringify(answer, null, 2)}\n` : describe(answer));
}

function describe(a: RetentionAnswer): string {
  const own = a.policy ? Object.entries(a.policy).map(([k, v]) => `${k} ${v}`).join(", ") : "none (the scheduler's policy applies)";
  const rows = a.periods.map((p) => `  ${p.status.padEnd(11)} ${describeDays(p.days).padEnd(13)} set by ${p.from === "hub" ? "the task hub" : "the scheduler"}\n`);
  return `Retention of task hub '${a.taskHub}' (finished instances are purged this long after they finished):\n${rows.join("")}The hub's own policy: ${own}\n`;
}
