// The dashboard's HTTP server: same process as the scheduler, reading the engine directly.
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import { Registry } from "prom-client";
import { AccessControl, OidcSignIn, OPEN_ACCESS } from "../auth";
import { Scheduler } from "../scheduler/scheduler";
import { TlsFiles, watchedTlsOptions } from "../proto/tls-files";
import { DashboardIdentity } from "./caller";
import { HubAccess } from "./hub-access";
import { DashboardRoutes } from "./routes";
import { Sessions } from "./sign-in/sessions";
import { SignInRoutes } from "./sign-in/sign-in-routes";

export interface RunningDashboard {
  readonly port: number;
  /** "https" with TLS files, else "http". */
  readonly scheme: string;
  close(): Promise<void>;
}

export interface DashboardAuth {
  /** The same access control as the gRPC edge (OPEN_ACCESS: everyone may do everything). */
  access: AccessControl;
  /** Browser sign-in (--dashboard-client-id); without it, with auth on, only bearer tokens get in. */
  signIn?: OidcSignIn;
  /** The dashboard's origin as browsers reach it (--dashboard-url); default: from each request's Host. */
  publicUrl?: string;
}

/** An HTTP server, or with TLS files an HTTPS one that serves renewed certificates to new connections (and asks for client certificates with a client CA). */
function createServer(handler: http.RequestListener, files: TlsFiles | undefined): { server: http.Server; stopWatching(): void } {
  if (!files) return { server: http.createServer(handler), stopWatching: () => undefined };
  let server: https.Server | undefined;
  // The gRPC port watches the same files and logs their reloads; once is enough.
  const watched = watchedTlsOptions(files, (options) => server?.setSecureContext(options), () => undefined);
  server = https.createServer({ ...watched.initial, requestCert: files.clientCa !== undefined, rejectUnauthorized: files.clientCa !== undefined }, handler);
  return { server, stopWatching: watched.close };
}

/** Listens on host:port (0 picks a free port); resolves once listening. `counters` are served on /metrics beside the gauges. */
export function startDashboard(scheduler: Scheduler, host: string, port: number, auth: DashboardAuth = { access: OPEN_ACCESS }, tlsFiles?: TlsFiles, counters?: Registry): Promise<RunningDashboard> {
  // Sessions live in this process: a restart signs everyone out.
  const sessions = new Sessions();
  const identity = new DashboardIdentity(auth.access, sessions, auth.signIn !== undefined);
  const scheme = tlsFiles ? "https" : "http";
  const routes = new DashboardRoutes(new HubAccess(scheduler), identity, new SignInRoutes(auth.signIn, sessions, auth.publicUrl, scheme), counters);
  const { server, stopWatching } = createServer((req, res) => void routes.handle(req, res), tlsFiles);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => {
      stopWatching();
      reject(err);
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve({
        port: (server.address() as AddressInfo).port,
        scheme,
        close: () => new Promise<void>((done) => {
          stopWatching();
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
