#!/usr/bin/env node
// The `dts` command. `dts serve` runs the scheduler; `dts func start` runs a function app like
// `func start` against it; `dts start` runs both in one process (what `npm start` does); `dts scale`
// reports a task hub's scale status or serves it to KEDA (scale/); `dts durable` manages instances like
// `func durable` (durable-cli/).
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./core/limits";
import { DEFAULT_ENGINE_OPTIONS } from "./scheduler/options";
import { DEFAULT_HTTP_PORT, RunningFunctionsHost, startFunctionsHost } from "./host/func-host";
import { consoleLog, LOG_LEVELS, LogLevel } from "./host/log";
import { SCALE_PATH } from "./host/scale-endpoint";
import { appEnvironment } from "./provider/app-files";
import { loadProviderConfig } from "./provider/config";
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, RunningServer, ServerOptions, startServer } from "./server/server";
import { DEFAULT_MAX_HUBS } from "./scheduler/scheduler";
import { DEFAULT_BUSY_TIMEOUT_MS } from "./store/busy-retry";
import { StoreFatalError } from "./store/store";
import { SchedulerError } from "./core/errors";
import { scaleCommand, ScaleUsageError } from "../scale/cli";
import { durableCommand } from "./durable-cli/command";
import { RunningDashboard, startDashboard } from "./dashboard/dashboard-server";

/** The gRPC server with the dashboard beside it (when on). */
type RunningScheduler = RunningServer & { dashboardPort?: number };

const USAGE = `Usage: dts serve [options]

Options (environment variable in brackets):
  --port <n>                 gRPC port [DTS_PORT] (default 8080)
  --dashboard-port <n>       dashboard port [DTS_DASHBOARD_PORT] (default 8082; 0 picks a free one)
  --no-dashboard             do not serve the dashboard [DTS_DASHBOARD=false]
  --store memory|sqlite      storage [DTS_STORE] (default sqlite)
  --data <dir>               SQLite data directory [DTS_DATA_DIR] (default ./.dts)
  --hubs <a,b>               task hubs to serve [DTS_TASK_HUB_NAMES] (default: default)
  --dynamic-hubs             create task hubs on first use [DTS_USE_DYNAMIC_TASK_HUBS=true]
  --max-payload-bytes <n>    largest input, output, event data or custom status [DTS_MAX_PAYLOAD_BYTES] (default ${DEFAULT_MAX_PAYLOAD_BYTES})
  --sqlite-sync full|normal  SQLite synchronous mode [DTS_SQLITE_SYNC] (default full)
  --max-orchestrations-per-worker <n>  in-flight orchestration items per worker stream [DTS_MAX_ORCHESTRATIONS_PER_WORKER] (default ${DEFAULT_ENGINE_OPTIONS.maxOrchestrationsPerWorker})
  --max-activities-per-worker <n>      in-flight activity items per worker stream [DTS_MAX_ACTIVITIES_PER_WORKER] (default ${DEFAULT_ENGINE_OPTIONS.maxActivitiesPerWorker})
  --lock-timeout <seconds>             orchestration lock timeout [DTS_LOCK_TIMEOUT] (default ${DEFAULT_ENGINE_OPTIONS.orchestrationLockTimeoutMs / 1000})
  --activity-lock-timeout <seconds>    activity lock timeout [DTS_ACTIVITY_LOCK_TIMEOUT] (default ${DEFAULT_ENGINE_OPTIONS.activityLockTimeoutMs / 1000})
  --health-ping-interval <seconds>     HealthPing on silent worker streams [DTS_HEALTH_PING_INTERVAL] (default ${DEFAULT_ENGINE_OPTIONS.healthPingIntervalMs / 1000})
  --keepalive-interval <seconds>       HTTP/2 ping to each client connection [DTS_KEEPALIVE_INTERVAL] (default ${DEFAULT_KEEPALIVE_INTERVAL_MS / 1000})
  --keepalive-timeout <seconds>        a connection not answering a ping this long is closed and its work items go back [DTS_KEEPALIVE_TIMEOUT] (default ${DEFAULT_KEEPALIVE_TIMEOUT_MS / 1000})
  --max-delivery-attempts <n>          a work item lost this many times in a row is failed [DTS_MAX_DELIVERY_ATTEMPTS] (default ${DEFAULT_ENGINE_OPTIONS.maxDeliveryAttempts})
  --max-hubs <n>                       most task hubs served [DTS_MAX_HUBS] (default ${DEFAULT_MAX_HUBS})
  --max-history-events <n>             an orchestration whose history grows past this fails [DTS_MAX_HISTORY_EVENTS] (default ${DEFAULT_ENGINE_OPTIONS.maxHistoryEvents})
  --history-streaming-threshold <n>    longer histories go by StreamInstanceHistory to workers that can [DTS_HISTORY_STREAMING_THRESHOLD] (default ${DEFAULT_ENGINE_OPTIONS.historyStreamingThreshold})
  --store-busy-timeout <seconds>       how long a commit waits for a database lock held by another process [DTS_STORE_BUSY_TIMEOUT] (default ${DEFAULT_BUSY_TIMEOUT_MS / 1000})
  -h, --help                 show this help
`;

