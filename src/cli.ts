#!/usr/bin/env node
// The `dts` command. `dts serve` runs the scheduler; `dts func start` runs a function app like
// `func start` against it; `dts start` runs both in one process (what `npm start` does); `dts scale`
// reports a task hub's scale status or serves it to KEDA (scale/); `dts durable` manages instances like
// `func durable` (durable-cli/).
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { DEFAULT_HTTP_PORT, RunningFunctionsHost, startFunctionsHost } from "./host/func-host";
import { consoleLog, LOG_LEVELS, LogLevel } from "./host/log";
import { SCALE_PATH } from "./host/scale-endpoint";
import { appEnvironment } from "./provider/app-files";
import { loadProviderConfig } from "./provider/config";
import { formatConnectionString } from "./provider/connection-string";
import { StoreFatalError } from "./store/store";
import { SchedulerError } from "./core/errors";
import { scaleCommand, ScaleUsageError } from "../scale/cli";
import { durableCommand } from "./durable-cli/command";
import { TlsFilesError } from "./proto/tls-files";
import { ClientCertificateError } from "./proto/client-credentials";
import { authRequested } from "./auth";
import { int, UsageError } from "./cli/flags";
import { schedulerSettings, SERVE_OPTIONS, SERVE_USAGE } from "./cli/serve-settings";
import { onSignals, startScheduler } from "./cli/run-scheduler";
import { retentionCommand } from "./cli/retention-command";
import { exportCommand, importCommand } from "./cli/archive-command";
import { scheduleCommand } from "./cli/schedule-command";
import { DashboardApiError } from "./cli/dashboard-api";

export async function serve(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  await startScheduler(schedulerSettings(values, env), !!values["dynamic-hubs"], true);
}

const FUNC_USAGE = `Usage: dts func start [options]

Runs the function app in a directory like \`func start\`: reads its host.json and local.settings.json
(environment variables win over Values), loads package.json "main", serves its HTTP triggers and the
Durable HTTP management API, fires its timer triggers, and runs its orchestrations, activities and
entities on the scheduler named by the Durable Task Scheduler connection string.

Options:
  --port <n>      HTTP port (default local.settings.json Host.LocalHttpPort, else ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --app <dir>     the function app's directory (default: the current directory)
  -h, --help      show this help

Environment: DTS_LOG_LEVEL=trace|debug|information|warning|error (default information; debug also
shows the management API calls the app's durable client makes).
`;

async function funcStart(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: "string" }, app: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) {
    process.stdout.write(FUNC_USAGE);
    return;
  }
  const host = await runFunctionsHost(appDirectory(values.app), int("port", values.port, 0), process.env);
  onSignals("dts func", () => host.close());
}

/**
 * The function app's directory (default: the current one). Like `func start`, it must hold host.json:
 * run anywhere else (e.g. an installed dts from an empty directory), say so instead of a stack trace.
 */
function appDirectory(app: string | undefined): string {
  const dir = path.resolve(app ?? ".");
  if (!fs.existsSync(path.join(dir, "host.json"))) {
    throw new UsageError(`${dir} is not a function app (no host.json): run this in the app's directory or pass --app <dir>; 'dts serve' runs the scheduler alone`);
  }
  return dir;
}

/** Starts the host for an app and prints its functions and URLs the way `func start` does. */
async function runFunctionsHost(appDir: string, port: number | undefined, env: NodeJS.ProcessEnv, overrides?: Record<string, string>): Promise<RunningFunctionsHost> {
  const level = (env.DTS_LOG_LEVEL || "information").toLowerCase();
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new UsageError(`DTS_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got '${env.DTS_LOG_LEVEL}'`);
  const log = consoleLog({ level: level as LogLevel });
  const host = await startFunctionsHost({ appDir, port, env, overrides, log });
  console.log(`\nFunctions:\n\n${host.functionList().map((l) => `        ${l}`).join("\n\n")}\n`);
  if (host.durable) {
    console.log(`dts func: task hub '${host.durable.hubName}' on ${host.durable.connection.endpoint}; management API ${host.http.origin}/runtime/webhooks/durabletask/`);
    console.log(`dts func: scale status ${host.http.origin}${SCALE_PATH}`);
  }
  console.log(`dts func: listening on ${host.http.origin} (app ${appDir})`);
  return host;
}

const START_USAGE = `Usage: dts start [options]

Runs the scheduler (as dts serve, same options) and the function app (as dts func start) in one process,
the app pointed at this scheduler. With auth on (--auth-issuer...), the app keeps its connection string's
Authentication (its token) and only the endpoint changes; Authentication=None is refused then.

Options: every dts serve option, and
  --func-port <n>  the app's HTTP port (default local.settings.json Host.LocalHttpPort, else ${DEFAULT_HTTP_PORT})
  --app <dir>      the function app's directory (default: the current directory)
  -h, --help       show this help
`;

