// `dts serve`'s options: its flags, their environment variables and defaults, and the usage text.
import * as os from "os";
import * as path from "path";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../core/limits";
import { DEFAULT_ENGINE_OPTIONS } from "../scheduler/options";
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, ServerOptions } from "../server/server";
import { DEFAULT_MAX_HUBS } from "../scheduler/scheduler";
import { DEFAULT_PARTITIONS, MAX_PARTITIONS } from "../core/partition";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../store/busy-retry";
import { tlsFilesFrom } from "../proto/tls-files";
import { authRequested, AuthSettings, DEFAULT_AUDIENCE, DEFAULT_CLOCK_SKEW_SECONDS } from "../auth";
import { LOG_FORMATS, LOG_LEVELS, LogFormat, LogLevel, parseLogLevel } from "../log/log";
import { DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, RetentionPolicy } from "../core/retention";
import { int, list, seconds, UsageError } from "./flags";
import { retentionArchive } from "./retention-archive";

/** A node's partition leases last this long by default: a killed node's partitions move within 15 s. */
export const DEFAULT_LEASE_SECONDS = 10;

export const SERVE_USAGE = `Usage: dts serve [options]

Options (environment variable in brackets):
  --port <n>                 gRPC port [DTS_PORT] (default 8080)
  --dashboard-port <n>       dashboard port [DTS_DASHBOARD_PORT] (default 8082; 0 picks a free one)
  --no-dashboard             do not serve the dashboard [DTS_DASHBOARD=false]
  --store memory|sqlite|postgres  storage [DTS_STORE] (default sqlite)
  --data <dir>               SQLite data directory [DTS_DATA_DIR] (default ./.dts; unused by postgres)
  --postgres-url <url>       PostgreSQL database for --store postgres, e.g. postgres://user:password@host:5432/db?sslmode=require [DTS_POSTGRES_URL]
  --node-id <id>             this node's name in a cluster on PostgreSQL [DTS_NODE_ID] (default <hostname>-<pid>)
  --advertise <host[:port]>  the address other nodes reach this node's gRPC port at; a host alone takes the port bound [DTS_ADVERTISE] (default <hostname>:<port>)
  --lease-seconds <n>        how long a node's partition leases last without renewal [DTS_LEASE_SECONDS] (default ${DEFAULT_LEASE_SECONDS})
  --partitions <n>           partitions of each task hub created from now on, fixed for its life [DTS_PARTITIONS] (default ${DEFAULT_PARTITIONS} with postgres, 1 otherwise; sqlite: 1 only)
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
  --result-batch-factor <n>            while an orchestration waits on more tasks, its results wait for each other up to n times its last episode's duration; 0: an episode per result [DTS_RESULT_BATCH_FACTOR] (default ${DEFAULT_ENGINE_OPTIONS.resultBatchFactor})
  --result-batch-max-wait <ms>         the longest a task result waits for others [DTS_RESULT_BATCH_MAX_WAIT] (default ${DEFAULT_ENGINE_OPTIONS.resultBatchMaxWaitMs})
  --speculative-dispatch on|off        dispatch the work a worker's completion creates while its commit is written (its answer still waits for the commit) [DTS_SPECULATIVE_DISPATCH] (default on)
  --store-busy-timeout <seconds>       how long a commit waits for a database lock held by another process [DTS_STORE_BUSY_TIMEOUT] (default ${DEFAULT_BUSY_TIMEOUT_MS / 1000})
  --host <address>           listen address [DTS_HOST] (default localhost without auth, 0.0.0.0 with auth)

Retention (finished instances are purged this many whole days after they finished; 0 keeps them forever;
a task hub's own policy, set with dts retention set, wins):
  --retention-days <n>              every finished status [DTS_RETENTION_DAYS] (default ${DEFAULT_RETENTION_DAYS})
  --retention-completed-days <n>    Completed instances [DTS_RETENTION_COMPLETED_DAYS] (default: --retention-days)
  --retention-failed-days <n>       Failed instances [DTS_RETENTION_FAILED_DAYS]
  --retention-canceled-days <n>     Canceled instances [DTS_RETENTION_CANCELED_DAYS]
  --retention-terminated-days <n>   Terminated instances [DTS_RETENTION_TERMINATED_DAYS]
  --retention-export-dir <dir>      first append what is purged to <dir>/<hub>/<day>.jsonl (dts import reads it) [DTS_RETENTION_EXPORT_DIR]

Telemetry (see README "Telemetry"):
  --log-format text|json     text lines, or one JSON object per line with level, hub, instanceId, workItem [DTS_LOG_FORMAT] (default text)
  --log-level <level>        least level printed: trace, debug, information, warning, error, critical, none [DTS_LOG_LEVEL] (default information)
  Traces go over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set
  (OTEL_SERVICE_NAME names the service, default dts); Prometheus metrics are on the dashboard port's /metrics.

Identity and roles (auth is on when an issuer, a tenant or a key set is given; see README "Identity, roles and TLS"):
  --auth-issuer <url>        trusted token issuer, keys by OpenID Connect discovery; repeatable [DTS_AUTH_ISSUER, comma-separated]
  --auth-tenant <id>         trust Entra ID tenant <id> (its v1 and v2 issuers) [DTS_AUTH_TENANT]
  --auth-jwks <file|url>     a fixed JSON Web Key Set instead of discovery [DTS_AUTH_JWKS]
  --auth-audience <aud>      accepted token audience; repeatable [DTS_AUTH_AUDIENCE, comma-separated] (default ${DEFAULT_AUDIENCE})
  --auth-clock-skew <s>      allowed clock difference for exp/nbf [DTS_AUTH_CLOCK_SKEW] (default ${DEFAULT_CLOCK_SKEW_SECONDS})
  --role-assignments <file>  JSON array of {"principal","role","scope"}, re-read when it changes [DTS_ROLE_ASSIGNMENTS]
  --auth-trust-token-roles   roles named in a token's "roles" claim count too [DTS_AUTH_TRUST_TOKEN_ROLES=true]
  --dashboard-client-id <id> sign people in to the dashboard (OpenID Connect code + PKCE) at the first issuer
                             with this client id; its redirect URI is <dashboard>/auth/callback [DTS_DASHBOARD_CLIENT_ID]
  --dashboard-client-secret-file <file>  the client's secret, if the provider made it a confidential client [DTS_DASHBOARD_CLIENT_SECRET_FILE]
  --dashboard-url <url>      the dashboard's address as browsers reach it (behind a proxy), for the redirect URI [DTS_DASHBOARD_URL]

TLS:
  --tls-cert <file>          PEM certificate (chain) to serve gRPC and the dashboard over TLS; re-read when it changes [DTS_TLS_CERT]
  --tls-key <file>           its PEM private key [DTS_TLS_KEY]
  --tls-client-ca <file>     require client certificates signed by this PEM CA (mutual TLS, both ports) [DTS_TLS_CLIENT_CA]
  -h, --help                 show this help
`;


