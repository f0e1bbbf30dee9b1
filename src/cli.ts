#!/usr/bin/env node
// The `dts` command. `dts serve` runs the scheduler; later verbs (func start, scale status) join here.
import * as path from "path";
import { parseArgs } from "util";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./core/limits";
import { DEFAULT_ENGINE_OPTIONS } from "./scheduler/options";
import { startServer } from "./server/server";

const USAGE = `Usage: dts serve [options]

Options (environment variable in brackets):
  --port <n>                 gRPC port [DTS_PORT] (default 8080)
  --dashboard-port <n>       dashboard port [DTS_DASHBOARD_PORT] (default 8082)
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

export async function serve(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" }, "dashboard-port": { type: "string" }, store: { type: "string" }, data: { type: "string" },
      hubs: { type: "string" }, "dynamic-hubs": { type: "boolean" }, "max-payload-bytes": { type: "string" },
      "sqlite-sync": { type: "string" }, "max-orchestrations-per-worker": { type: "string" }, "max-activities-per-worker": { type: "string" },
      "lock-timeout": { type: "string" }, "activity-lock-timeout": { type: "string" }, "health-ping-interval": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const store = values.store ?? env.DTS_STORE ?? "sqlite";
  if (store !== "memory" && store !== "sqlite") throw new UsageError(`--store must be memory or sqlite, got '${store}'`);
  const sqliteSync = values["sqlite-sync"] ?? env.DTS_SQLITE_SYNC ?? "full";
  if (sqliteSync !== "full" && sqliteSync !== "normal") throw new UsageError(`--sqlite-sync must be full or normal, got '${sqliteSync}'`);
  const hubs = (values.hubs ?? env.DTS_TASK_HUB_NAMES ?? "default").split(",").map((h) => h.trim()).filter(Boolean);
  const dataDir = path.resolve(values.data ?? env.DTS_DATA_DIR ?? ".dts");
  const port = int("port", values.port ?? env.DTS_PORT, 0) ?? 8080;
  const dashboardPort = int("dashboard-port", values["dashboard-port"] ?? env.DTS_DASHBOARD_PORT, 0) ?? 8082;

  const server = await startServer({
    port, store, dataDir, sqliteSync, hubs,
    dynamicHubs: values["dynamic-hubs"] ?? (env.DTS_USE_DYNAMIC_TASK_HUBS ?? "").toLowerCase() === "true",
    maxPayloadBytes: int("max-payload-bytes", values["max-payload-bytes"] ?? env.DTS_MAX_PAYLOAD_BYTES, 1),
    maxOrchestrationsPerWorker: int("max-orchestrations-per-worker", values["max-orchestrations-per-worker"] ?? env.DTS_MAX_ORCHESTRATIONS_PER_WORKER, 1),
    maxActivitiesPerWorker: int("max-activities-per-worker", values["max-activities-per-worker"] ?? env.DTS_MAX_ACTIVITIES_PER_WORKER, 1),
    orchestrationLockTimeoutMs: seconds("lock-timeout", values["lock-timeout"] ?? env.DTS_LOCK_TIMEOUT),
    activityLockTimeoutMs: seconds("activity-lock-timeout", values["activity-lock-timeout"] ?? env.DTS_ACTIVITY_LOCK_TIMEOUT),
    healthPingIntervalMs: seconds("health-ping-interval", values["health-ping-interval"] ?? env.DTS_HEALTH_PING_INTERVAL),
  });
  const where = store === "sqlite" ? `sqlite at ${dataDir}` : "memory (nothing is kept after exit)";
  console.log(`dts: gRPC listening on 0.0.0.0:${server.port} (TaskHubSidecarService, BackendService)`);
  console.log(`dts: store ${where}; task hubs: ${server.scheduler.hubNames().join(", ")}${values["dynamic-hubs"] ? " (more created on first use)" : ""}`);
  console.log(`dts: dashboard port ${dashboardPort} is reserved; the dashboard is not built yet`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`dts: ${signal} received, shutting down`);
    server.close().then(() => process.exit(0), (err) => {
      console.error("dts: shutdown failed:", err);
      process.exit(1);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb === "serve") return serve(rest);
  if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
    process.stdout.write(`Usage: dts <command>\n\nCommands:\n  serve    run the scheduler (dts serve --help for options)\n`);
    return;
  }
  throw new UsageError(`unknown command '${verb}'; try 'dts serve'`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`dts: ${err.message}`);
      process.exit(2);
    }
    console.error("dts:", err);
    process.exit(1);
  });
}