async function start(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...SERVE_OPTIONS, "func-port": { type: "string" }, app: { type: "string" } }, strict: true });
  if (values.help) {
    process.stdout.write(START_USAGE);
    return;
  }
  const appDir = appDirectory(values.app);
  const funcPort = int("func-port", values["func-port"], 0);
  // The app's task hub must be one the scheduler serves.
  const appEnv = appEnvironment(appDir, env).env;
  const config = loadProviderConfig(appDir, appEnv);
  const settings = schedulerSettings(values, env);
  // With auth on, the app keeps its connection string's own Authentication (its token) and only its endpoint changes.
  const auth = authRequested(settings.auth);
  if (auth && config.connection.authentication === "None") {
    throw new UsageError(`auth is on, and the app's ${config.connectionStringName} (local.settings.json or the environment) says Authentication=None, so the scheduler would refuse it: ` +
      `give the app a token with a Worker role (or above) on task hub '${config.hubName}', e.g. Authentication=TokenFile;TokenFilePath=<file> or Authentication=TokenCommand;TokenCommand="<command printing a token>" ` +
      "(Authentication=DefaultAzure for Entra ID), or start without the auth flags");
  }
  const hubs = settings.options.hubs ?? ["default"];
  if (!hubs.includes(config.hubName)) settings.options.hubs = [...hubs, config.hubName];
  const server = await startScheduler(settings, !!values["dynamic-hubs"]);
  let host: RunningFunctionsHost;
  try {
    // Whatever local.settings.json says, the app talks to the scheduler this command started.
    const endpoint = `${settings.options.tls ? "https" : "http"}://localhost:${server.port}`;
    const connection = formatConnectionString({ ...(auth ? config.connection : { authentication: "None", additionallyAllowedTenants: [] }), endpoint, taskHub: config.hubName });
    // Not the whole string: a TokenCommand may hold a secret.
    console.log(`dts: the app uses this scheduler: ${config.connectionStringName}=Endpoint=${endpoint};TaskHub=${config.hubName};Authentication=${auth ? config.connection.authentication : "None"}` +
      (auth ? " (its other keys as the app's setting has them)" : ""));
    host = await runFunctionsHost(appDir, funcPort, env, { [config.connectionStringName]: connection });
  } catch (err) {
    await server.close();
    throw err;
  }
  // The sample's starter (POST .../orchestrators/{name}): print it and a line to try it with.
  const starter = host.http.routes.find((r) => /(^|\/)orchestrators\/\{/i.test(r.route.template));
  console.log("");
  console.log(`Scheduler:  localhost:${server.port} (gRPC; Durable Task SDKs connect here)`);
  console.log(server.dashboardUrl !== undefined ? `Dashboard:  ${server.dashboardUrl}` : "Dashboard:  off (--no-dashboard)");
  console.log(`Management: ${host.http.origin}/runtime/webhooks/durabletask/instances`);
  if (starter) {
    const template = host.http.urlOf(starter);
    const example = template.replace(/\/\{[^}]*\?\}/g, "").replace(/\{[^}]*\}/, "HelloCities");
    console.log(`Starter:    POST ${template}`);
    console.log(`Try:        curl -s -X POST ${example}   (then GET the statusQueryGetUri it returns)`);
  }
  console.log("Ctrl-C stops both.");
  onSignals("dts", async () => {
    await host.close();
    await server.close();
  });
}

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb === "serve") return serve(rest);
  if (verb === "start") return start(rest);
  if (verb === "func") {
    const [sub, ...args] = rest;
    if (sub === "start") return funcStart(args);
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      process.stdout.write(FUNC_USAGE);
      return;
    }
    throw new UsageError(`unknown command 'func ${sub}'; try 'dts func start'`);
  }
  if (verb === "scale") {
    const scaler = await scaleCommand(rest);
    if (scaler) onSignals("dts scale", () => scaler.close());
    return;
  }
  if (verb === "durable") {
    // The verbs print their own errors; only the exit code is left to set (no process.exit: stdout may still be flushing).
    process.exitCode = await durableCommand(rest);
    return;
  }
  if (verb === "retention") return retentionCommand(rest);
  if (verb === "export") return exportCommand(rest);
  if (verb === "import") return importCommand(rest);
  if (verb === "schedule") return scheduleCommand(rest);
  if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
    process.stdout.write(`Usage: dts <command>\n\nCommands:\n  serve        run the scheduler (dts serve --help for options)\n` +
      `  func start   run a function app like \`func start\` (dts func start --help)\n` +
      `  start        run the scheduler and the function app in the current directory together (dts start --help)\n` +
      `  scale status print a task hub's work items, target worker count and scale vote (dts scale --help)\n` +
      `  scale keda   serve the KEDA external scaler for Kubernetes (dts scale --help)\n` +
      `  durable      manage orchestration instances like \`func durable\`: start-new, get-runtime-status,\n` +
      `               get-instances, raise-event, terminate, purge-history... (dts durable --help)\n` +
      `  retention    show or set a task hub's retention policy (dts retention --help)\n` +
      `  export       write a task hub's instances with their histories as JSON Lines (dts export --help)\n` +
      `  import       load such a file into a task hub (dts import --help)\n` +
      `  schedule     recurring orchestration starts: create, list, pause, resume, delete (dts schedule --help)\n`);
    return;
  }
  throw new UsageError(`unknown command '${verb}'; try 'dts serve', 'dts func start', 'dts start', 'dts scale status', 'dts durable', 'dts schedule', 'dts retention', 'dts export' or 'dts import'`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    if (err instanceof UsageError || err instanceof ScaleUsageError || err instanceof TlsFilesError || err instanceof ClientCertificateError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`dts: ${err.message}`);
      process.exit(2);
    }
    // An expected condition (the data directory is held by another server): the message, no stack.
    if ((err as { code?: string }).code === "DTS_DATA_DIR_IN_USE" || err instanceof StoreFatalError || err instanceof SchedulerError || err instanceof DashboardApiError) {
      console.error(`dts: ${err.message}`);
      process.exit(1);
    }
    console.error("dts:", err);
    process.exit(1);
  });
}