class UsageError extends Error {}

function int(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got '${value}'`);
  return n;
}

function seconds(name: string, value: string | undefined): number | undefined {
  const n = int(name, value, 1);
  return n === undefined ? undefined : n * 1000;
}

const SERVE_OPTIONS = {
  port: { type: "string" }, "dashboard-port": { type: "string" }, "no-dashboard": { type: "boolean" }, store: { type: "string" }, data: { type: "string" },
  hubs: { type: "string" }, "dynamic-hubs": { type: "boolean" }, "max-payload-bytes": { type: "string" },
  "sqlite-sync": { type: "string" }, "max-orchestrations-per-worker": { type: "string" }, "max-activities-per-worker": { type: "string" },
  "lock-timeout": { type: "string" }, "activity-lock-timeout": { type: "string" }, "health-ping-interval": { type: "string" },
  "keepalive-interval": { type: "string" }, "keepalive-timeout": { type: "string" }, "max-delivery-attempts": { type: "string" },
  "max-hubs": { type: "string" }, "store-busy-timeout": { type: "string" },
  "max-history-events": { type: "string" }, "history-streaming-threshold": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type ServeValues = { [K in keyof typeof SERVE_OPTIONS]?: (typeof SERVE_OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

interface SchedulerSettings {
  options: ServerOptions;
  /** undefined: no dashboard. */
  dashboardPort: number | undefined;
}

/** `dts serve`'s flags and environment variables as server options (flags win). */
function schedulerSettings(values: ServeValues, env: NodeJS.ProcessEnv): SchedulerSettings {
  const store = values.store ?? env.DTS_STORE ?? "sqlite";
  if (store !== "memory" && store !== "sqlite") throw new UsageError(`--store must be memory or sqlite, got '${store}'`);
  const sqliteSync = values["sqlite-sync"] ?? env.DTS_SQLITE_SYNC ?? "full";
  if (sqliteSync !== "full" && sqliteSync !== "normal") throw new UsageError(`--sqlite-sync must be full or normal, got '${sqliteSync}'`);
  const hubs = (values.hubs ?? env.DTS_TASK_HUB_NAMES ?? "default").split(",").map((h) => h.trim()).filter(Boolean);
  const dataDir = path.resolve(values.data ?? env.DTS_DATA_DIR ?? ".dts");
  const port = int("port", values.port ?? env.DTS_PORT, 0) ?? 8080;
  const noDashboard = values["no-dashboard"] ?? (env.DTS_DASHBOARD ?? "").toLowerCase() === "false";
  const dashboardPort = noDashboard ? undefined : int("dashboard-port", values["dashboard-port"] ?? env.DTS_DASHBOARD_PORT, 0) ?? 8082;

  return { dashboardPort, options: {
    port, store, dataDir, sqliteSync, hubs,
    dynamicHubs: values["dynamic-hubs"] ?? (env.DTS_USE_DYNAMIC_TASK_HUBS ?? "").toLowerCase() === "true",
    maxPayloadBytes: int("max-payload-bytes", values["max-payload-bytes"] ?? env.DTS_MAX_PAYLOAD_BYTES, 1),
    maxOrchestrationsPerWorker: int("max-orchestrations-per-worker", values["max-orchestrations-per-worker"] ?? env.DTS_MAX_ORCHESTRATIONS_PER_WORKER, 1),
    maxActivitiesPerWorker: int("max-activities-per-worker", values["max-activities-per-worker"] ?? env.DTS_MAX_ACTIVITIES_PER_WORKER, 1),
    orchestrationLockTimeoutMs: seconds("lock-timeout", values["lock-timeout"] ?? env.DTS_LOCK_TIMEOUT),
    activityLockTimeoutMs: seconds("activity-lock-timeout", values["activity-lock-timeout"] ?? env.DTS_ACTIVITY_LOCK_TIMEOUT),
    healthPingIntervalMs: seconds("health-ping-interval", values["health-ping-interval"] ?? env.DTS_HEALTH_PING_INTERVAL),
    keepaliveIntervalMs: seconds("keepalive-interval", values["keepalive-interval"] ?? env.DTS_KEEPALIVE_INTERVAL),
    keepaliveTimeoutMs: seconds("keepalive-timeout", values["keepalive-timeout"] ?? env.DTS_KEEPALIVE_TIMEOUT),
    maxDeliveryAttempts: int("max-delivery-attempts", values["max-delivery-attempts"] ?? env.DTS_MAX_DELIVERY_ATTEMPTS, 1),
    maxHubs: int("max-hubs", values["max-hubs"] ?? env.DTS_MAX_HUBS, 1),
    maxHistoryEvents: int("max-history-events", values["max-history-events"] ?? env.DTS_MAX_HISTORY_EVENTS, 10),
    historyStreamingThreshold: int("history-streaming-threshold", values["history-streaming-threshold"] ?? env.DTS_HISTORY_STREAMING_THRESHOLD, 0),
    storeBusyTimeoutMs: seconds("store-busy-timeout", values["store-busy-timeout"] ?? env.DTS_STORE_BUSY_TIMEOUT),
  } };
}

/** Starts the scheduler and prints where it listens (the lines tests and users look for). */
async function startScheduler(settings: SchedulerSettings, dynamicHubs: boolean, stopOnSignals = false): Promise<RunningScheduler> {
  const { options, dashboardPort } = settings;
  const grpcServer = await startServer(options);
  let dashboard: RunningDashboard | undefined;
  try {
    if (dashboardPort !== undefined) dashboard = await startDashboard(grpcServer.scheduler, options.host ?? "0.0.0.0", dashboardPort);
  } catch (err) {
    await grpcServer.close();
    throw new Error(`the dashboard cannot listen on port ${dashboardPort} (${(err as Error).message}); pick another with --dashboard-port or turn it off with --no-dashboard`);
  }
  const server: RunningScheduler = {
    ...grpcServer,
    dashboardPort: dashboard?.port,
    close: async () => {
      await dashboard?.close();
      await grpcServer.close();
    },
  };
  // Before "listening" is printed, so a signal sent as soon as it appears still shuts down cleanly.
  if (stopOnSignals) onSignals("dts", () => server.close());
  // A store that can no longer write stops the process: a supervisor restarts it from what is on disk.
  server.scheduler.onFatal((err) => {
    console.error(`dts: exiting: the store cannot write (${err.message}); restart dts serve to recover from the data on disk`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.close().finally(() => process.exit(1));
  });
  const where = options.store === "sqlite" ? `sqlite at ${options.dataDir}` : "memory (nothing is kept after exit)";
  console.log(`dts: gRPC listening on 0.0.0.0:${server.port} (TaskHubSidecarService, BackendService)`);
  console.log(`dts: store ${where}; task hubs: ${server.scheduler.hubNames().join(", ")}${dynamicHubs ? " (more created on first use)" : ""}`);
  console.log(dashboard ? `dts: dashboard at http://localhost:${dashboard.port}/` : "dts: no dashboard (--no-dashboard)");
  return server;
}

