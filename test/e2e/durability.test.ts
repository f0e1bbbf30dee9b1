// End-to-end: what `dts serve` (sqlite, a real data directory) keeps across a crash: instances waiting
// on an event, on a timer and in the middle of an activity chain survive SIGKILL and finish after a
// restart on the same --data. Also: SIGTERM shuts down cleanly with exit code 0.
import * as fs from "fs";
import {
  ActivityContext, HistoryEventType, OrchestrationContext, OrchestrationStatus, Task, TaskCompletedEvent, TaskHubGrpcClient, TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { deferred, RawClient } from "../helpers/raw";
import { client, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;
const dataDir = tempDir("dts-durability-");
const servers: DtsProcess[] = [];
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];

async function serve(): Promise<DtsProcess> {
  const p = await startDts(["--store", "sqlite"], { dataDir });
  servers.push(p);
  return p;
}

function register(w: TaskHubGrpcWorker, step: (input: string) => string | Promise<string>): void {
  w.addNamedOrchestrator("Approval", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    const first = yield ctx.waitForExternalEvent("first");
    const second = yield ctx.waitForExternalEvent("second");
    return `approved:${first}+${second}`;
  });
  w.addNamedOrchestrator("Timer", async function* (ctx: OrchestrationContext, seconds: number): AsyncGenerator<Task<any>, any, any> {
    const fireAt = new Date(ctx.currentUtcDateTime.getTime() + seconds * 1000);
    yield ctx.createTimer(fireAt);
    return { fireAt: fireAt.getTime(), firedAt: ctx.currentUtcDateTime.getTime() };
  });
  w.addNamedOrchestrator("Chain", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    const a = yield ctx.callActivity("Step", "1");
    const b = yield ctx.callActivity("Step", `${a}2`);
    return yield ctx.callActivity("Step", `${b}3`);
  });
  w.addNamedActivity("Step", (_ctx: ActivityContext, input: string) => step(input));
}

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.kill()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let ids: { approval: string; timer: string; chain: string };

test("instances waiting on an event, a timer and mid activity-chain survive SIGKILL and finish after a restart", async () => {
  // ---- before the crash
  const first = await serve();
  const c1 = client(first.address);
  const w1 = worker(first.address);
  clients.push(c1);
  const step2Started = deferred();
  const releaseStale = deferred();
  register(w1, async (input) => {
    if (input === "1!2") {
      // The second step hangs in this worker until the server is gone.
      step2Started.resolve();
      await releaseStale.promise;
      return `${input}-stale`;
    }
    return `${input}!`;
  });
  await w1.start();

  ids = {
    approval: await c1.scheduleNewOrchestration("Approval", null, "dur-approval"),
    timer: await c1.scheduleNewOrchestration("Timer", 3, "dur-timer"),
    chain: await c1.scheduleNewOrchestration("Chain", null, "dur-chain"),
  };
  // Started means the first episode (the event wait, the timer) is committed.
  expect((await c1.waitForOrchestrationStart(ids.approval, false, 30))?.runtimeStatus).toBe(S.RUNNING);
  expect((await c1.waitForOrchestrationStart(ids.timer, false, 30))?.runtimeStatus).toBe(S.RUNNING);
  // An event raised before the crash is acknowledged only once durable.
  await c1.raiseOrchestrationEvent(ids.approval, "first", "one");
  await step2Started.promise;

  await first.kill();
  expect(first.output()).not.toMatch(/shutting down/);
  // The hung activity now finishes, but its server is gone: the result goes nowhere.
  releaseStale.resolve();
  await w1.stop();
  await c1.stop();

  // ---- after the restart on the same data directory
  const second = await serve();
  const c2 = client(second.address);
  const w2 = worker(second.address);
  clients.push(c2);
  workers.push(w2);
  const ranAfterRestart: string[] = [];
  register(w2, (input) => {
    ranAfterRestart.push(input);
    return `${input}!`;
  });
  await w2.start();

  for (const id of Object.values(ids)) {
    const s = await c2.getOrchestrationState(id);
    expect(s).toBeDefined();
  }
  await c2.raiseOrchestrationEvent(ids.approval, "second", "two");

  const approval = await c2.waitForOrchestrationCompletion(ids.approval, true, 60);
  expect(approval?.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(approval!.serializedOutput!)).toBe("approved:one+two");

  const timer = await c2.waitForOrchestrationCompletion(ids.timer, true, 60);
  expect(timer?.runtimeStatus).toBe(S.COMPLETED);
  const { fireAt, firedAt } = JSON.parse(timer!.serializedOutput!);
  // The timer never fires early.
  expect(firedAt).toBeGreaterThanOrEqual(fireAt);

  const chain = await c2.waitForOrchestrationCompletion(ids.chain, true, 60);
  expect(chain?.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(chain!.serializedOutput!)).toBe("1!2!3!");
  // Step 1 finished before the crash and is not run again; step 2 runs again (at least once).
  expect(ranAfterRestart).toEqual(["1!2", "1!2!3"]);
  const history = await c2.getOrchestrationHistory(ids.chain);
  const completedResults = history.filter((e): e is TaskCompletedEvent => e.type === HistoryEventType.TaskCompleted).map((e) => e.result);
  expect(completedResults).toEqual(['"1!"', '"1!2!"', '"1!2!3!"']);
}, 90_000);

test("SIGTERM shuts the server down with exit code 0, and everything stays stored", async () => {
  const server = servers[servers.length - 1];
  // Stop the SDK worker first (its reconnect loop would outlive the server otherwise); keep a raw
  // worker stream and a long-polling wait open: shutdown must not hang on them.
  await workers.pop()!.stop();
  const raw = new RawClient(server.address);
  const stream = raw.workItems();
  const c = client(server.address);
  clients.push(c);
  const pending = await c.scheduleNewOrchestration("Approval", null, "dur-pending");
  const longPoll = c.waitForOrchestrationCompletion(pending, false, 60).then(() => "answered", () => "failed");

  const code = await server.stop();
  expect(code).toBe(0);
  expect(server.output()).toMatch(/dts: SIGTERM received, shutting down/);
  expect(await stream.closed()).toBeDefined();
  expect(await longPoll).toBe("failed");
  raw.close();

  // A fresh start on the same data sees the finished instances and the pending one.
  const third = await serve();
  const c3 = client(third.address);
  clients.push(c3);
  for (const id of Object.values(ids)) expect((await c3.getOrchestrationState(id))?.runtimeStatus).toBe(S.COMPLETED);
  expect((await c3.getOrchestrationState(pending))?.runtimeStatus).toBe(S.PENDING);
  expect(await third.stop()).toBe(0);
}, 60_000);
