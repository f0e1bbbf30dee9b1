// `func start` for one app directory: its settings become the environment, the app is loaded, its
// HTTP triggers and the Durable management API are served on one port, and, when the app uses
// Durable Functions, the provider adapter's worker runs its orchestrations, activities and entities
// against the scheduler named by the connection string.
import { loadProviderConfig, ProviderConfig } from "../provider/config";
import { tokenSourceFor } from "../provider/credentials";
import type { WorkItemMoment } from "../provider/durable-worker";
import { appProtocol, DurableProtocol, functionProtocol, PROTOCOL_NAMES } from "../provider/protocol";
import { AdminApi } from "./admin-api";
import { DurableGrpcChannel, openDurableGrpcChannel } from "./durable-grpc-channel";
import { routeWorkerConsole } from "./worker-console";
import { FunctionApp } from "../provider/function-app";
import { HostStatus } from "./host-status";
import { HttpHost, startHttpHost } from "./http-server";
import { loadFunctionApp, LoadedFunctionApp } from "./loader";
import { errorText, HostLog } from "./log";
import { preciseEpochMs } from "../log/log";
import { ManagementApi } from "./management-api";
import { ScaleEndpoint } from "./scale-endpoint";
import { appEnvironment, readHostJson } from "../provider/app-files";
import { httpRoutePrefix } from "./settings";
import { SidecarClient } from "./sidecar-client";
import { isTimerTrigger, TimerTriggers } from "./timer-trigger";
import { TriggerInvoker } from "./trigger-invoker";
import { publicOrigin } from "./webhook-urls";

export const DEFAULT_HTTP_PORT = 7071;

export interface FunctionsHostOptions {
  appDir: string;
  /** HTTP port; default local.settings.json Host.LocalHttpPort, else 7071; 0 picks a free one. */
  port?: number;
  hostname?: string;
  /** The process environment to start from (local.settings.json Values fill in what it lacks). */
  env?: NodeJS.ProcessEnv;
  /** Settings that replace both the environment and local.settings.json (dts start: the scheduler it runs). */
  overrides?: Record<string, string>;
  log: HostLog;
}

export interface RunningFunctionsHost {
  app: LoadedFunctionApp;
  http: HttpHost;
  /** Set when the app uses Durable Functions. */
  durable?: ProviderConfig;
  /** The protocol its durable functions speak (durable-functions 3: json, 4: grpc). */
  protocol?: DurableProtocol;
  /** What GET /admin/host/status reports ("Running" once the app is served and, for Durable apps, its worker connected). */
  status: HostStatus;
  /** The lines `func start` prints: each function, with its URL for HTTP triggers. */
  functionList(): string[];
  close(): Promise<void>;
}

const DURABLE_TRIGGERS = /^(orchestrationTrigger|activityTrigger|entityTrigger)$/i;
/** How the debug lines name a work item's moments. */
const TRACE_WORDS: Record<WorkItemMoment, string> = { received: "received", sent: "completion sent", answered: "completion answered" };
/** The triggers this host runs by itself; others only by hand (POST /admin/functions/{name}). */
const RUNNABLE_TRIGGERS = /^(httpTrigger|timerTrigger|orchestrationTrigger|activityTrigger|entityTrigger)$/i;

/** Does the app have orchestrations, activities, entities or durable clients? */
export function usesDurable(app: FunctionApp): boolean {
  for (const fn of app.functions.values()) {
    if (DURABLE_TRIGGERS.test(fn.triggerType)) return true;
    if (Object.values(fn.bindings).some((b) => /^(durableClient|orchestrationClient)$/i.test(b.type))) return true;
  }
  return false;
}