/** Runs `shutdown` once on the first SIGINT or SIGTERM, then exits (1 if it failed). */
function onSignals(prefix: string, shutdown: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${prefix}: ${signal} received, shutting down`);
    shutdown().then(() => process.exit(0), (err) => {
      console.error(`${prefix}: shutdown failed:`, err);
      process.exit(1);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

export async function serve(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(USAGE);
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
the app pointed at this scheduler.

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
  const hubs = settings.options.hubs ?? ["default"];
  if (!hubs.includes(config.hubName)) settings.options.hubs = [...hubs, config.hubName];
  const server = await startScheduler(settings, !!values["dynamic-hubs"]);
  let host: RunningFunctionsHost;
  try {
    // Whatever local.settings.json says, the app talks to the scheduler this command started.
    const connection = `Endpoint=http://localhost:${server.port};TaskHub=${config.hubName};Authentication=None`;
    console.log(`dts: the app uses this scheduler: ${config.connectionStringName}=${connection}`);
    host = await runFunctionsHost(appDir, funcPort, env, { [config.connectionStringName]: connection });
  } catch (err) {
    await server.close();
    throw err;
  }
  // The sample's starter (POST .../orchestrators/{name}): print it and a line to try it with.
  const starter = host.http.routes.find((r) => /(^|\/)orchestrators\/\{/i.test(r.route.template));
  console.log("");
  console.log(`Scheduler:  localhost:${server.port} (gRPC; Durable Task SDKs connect here)`);
  console.log(server.dashboardPort !== undefined ? `Dashboard:  http://localhost:${server.dashboardPort}/` : "Dashboard:  off (--no-dashboard)");
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
  if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
    process.stdout.write(`Usage: dts <command>\n\nCommands:\n  serve        run the scheduler (dts serve --help for options)\n` +
      `  func start   run a function app like \`func start\` (dts func start --help)\n` +
      `  start        run the scheduler and the function app in the current directory together (dts start --help)\n` +
      `  scale status print a task hub's work items, target worker count and scale vote (dts scale --help)\n` +
      `  scale keda   serve the KEDA external scaler for Kubernetes (dts scale --help)\n` +
      `  durable      manage orchestration instances like \`func durable\`: start-new, get-runtime-status,\n` +
      `               get-instances, raise-event, terminate, purge-history... (dts durable --help)\n`);
    return;
  }
  throw new UsageError(`unknown command '${verb}'; try 'dts serve', 'dts func start', 'dts start', 'dts scale status' or 'dts durable'`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    if (err instanceof UsageError || err instanceof ScaleUsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`dts: ${err.message}`);
      process.exit(2);
    }
    // An expected condition (the data directory is held by another server): the message, no stack.
    if ((err as { code?: string }).code === "DTS_DATA_DIR_IN_USE" || err instanceof StoreFatalError || err instanceof SchedulerError) {
      console.error(`dts: ${err.message}`);
      process.exit(1);
    }
    console.error("dts:", err);
    process.exit(1);
  });
}
