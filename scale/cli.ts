// `dts scale status` (one look at a task hub's load, target and vote) and `dts scale keda` (the KEDA
// external scaler). src/cli.ts dispatches `dts scale ...` here.
import * as path from "path";
import { parseArgs } from "util";
import { ConnectionStringError } from "../src/provider/connection-string";
import { ProviderConfigError } from "../src/provider/config";
import { tokenSourceFor } from "../src/provider/credentials";
import { tlsFilesFrom } from "../src/proto/tls-files";
import { resolveScaleConfig, ScaleConfigError, ScaleConfigInput } from "./config";
import { formatStatus } from "./format";
import { DEFAULT_CACHE_MS, DEFAULT_TIMEOUT_MS, schedulerMetricsSource } from "./metrics-source";
import { ScaleMonitor, ScaleStatus } from "./monitor";
import { ScalerDefaults } from "./keda/metadata";
import { DEFAULT_POLL_MS, RunningKedaScaler, startKedaScaler } from "./keda/scaler";

export class ScaleUsageError extends Error {}

const TARGET_HELP = `  --connection-string <s>  the scheduler: Endpoint=...;TaskHub=...;Authentication=... (default: the app's, else DURABLE_TASK_SCHEDULER_CONNECTION_STRING)
  --task-hub <name>        the task hub (default: the connection string's TaskHub, else the app's hub)
  --app <dir>              a function app: host.json's maxConcurrent*Functions limits (default 10 each), and its
                           connection string and hub when not given above`;

export const SCALE_USAGE = `Usage: dts scale <status|keda> [options]

  dts scale status   print a task hub's work items, target worker count and scale vote
  dts scale keda     serve the KEDA external scaler (gRPC) for Kubernetes

dts scale status options:
${TARGET_HELP}
  --samples <n>            read the metrics n times (the vote window; default 1)
  --interval <seconds>     between samples (default 1)
  --timeout <seconds>      give up on an unanswered read (default ${DEFAULT_TIMEOUT_MS / 1000})
  --json                   print the status as JSON
  Exit code 0, or 1 when the scheduler could not be read (the reason is printed).

dts scale keda options:
  --port <n>               gRPC port (0 picks a free one; default 9090)
${TARGET_HELP}
  --cache-seconds <s>      reuse one metrics read for this long (default ${DEFAULT_CACHE_MS / 1000})
  --poll-seconds <s>       how often StreamIsActive re-checks (default ${DEFAULT_POLL_MS / 1000})
  --host <address>         listen address [DTS_HOST] (default 0.0.0.0)
  --tls-cert <file>, --tls-key <file>  serve TLS from these PEM files, re-read when they change [DTS_TLS_CERT, DTS_TLS_KEY]
  --tls-client-ca <file>   require client certificates signed by this CA (mutual TLS) [DTS_TLS_CLIENT_CA]
  --timeout <seconds>      give up on an unanswered read (default ${DEFAULT_TIMEOUT_MS / 1000})
  Trigger metadata may set taskHub, connectionStringName (an environment variable of this process)
  and maxConcurrentOrchestratorFunctions / maxConcurrentActivityFunctions / maxConcurrentEntityFunctions.
`;

const TARGET_OPTIONS = {
  "connection-string": { type: "string" }, "task-hub": { type: "string" }, app: { type: "string" },
  timeout: { type: "string" }, help: { type: "boolean", short: "h" },
} as const;

function number(name: string, value: string | undefined, min: number, integer = false): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new ScaleUsageError(`--${name} must be a ${integer ? "whole " : ""}number >= ${min}, got '${value}'`);
  }
  return n;
}

/** The command line's target, with the provider's configuration errors turned into usage errors. */
function target(values: { "connection-string"?: string; "task-hub"?: string; app?: string }, env: NodeJS.ProcessEnv) {
  const input: ScaleConfigInput = {
    connectionString: values["connection-string"], taskHub: values["task-hub"], env,
    appDir: values.app === undefined ? undefined : path.resolve(values.app),
  };
  try {
    return resolveScaleConfig(input);
  } catch (err) {
    if (err instanceof ScaleConfigError || err instanceof ProviderConfigError || err instanceof ConnectionStringError) throw new ScaleUsageError(err.message);
    throw err;
  }
}

