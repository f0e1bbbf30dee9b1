// Starting the scheduler (gRPC server, access checks, dashboard) as dts serve and dts start do, and
// the banner lines users and tests look for.
import { RunningServer, startServer } from "../server/server";
import { TlsFilesError } from "../proto/tls-files";
import { AuthConfigError, isLoopbackHost, RoleAssignmentsError, RunningAccess, startAccess } from "../auth";
import { RunningDashboard, startDashboard } from "../dashboard/dashboard-server";
import { WorkMetrics } from "../dashboard/work-metrics";
import { configureLog, errorText, log, logEnabled } from "../log/log";
import { observers } from "../scheduler/observer";
import { LogObserver } from "../telemetry/log-observer";
import { Tracing, TracingConfigError, tracingFromEnv } from "../telemetry/tracing";
import { describePeriods, effectivePeriods } from "../core/retention";
import { UsageError } from "./flags";
import { SchedulerSettings } from "./serve-settings";
import { describePostgresUrl } from "../store";

/** The gRPC server with the dashboard beside it (when on). */
export type RunningScheduler = RunningServer & { dashboardPort?: number; dashboardUrl?: string };
/** Starts the scheduler and prints where it listens (the lines tests and users look for). */
export async function startScheduler(settings: SchedulerSettings, dynamicHubs: boolean, stopOnSignals = false, env: NodeJS.ProcessEnv = process.env): Promise<RunningScheduler> {
  const { options, dashboardPort } = settings;
  configureLog(settings.log);
  // Counters only where /metrics serves them, spans only where an OTLP endpoint takes them, work-item lines only at debug level.
  const metrics = dashboardPort !== undefined ? new WorkMetrics() : undefined;
  let tracing: Tracing | undefined;
  try {
    tracing = tracingFromEnv(env);
  } catch (err) {
    if (err instanceof TracingConfigError) throw new UsageError(err.message);
    throw err;
  }
  const workLog = logEnabled("debug") ? new LogObserver() : undefined;
  const telemetry = { observer: observers([metrics, tracing?.observer, workLog]), onCall: metrics && ((s: string, m: string, c: string) => metrics.call(s, m, c)) };
  let access: RunningAccess;
  try {
    access = startAccess(settings.auth, (line) => log.info(line));
  } catch (err) {
    if (err instanceof AuthConfigError || err instanceof RoleAssignmentsError || (err as NodeJS.ErrnoException).code === "ENOENT") throw new UsageError((err as Error).message);
    throw err;
  }
  let grpcServer: RunningServer;
  try {
    grpcServer = await startServer({ ...options, ...telemetry, access: access.access, node: settings.cluster });
  } catch (err) {
    access.close();
    await tracing?.shutdown();
    if (err instanceof TlsFilesError) throw new UsageError(`TLS: ${err.message}`);
    throw err;
  }
  let dashboard: RunningDashboard | undefined;
  try {
    if (dashboardPort !== undefined) {
      dashboard = await startDashboard(grpcServer.scheduler, options.host ?? "localhost", dashboardPort, { access: access.access, signIn: access.signIn, publicUrl: settings.dashboardUrl }, options.tls, metrics?.registry);
    }
  } catch (err) {
    access.close();
    await grpcServer.close();
    await tracing?.shutdown();
    throw new Error(`the dashboard cannot listen on port ${dashboardPort} (${(err as Error).message}); pick another with --dashboard-port or turn it off with --no-dashboard`);
  }
  const server: RunningScheduler = {
    ...grpcServer,
    dashboardPort: dashboard?.port,
    dashboardUrl: dashboard ? `${dashboard.scheme}://localhost:${dashboard.port}/` : undefined,
    close: async () => {
      access.close();
      await dashboard?.close();
      await grpcServer.close();
      // The last spans (those of work finished during shut-down too) go out before the process exits.
      await tracing?.shutdown().catch((err) => log.warning(`dts: could not send the last spans: ${(err as Error).message}`));
    },
  };
  // Before "listening" is printed, so a signal sent as soon as it appears still shuts down cleanly.
  if (stopOnSignals) onSignals("dts", () => server.close());
  // A store that can no longer write stops the process: a supervisor restarts it from what is on disk.
  server.scheduler.onFatal((err) => {
    log.critical(`dts: exiting: the store cannot write (${err.message}); restart dts serve to recover from the data on disk`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.close().finally(() => process.exit(1));
  });
  const where = options.store === "sqlite" ? `sqlite at ${options.dataDir}` : options.store === "postgres" ? `postgres at ${describePostgresUrl(options.postgresUrl)}` : "memory (nothing is kept after exit)";
  const host = options.host ?? "localhost";
  if (!access.access.enabled && !isLoopbackHost(host)) {
    log.warning(`dts: warning: listening on ${host} without authentication: anyone who can reach port ${server.port} can start, read, terminate and purge anything in every task hub. ` +
      "Turn on auth (--auth-issuer, --auth-tenant or --auth-jwks) or listen on localhost only (leave out --host).");
  }
  const transport = options.tls ? (options.tls.clientCa ? "TLS, client certificates required" : "TLS") : "plaintext";
  log.info(`dts: gRPC listening on ${host}:${server.port} (TaskHubSidecarService, BackendService; ${transport})`);
  log.info(`dts: ${access.summary}`);
  log.info(`dts: store ${where}; task hubs: ${server.scheduler.hubNames().join(", ")}${dynamicHubs ? " (more created on first use)" : ""}`);
  log.info(`dts: retention: finished instances purged after ${describePeriods(effectivePeriods(server.scheduler.retention.options.policy, undefined))} (task hubs may have their own: dts retention)`);
  if (tracing) log.info(`dts: traces to ${tracing.endpoint} (OTLP/HTTP)`);
  log.info(server.dashboardUrl ? `dts: dashboard at ${server.dashboardUrl}${dashboardAuthNote(access)}` : "dts: no dashboard (--no-dashboard)");
  return server;
}

/** How people get into the dashboard, after its address in the banner. */
function dashboardAuthNote(access: RunningAccess): string {
  if (!access.access.enabled) return "";
  if (access.signIn) return ` (sign-in at ${access.signIn.issuer} as client ${access.signIn.clientId}; sessions end when dts restarts)`;
  return " (auth on and sign-in off: its JSON API and /metrics take bearer tokens, its pages say how to turn sign-in on with --dashboard-client-id)";
}

/** Runs `shutdown` once on the first SIGINT or SIGTERM, then exits (1 if it failed). */
export function onSignals(prefix: string, shutdown: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${prefix}: ${signal} received, shutting down`);
    shutdown().then(() => process.exit(0), (err) => {
      log.error(`${prefix}: shutdown failed: ${errorText(err)}`);
      process.exit(1);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
