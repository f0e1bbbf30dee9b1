// End-to-end: a rewound orchestration keeps what its rewind decided across a restart of `dts serve`
// on the same SQLite data: the result of a sub-orchestration that was still running at the rewind
// (addressed to the execution id the parent had before it) still reaches the parent.
import { TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { client, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";
import { H, S, completion, historyHas, json, newId, registerAll } from "./orchestration-fixtures";

const dataDir = tempDir("dts-rewind-");
const servers: DtsProcess[] = [];
const workers: TaskHubGrpcWorker[] = [];
const clients: TaskHubGrpcClient[] = [];

async function serve(): Promise<{ c: TaskHubGrpcClient; w: TaskHubGrpcWorker; server: DtsProcess }> {
  const server = await startDts(["--store", "sqlite"], { dataDir });
  const c = client(server.address);
  const w = worker(server.address);
  servers.push(server);
  clients.push(c);
  workers.push(w);
  registerAll(w);
  await w.start();
  return { c, w, server };
}

/** Stops one server (SIGTERM, exit 0) after its worker and client, keeping its data directory. */
async function stopKeepingData(p: { c: TaskHubGrpcClient; w: TaskHubGrpcWorker; server: DtsProcess }): Promise<void> {
  workers.splice(workers.indexOf(p.w), 1);
  clients.splice(clients.indexOf(p.c), 1);
  servers.splice(servers.indexOf(p.server), 1);
  await stopAll({ workers: [p.w], clients: [p.c] });
  expect(await p.server.stop()).toBe(0);
}

afterAll(() => stopAll({ workers, clients, servers }));

test("a parent rewound while its child still runs gets the child's result after a restart", async () => {
  const first = await serve();
  const id = newId("durable-rewind");
  await first.c.scheduleNewOrchestration("RewindWithRunningChild", id, id);
  expect((await completion(first.c, id)).runtimeStatus).toBe(S.FAILED);
  await first.c.rewindInstance(id, "try again");
  await historyHas(first.c, id, (e) => e.type === H.TaskCompleted, "the rewound parent's activity to complete");
  await stopKeepingData(first);

  const second = await serve();
  expect((await second.c.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
  await second.c.raiseOrchestrationEvent(`${id}-child`, "never");
  const s = await completion(second.c, id);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(json(s.serializedOutput)).toEqual([`ok ${id}`, "woken"]);
}, 60_000);
