// Starting the scheduler (gRPC server, access checks, dashboard) as dts serve and dts start do, and
// the banner lines users and tests look for.
import { RunningServer, startServer } from "../server/server";
import { TlsFilesError } from "../proto/tls-files";
import { AuthConfigError, isLoopbackHost, RoleAssignmentsError, RunningAccess, startAccess } from "../auth";
import { RunningDashboard, startDashboard } from "../dashboard/dashboard-server";
import { describePeriods, effectivePeriods } from "../core/retention";
import { UsageError } from "./flags";
import { SchedulerSettings } from "./serve-settings";

/** The gRPC server with the dashboard beside it (when on). */
export type RunningScheduler = RunningServer & { dashboardPort?: number };
/** Starts the scheduler and prints where it listens (the lines tests and users look for). */
export async function startScheduler(settings: SchedulerSettings, dynamicHubs: boolean, stopOnSignals = false): Promise<RunningScheduler> {
  const { options, dashboardPort } = settings;
  let access: RunningAccess;
  try {
    access = startAccess(settings.auth);
  } catch (err) {
    if (err instanceof AuthConfigError || err instanceof RoleAssignmentsError || (err as NodeJS.ErrnoException).code === "ENOENT") throw new UsageError((err as Error).message);
    throw err;
  }
  let grpcServer: RunningServer;
  try {
    grpcServer = await startServer({ ...options, access: access.access });
  } catch (err) {
    access.close();
    if (err instanceof TlsFilesError) throw new UsageError(`TLS: ${err.message}`);
    throw err;
  }
  // The dashboard has no sign-in yet: with auth on it would let anyone past the token checks, so it stays off.
  let dashboard: RunningDashboard | undefined;
  try {
    if (dashboardPort !== undefined && !access.access.enabled) dashboard = await startDashboard(grpcServer.scheduler, options.host ?? "localhost", dashboardPort);
  } catch (err) {
    access.close();
    await grpcServer.close();
    throw new Error(`the dashboard cannot listen on port ${dashboardPort} (${(err as Error).message}); pick another with --dashboard-port or turn it off with --no-dashboard`);
  }
  const server: RunningScheduler = {
    ...grpcServer,
    dashboardPort: dashboard?.port,
    close: async () => {
      access.close();
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
  const host = options.host ?? "localhost";
  if (!access.access.enabled && !isLoopbackHost(host)) {
    console.error(`dts: warning: listening on ${host} without authentication: anyone who can reach port ${server.port} can start, read, terminate and purge anything in every task hub. ` +
      "Turn on auth (--auth-issuer, --auth-tenant or --auth-jwks) or listen on localhost only (leave out --host).");
  }
  const transport = options.tls ? (options.tls.clientCa ? "TLS, client certificates required" : "TLS") : "plaintext";
  console.log(`dts: gRPC listening on ${host}:${server.port} (TaskHubSidecarService, BackendService; ${transport})`);
  console.log(`dts: ${access.summary}`);
  console.log(`dts: store ${where}; task hubs: ${server.scheduler.hubNames().join(", ")}${dynamicHubs ? " (more created on first use)" : ""}`);
  console.log(`dts: retention: finished instances purged after ${describePeriods(effectivePeriods(server.scheduler.retention.options.policy, undefined))} (task hubs may have their own: dts retention)`);
  console.log(dashboard ? `dts: dashboard at http://localhost:${dashboard.port}/`
    : dashboardPort !== undefined ? "dts: no dashboard: with auth on it needs sign-in, which is not built yet" : "dts: no dashboard (--no-dashboard)");
  return server;
}

/** Runs `shutdown` once on the first SIGINT or SIGTERM, then exits (1 if it failed). */
export function onSignals(prefix: string, shutdown: () => Promise<void>): void {
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