/** Runs `dts scale ...`; resolves with the KEDA server when one is left running. */
export async function scaleCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunningKedaScaler | undefined> {
  const [sub, ...args] = argv;
  if (sub === "status") {
    await status(args, env);
    return undefined;
  }
  if (sub === "keda") return keda(args, env);
  if (sub === undefined || sub === "help" || sub === "--help" || sub === "-h") {
    process.stdout.write(SCALE_USAGE);
    return undefined;
  }
  throw new ScaleUsageError(`unknown command 'scale ${sub}'; try 'dts scale status' or 'dts scale keda'`);
}

async function status(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { ...TARGET_OPTIONS, samples: { type: "string" }, interval: { type: "string" }, json: { type: "boolean" } },
  });
  if (values.help) {
    process.stdout.write(SCALE_USAGE);
    return;
  }
  const samples = number("samples", values.samples, 1, true) ?? 1;
  const intervalMs = (number("interval", values.interval, 0) ?? 1) * 1000;
  const timeoutMs = (number("timeout", values.timeout, 0.001) ?? DEFAULT_TIMEOUT_MS / 1000) * 1000;
  const t = target(values, env);
  const source = schedulerMetricsSource({ endpoint: t.connection.endpoint, taskHub: t.taskHub, tokenSource: tokenSourceFor(t.connection) }, { cacheMs: 0, timeoutMs });
  const monitor = new ScaleMonitor(source, { taskHub: t.taskHub, endpoint: t.connection.endpoint }, t.limits, samples);
  let s: ScaleStatus | undefined;
  try {
    for (let i = 0; i < samples; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
      s = await monitor.status();
      if (s.state !== "ok") break;
    }
  } finally {
    source.close();
  }
  process.stdout.write(values.json ? JSON.stringify(s, null, 2) + "\n" : formatStatus(s!));
  if (s!.state !== "ok") process.exitCode = 1;
}

async function keda(argv: string[], env: NodeJS.ProcessEnv): Promise<RunningKedaScaler | undefined> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      ...TARGET_OPTIONS, port: { type: "string" }, host: { type: "string" }, "cache-seconds": { type: "string" }, "poll-seconds": { type: "string" },
      "tls-cert": { type: "string" }, "tls-key": { type: "string" }, "tls-client-ca": { type: "string" },
    },
  });
  if (values.help) {
    process.stdout.write(SCALE_USAGE);
    return undefined;
  }
  const port = number("port", values.port, 0, true) ?? 9090;
  const cacheMs = (number("cache-seconds", values["cache-seconds"], 0) ?? DEFAULT_CACHE_MS / 1000) * 1000;
  const pollMs = (number("poll-seconds", values["poll-seconds"], 0.01) ?? DEFAULT_POLL_MS / 1000) * 1000;
  const timeoutMs = (number("timeout", values.timeout, 0.001) ?? DEFAULT_TIMEOUT_MS / 1000) * 1000;
  // Without any scheduler on the command line, each ScaledObject must name one in its metadata.
  const hasDefault = values["connection-string"] !== undefined || values.app !== undefined || !!env.DURABLE_TASK_SCHEDULER_CONNECTION_STRING;
  const defaults: ScalerDefaults = hasDefault ? target(values, env) : { taskHub: values["task-hub"] };
  const tls = tlsFilesFrom(values["tls-cert"] ?? (env.DTS_TLS_CERT || undefined), values["tls-key"] ?? (env.DTS_TLS_KEY || undefined), values["tls-client-ca"] ?? (env.DTS_TLS_CLIENT_CA || undefined));
  const host = values.host ?? (env.DTS_HOST || "0.0.0.0");
  const scaler = await startKedaScaler({ port, host, defaults, env, cacheMs, pollMs, timeoutMs, tls });
  const transport = tls ? (tls.clientCa ? "TLS, client certificates required" : "TLS") : "plaintext";
  console.log(`dts scale: KEDA external scaler (externalscaler.ExternalScaler) listening on ${host}:${scaler.port} (${transport})`);
  console.log(defaults.connection
    ? `dts scale: default scheduler ${defaults.connection.endpoint}, task hub '${defaults.taskHub}'; trigger metadata may name others`
    : `dts scale: no default scheduler; each trigger must set connectionStringName in its metadata`);
  return scaler;
}
