// One teardown for end-to-end suites: raw clients, SDK workers and clients, then the servers and
// their data directories, in that order (workers stop before the server they talk to).
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
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s?.stop()));
  for (const s of servers) if (s) fs.rmSync(s.dataDir, { recursive: true, force: true });
}