export async function startFunctionsHost(options: FunctionsHostOptions): Promise<RunningFunctionsHost> {
  const { appDir, log } = options;
  const overrides = options.overrides ?? {};
  const { env, skipped, settings } = appEnvironment(appDir, { ...(options.env ?? process.env), ...overrides });
  for (const k of skipped.filter((name) => !(name in overrides))) log("information", `Skipping '${k}' from local.settings.json as it's already defined in current environment variables.`);
  const runtime = env.FUNCTIONS_WORKER_RUNTIME;
  if (runtime && runtime.toLowerCase() !== "node") log("warning", `FUNCTIONS_WORKER_RUNTIME is '${runtime}'; this host runs Node.js apps only`);
  const hostJson = readHostJson(appDir);

  const status = new HostStatus();
  const app = await loadFunctionApp(appDir, env, { log });
  // On Azure these would run; here they would silently never fire, so say so.
  for (const fn of app.functions.values()) {
    if (!RUNNABLE_TRIGGERS.test(fn.triggerType)) log("warning", `Function '${fn.name}': trigger type '${fn.triggerType || "(none)"}' is not supported by this host; it will not run (POST /admin/functions/${fn.name} runs it by hand)`);
  }
  const cleanup: (() => Promise<void> | void)[] = [() => app.close()];
  let protocol: DurableProtocol | undefined;
  try {
    protocol = appProtocol(app);
  } catch (err) {
    await app.close();
    throw err;
  }
  const closeAll = async () => {
    status.set("Stopping");
    for (const f of cleanup.reverse()) {
      try {
        await f();
      } catch (err) {
        log("error", `Shutdown step failed: ${errorText(err)}`);
      }
    }
  };

  try {
    let durable: ProviderConfig | undefined;
    let management: ManagementApi | undefined;
    let scale: ScaleEndpoint | undefined;
    let grpcChannel: DurableGrpcChannel | undefined;
    if (usesDurable(app)) {
      durable = loadProviderConfig(appDir, env); // the worker logs its warnings
      const tokenSource = tokenSourceFor(durable.connection);
      const client = new SidecarClient(durable.connection.endpoint, { tokenSource });
      cleanup.push(() => client.close());
      const orchestrations = new Set([...app.functions.values()].filter((f) => /^orchestrationTrigger$/i.test(f.triggerType)).map((f) => f.name.toLowerCase()));
      management = new ManagementApi({
        client, log, hub: { hubName: durable.hubName, connectionName: durable.connectionStringName },
        isOrchestrator: (name) => orchestrations.has(name.toLowerCase()),
      });
      if (protocol === "grpc") {
        cleanup.push(routeWorkerConsole(log));
        const channel = await openDurableGrpcChannel({ endpoint: durable.connection.endpoint, hubName: durable.hubName, tokenSource });
        grpcChannel = channel;
        cleanup.push(() => channel.close());
        log("information", `Durable client gRPC channel listening on ${channel.url} (to the scheduler at ${durable.connection.endpoint}, task hub '${durable.hubName}')`);
      }
      const endpoint = new ScaleEndpoint(durable);
      scale = endpoint;
      cleanup.push(() => endpoint.close());
    }

    // Timers and functions run by hand share one invoke path; their durable clients call this server.
    let origins: { public: string; rpc: string; grpc?: DurableGrpcChannel } | undefined;
    const invoker = new TriggerInvoker({
      app, log, origins: () => origins!,
      hub: durable ? { hubName: durable.hubName, connectionName: durable.connectionStringName } : undefined,
    });
    const invoke = (name: string, trigger: Parameters<TriggerInvoker["invoke"]>[1], reason: string) => invoker.invoke(name, trigger, reason);
    const timers = new TimerTriggers({ app, settings: env, log, invoke });
    const admin = new AdminApi({ app, invoke, manualTimer: (name) => timers.manualTimer(name) });

    const port = options.port ?? (Number(settings.host.LocalHttpPort) || DEFAULT_HTTP_PORT);
    const http = await startHttpHost({
      app, port, hostname: options.hostname, publicHost: env.WEBSITE_HOSTNAME, routePrefix: httpRoutePrefix(hostJson), log, scale, admin, status,
      durable: management && durable ? { management, hub: { hubName: durable.hubName, connectionName: durable.connectionStringName }, grpcChannel } : undefined,
    });
    cleanup.push(() => http.close());
    origins = { public: publicOrigin(undefined, http.port, env.WEBSITE_HOSTNAME), rpc: `http://127.0.0.1:${http.port}`, grpc: grpcChannel };
    status.set(durable ? "Initialized" : "Running");
    // durable-functions builds check-status URLs for localhost:7071 unless WEBSITE_HOSTNAME names the host.
    if (!process.env.WEBSITE_HOSTNAME) process.env.WEBSITE_HOSTNAME = `localhost:${http.port}`;

    if (durable) {
      // The provider adapter is loaded only for apps that use Durable Functions.
      const { startDurableWorker } = await import("../provider/durable-worker");
      const worker = await startDurableWorker(app, durable, {
        protocol,
        log: (line) => log("information", line),
        // Running only while work can flow from the scheduler; a lost stream is reported until it reopens.
        onConnect: () => status.set("Running"),
        onDisconnect: (reason) => status.set("Initialized", `The Durable Task Scheduler work item stream was lost (${reason}); reconnecting`),
        // At debug level each work item's moments, in epoch milliseconds to the microsecond (as the scheduler's debug lines).
        trace: log.enabled?.("debug") === false ? undefined : (moment, token) =>
          log("debug", `[durable] work item ${TRACE_WORDS[moment]} (token ${token}) at ${preciseEpochMs()}`),
      });
      cleanup.push(() => worker.stop());
    }

    // Last, so a timer that starts an orchestration at start-up finds everything running; stopped
    // first (with the functions run by hand), before the worker and the server they use.
    timers.start();
    cleanup.push(() => admin.close());
    cleanup.push(() => timers.stop());

    return {
      app, http, durable, protocol, status,
      functionList: () => {
        const lines: string[] = [];
        for (const r of http.routes) lines.push(`${r.functionName}: [${(r.methods ?? ["GET", "POST", "PUT", "DELETE", "PATCH"]).join(",")}] ${http.urlOf(r)}`);
        for (const fn of app.functions.values()) {
          const p = functionProtocol(fn);
          const via = p ? ` (${PROTOCOL_NAMES[p]})` : "";
          if (fn.triggerType.toLowerCase() !== "httptrigger") lines.push(`${fn.name}: ${(isTimerTrigger(fn.triggerType) && timers.describe(fn.name)) || fn.triggerType}${via}`);
          else if (via) lines.push(`${fn.name}: durable client${via}`);
        }
        return lines;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
