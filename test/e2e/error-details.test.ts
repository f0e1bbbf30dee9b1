// End-to-end: what an orchestrator or an activity throws reaches the failure details a client reads,
// with its type, message and stack, on the SDK path (the Functions path: test/functions/durable-client).
import {
  ActivityContext, HistoryEventType, OrchestrationContext, OrchestrationStatus, Task, TaskFailedEvent, TaskHubGrpcClient, TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { client, completed, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */
let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  const w = worker(dts.address);
  workers.push(w);
  w.addNamedOrchestrator("Throws", async function* (): AsyncGenerator<Task<any>, any, any> {
    throw new RangeError("orchestrator gave up");
  });
  w.addNamedOrchestrator("CallsFailing", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    return yield ctx.callActivity("Fails");
  });
  w.addNamedActivity("Fails", (_ctx: ActivityContext) => {
    throw new TypeError("activity broke");
  });
  await w.start();
  clients.push(client(dts.address));
});

afterAll(() => stopAll({ workers, clients, servers: [dts] }));

test("an orchestrator's error: type, message and stack in the failure details", async () => {
  const c = clients[0];
  const s = await completed(c, await c.scheduleNewOrchestration("Throws"));
  expect(s.runtimeStatus).toBe(OrchestrationStatus.FAILED);
  expect(s.failureDetails?.errorType).toBe("RangeError");
  expect(s.failureDetails?.message).toContain("orchestrator gave up");
  expect(s.failureDetails?.stackTrace).toMatch(/^RangeError: orchestrator gave up\n[\s\S]*error-details\.test/);
});

test("an activity's error: its type, message and stack are in the history's TaskFailed; the orchestration fails naming it", async () => {
  const c = clients[0];
  const id = await c.scheduleNewOrchestration("CallsFailing");
  const s = await completed(c, id);
  expect(s.runtimeStatus).toBe(OrchestrationStatus.FAILED);
  expect(s.failureDetails?.message).toContain("activity broke");
  const failed = (await c.getOrchestrationHistory(id)).find((e) => e.type === HistoryEventType.TaskFailed) as TaskFailedEvent | undefined;
  expect(failed?.failureDetails?.errorType).toBe("TypeError");
  expect(failed?.failureDetails?.message).toBe("activity broke");
  expect(failed?.failureDetails?.stackTrace).toMatch(/^TypeError: activity broke\n[\s\S]*error-details\.test/);
});