export const SERVE_OPTIONS = {
  port: { type: "string" }, "dashboard-port": { type: "string" }, "no-dashboard": { type: "boolean" }, store: { type: "string" }, data: { type: "string" }, "postgres-url": { type: "string" },
  "node-id": { type: "string" }, advertise: { type: "string" }, "lease-seconds": { type: "string" },
  hubs: { type: "string" }, "dynamic-hubs": { type: "boolean" }, "max-payload-bytes": { type: "string" },
  "sqlite-sync": { type: "string" }, "max-orchestrations-per-worker": { type: "string" }, "max-activities-per-worker": { type: "string" },
  "lock-timeout": { type: "string" }, "activity-lock-timeout": { type: "string" }, "health-ping-interval": { type: "string" },
  "keepalive-interval": { type: "string" }, "keepalive-timeout": { type: "string" }, "max-delivery-attempts": { type: "string" },
  "max-hubs": { type: "string" }, partitions: { type: "string" }, "store-busy-timeout": { type: "string" },
  "max-history-events": { type: "string" }, "history-streaming-threshold": { type: "string" },
  "result-batch-factor": { type: "string" }, "result-batch-max-wait": { type: "string" }, "speculative-dispatch": { type: "string" },
  host: { type: "string" }, "log-format": { type: "string" }, "log-level": { type: "string" }, "auth-issuer": { type: "string", multiple: true }, "auth-tenant": { type: "string" },
  "auth-jwks": { type: "string" }, "auth-audience": { type: "string", multiple: true }, "auth-clock-skew": { type: "string" },
  "role-assignments": { type: "string" }, "auth-trust-token-roles": { type: "boolean" },
  "dashboard-client-id": { type: "string" }, "dashboard-client-secret-file": { type: "string" }, "dashboard-url": { type: "string" },
  "tls-cert": { type: "string" }, "tls-key": { type: "string" }, "tls-client-ca": { type: "string" },
  "retention-days": { type: "string" }, "retention-completed-days": { type: "string" }, "retention-failed-days": { type: "string" },
  "retention-canceled-days": { type: "string" }, "retention-terminated-days": { type: "string" }, "retention-export-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type ServeValues = {
  [K in keyof typeof SERVE_OPTIONS]?: (typeof SERVE_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof SERVE_OPTIONS)[K]["type"] extends "boolean" ? boolean : string
};

export interface SchedulerSettings {
  options: ServerOptions;
  /** undefined: no dashboard. */
  dashboardPort: number | undefined;
  /** --dashboard-url: the dashboard's origin as browsers reach it. */
  dashboardUrl?: string;
  auth: AuthSettings;
  log: { format: LogFormat; level: LogLevel };
  cluster: ClusterSettings;
}

