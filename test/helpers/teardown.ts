// One teardown for end-to-end suites: raw clients, SDK workers and clients, then the servers and
// their data directories, in that order (workers stop before the server they talk to). Every step
// runs even when one before it failed (a server left running would outlive the suite); the first
// failure is then raised.
import * as fs from "fs";
import { TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess } from "./dts-process";
import { RawClient } from "./raw";

export interface Parts {
  raws?: RawClient[];
  workers?: TaskHubGrpcWorker[];
  clients?: TaskHubGrpcClient[];
  servers?: (DtsProcess | undefined)[];
}

export async function stopAll({ raws = [], workers = [], clients = [], servers = [] }: Parts): Promise<void> {
  for (const r of raws) r.close();
  const outcomes = [
    ...(await Promise.allSettled(workers.map((w) => w.stop()))),
    ...(await Promise.allSettled(clients.map((c) => c.stop()))),
    ...(await Promise.allSettled(servers.map((s) => s?.stop()))),
  ];
  for (const s of servers) if (s) fs.rmSync(s.dataDir, { recursive: true, force: true });
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) throw failed.reason;
}
