// The dashboard's HTTP server: same process as the scheduler, reading the engine directly.
import * as http from "http";
import { AddressInfo } from "net";
import { AccessControl, OidcSignIn, OPEN_ACCESS } from "../auth";
import { Scheduler } from "../scheduler/scheduler";
import { DashboardIdentity } from "./caller";
import { HubAccess } from "./hub-access";
import { DashboardRoutes } from "./routes";
import { Sessions } from "./sign-in/sessions";
import { SignInRoutes } from "./sign-in/sign-in-routes";

export interface RunningDashboard {
  readonly port: number;
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

/** Listens on host:port (0 picks a free port); resolves once listening. */
export function startDashboard(scheduler: Scheduler, host: string, port: number, auth: DashboardAuth = { access: OPEN_ACCESS }): Promise<RunningDashboard> {
  // Sessions live in this process: a restart signs everyone out.
  const sessions = new Sessions();
  const identity = new DashboardIdentity(auth.access, sessions, auth.signIn !== undefined);
  const routes = new DashboardRoutes(new HubAccess(scheduler), identity, new SignInRoutes(auth.signIn, sessions, auth.publicUrl));
  const server = http.createServer((req, res) => void routes.handle(req, res));
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