/** A node of a cluster on PostgreSQL (--node-id, --advertise, --lease-seconds); unused by one node on its own store. */
export interface ClusterSettings {
  nodeId: string;
  /** host:port other nodes reach this node's gRPC port at; undefined with --port 0: the host name and the port bound. */
  advertise: string | undefined;
  leaseMs: number;
}

function clusterSettings(values: ServeValues, env: NodeJS.ProcessEnv, port: number): ClusterSettings {
  const nodeId = values["node-id"] ?? (env.DTS_NODE_ID || `${os.hostname()}-${process.pid}`);
  if (!/^[A-Za-z0-9._:@-]{1,100}$/.test(nodeId)) throw new UsageError(`--node-id must be 1 to 100 letters, digits, '.', '_', ':', '@' or '-', got '${nodeId}'`);
  const advertise = values.advertise ?? (env.DTS_ADVERTISE || (port === 0 ? undefined : `${os.hostname()}:${port}`));
  // A host alone takes the port this node binds.
  const hostPort = advertise === undefined ? undefined : /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(advertise);
  if (advertise !== undefined && !(hostPort && (hostPort[2] === undefined || (Number(hostPort[2]) >= 1 && Number(hostPort[2]) <= 65535)))) {
    throw new UsageError(`--advertise must be host:port with a port from 1 to 65535, or a host alone for the port bound (an IPv6 address in brackets: [::1]:8080), got '${advertise}'`);
  }
  const leaseSeconds = int("lease-seconds", values["lease-seconds"] ?? env.DTS_LEASE_SECONDS, 2) ?? DEFAULT_LEASE_SECONDS;
  return { nodeId, advertise, leaseMs: leaseSeconds * 1000 };
}

function authSettings(values: ServeValues, env: NodeJS.ProcessEnv): AuthSettings {
  const audiences = list(values["auth-audience"], env.DTS_AUTH_AUDIENCE);
  const skew = values["auth-clock-skew"] ?? env.DTS_AUTH_CLOCK_SKEW;
  return {
    issuers: list(values["auth-issuer"], env.DTS_AUTH_ISSUER),
    tenant: values["auth-tenant"] ?? (env.DTS_AUTH_TENANT || undefined),
    jwks: values["auth-jwks"] ?? (env.DTS_AUTH_JWKS || undefined),
    audiences: audiences.length > 0 ? audiences : [DEFAULT_AUDIENCE],
    clockSkewSeconds: skew === undefined || skew === "" ? undefined : int("auth-clock-skew", skew, 0),
    roleAssignmentsFile: values["role-assignments"] ?? (env.DTS_ROLE_ASSIGNMENTS || undefined),
    trustTokenRoles: values["auth-trust-token-roles"] ?? (env.DTS_AUTH_TRUST_TOKEN_ROLES ?? "").toLowerCase() === "true",
    dashboardClientId: values["dashboard-client-id"] ?? (env.DTS_DASHBOARD_CLIENT_ID || undefined),
    dashboardClientSecretFile: values["dashboard-client-secret-file"] ?? (env.DTS_DASHBOARD_CLIENT_SECRET_FILE || undefined),
  };
}

/** --retention-export-dir: the archive written before each purge, when given. */
function retentionExport(values: ServeValues, env: NodeJS.ProcessEnv): { archive?: ReturnType<typeof retentionArchive> } {
  const dir = values["retention-export-dir"] ?? (env.DTS_RETENTION_EXPORT_DIR || undefined);
  return dir ? { archive: retentionArchive(path.resolve(dir)) } : {};
}

/** The scheduler's retention policy from --retention-*-days and DTS_RETENTION_*_DAYS. */
function retentionPolicy(values: ServeValues, env: NodeJS.ProcessEnv): RetentionPolicy {
  const days = (flag: "retention-days" | `retention-${"completed" | "failed" | "canceled" | "terminated"}-days`) => {
    const n = int(flag, values[flag] ?? env[`DTS_${flag.replace(/-/g, "_").toUpperCase()}`], 0);
    if (n !== undefined && n > MAX_RETENTION_DAYS) throw new UsageError(`--${flag} must be at most ${MAX_RETENTION_DAYS} days (0 keeps forever), got '${n}'`);
    return n;
  };
  return {
    days: days("retention-days") ?? DEFAULT_RETENTION_DAYS, completedDays: days("retention-completed-days"), failedDays: days("retention-failed-days"),
    canceledDays: days("retention-canceled-days"), terminatedDays: days("retention-terminated-days"),
  };
}

