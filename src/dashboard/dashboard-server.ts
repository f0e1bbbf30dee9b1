// The dashboard's HTTP server: same process as the scheduler, reading the engine directly.
import * as http from "http";
import { AddressInfo } from "net";
import { Registry } from "prom-client";
import { Scheduler } from "../scheduler/scheduler";
import { HubAccess } from "./hub-access";
import { DashboardRoutes } from "./routes";

export interface RunningDashboard {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on host:port (0 picks a free port); resolves once listening. `counters` are served on /metrics beside the gauges. */
export function startDashboard(scheduler: Scheduler, host: string, port: number, counters?: Registry): Promise<RunningDashboard> {
  const routes = new DashboardRoutes(new HubAccess(scheduler), counters);
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