function logSettings(values: ServeValues, env: NodeJS.ProcessEnv): { format: LogFormat; level: LogLevel } {
  const format = (values["log-format"] ?? (env.DTS_LOG_FORMAT || "text")).trim().toLowerCase();
  if (!(LOG_FORMATS as string[]).includes(format)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(" or ")}, got '${values["log-format"] ?? env.DTS_LOG_FORMAT}'`);
  const levelText = values["log-level"] ?? (env.DTS_LOG_LEVEL || "information");
  const level = parseLogLevel(levelText);
  if (!level) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got '${levelText}'`);
  return { format: format as LogFormat, level };
}

/** `dts serve`'s flags and environment variables as server options (flags win). */
export function schedulerSettings(values: ServeValues, env: NodeJS.ProcessEnv): SchedulerSettings {
  const store = values.store ?? env.DTS_STORE ?? "sqlite";
  if (store !== "memory" && store !== "sqlite" && store !== "postgres") throw new UsageError(`--store must be memory, sqlite or postgres, got '${store}'`);
  const sqliteSync = values["sqlite-sync"] ?? env.DTS_SQLITE_SYNC ?? "full";
  if (sqliteSync !== "full" && sqliteSync !== "normal") throw new UsageError(`--sqlite-sync must be full or normal, got '${sqliteSync}'`);
  const speculative = values["speculative-dispatch"] ?? (env.DTS_SPECULATIVE_DISPATCH || "on");
  if (speculative !== "on" && speculative !== "off") throw new UsageError(`--speculative-dispatch must be on or off, got '${speculative}'`);
  const partitions = int("partitions", values.partitions ?? env.DTS_PARTITIONS, 1) ?? (store === "postgres" ? DEFAULT_PARTITIONS : 1);
  if (partitions > MAX_PARTITIONS) throw new UsageError(`--partitions must be at most ${MAX_PARTITIONS}, got ${partitions}`);
  if (partitions > 1 && store === "sqlite") throw new UsageError(`--partitions ${partitions} needs --store postgres (or memory): the SQLite store keeps a task hub in one partition`);
  const hubs = (values.hubs ?? env.DTS_TASK_HUB_NAMES ?? "default").split(",").map((h) => h.trim()).filter(Boolean);
  const dataDir = path.resolve(values.data ?? env.DTS_DATA_DIR ?? ".dts");
  const port = int("port", values.port ?? env.DTS_PORT, 0) ?? 8080;
  const noDashboard = values["no-dashboard"] ?? (env.DTS_DASHBOARD ?? "").toLowerCase() === "false";
  const dashboardPort = noDashboard ? undefined : int("dashboard-port", values["dashboard-port"] ?? env.DTS_DASHBOARD_PORT, 0) ?? 8082;

  const auth = authSettings(values, env);
  // Without auth only this machine may call: exposing it takes an explicit --host.
  const host = values.host ?? (env.DTS_HOST || (authRequested(auth) ? "0.0.0.0" : "localhost"));
  const dashboardUrl = values["dashboard-url"] ?? (env.DTS_DASHBOARD_URL || undefined);
  if (dashboardUrl !== undefined && !/^https?:\/\/[^/]+\/?$/i.test(dashboardUrl)) throw new UsageError(`--dashboard-url must be an origin like https://dts.example.com, got '${dashboardUrl}'`);
  return { dashboardPort, dashboardUrl, auth, log: logSettings(values, env), cluster: clusterSettings(values, env, port), options: {
    port, host, store, postgresUrl: values["postgres-url"] ?? (env.DTS_POSTGRES_URL || undefined),
    tls: tlsFilesFrom(values["tls-cert"] ?? (env.DTS_TLS_CERT || undefined), values["tls-key"] ?? (env.DTS_TLS_KEY || undefined), values["tls-client-ca"] ?? (env.DTS_TLS_CLIENT_CA || undefined)), dataDir, sqliteSync, hubs,
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
    partitions,
    maxHistoryEvents: int("max-history-events", values["max-history-events"] ?? env.DTS_MAX_HISTORY_EVENTS, 10),
    historyStreamingThreshold: int("history-streaming-threshold", values["history-streaming-threshold"] ?? env.DTS_HISTORY_STREAMING_THRESHOLD, 0),
    resultBatchFactor: int("result-batch-factor", values["result-batch-factor"] ?? env.DTS_RESULT_BATCH_FACTOR, 0),
    resultBatchMaxWaitMs: int("result-batch-max-wait", values["result-batch-max-wait"] ?? env.DTS_RESULT_BATCH_MAX_WAIT, 0),
    speculativeDispatch: speculative === "on",
    storeBusyTimeoutMs: seconds("store-busy-timeout", values["store-busy-timeout"] ?? env.DTS_STORE_BUSY_TIMEOUT),
    retention: { policy: retentionPolicy(values, env), ...retentionExport(values, env) },
  } };
}

