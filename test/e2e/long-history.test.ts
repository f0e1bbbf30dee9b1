// End-to-end: a 50,000-event history through the official SDK (@microsoft/durabletask-js 0.4.0) on
// the default SQLite store and default limits. That SDK does not declare
// WORKER_CAPABILITY_HISTORY_STREAMING (and ignores requiresHistoryStreaming), so the scheduler
// sends it each episode's history inline, however long; its client reads the finished history back
// through StreamInstanceHistory, in chunks. (A worker that declares the capability gets long
// histories by StreamInstanceHistory instead: test/e2e/history-bounds.test.ts.)
import { HistoryEventType, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { client, completed, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */
let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const TIMERS = 25_000;

beforeAll(async () => {
  dts = await startDts(["--dynamic-hubs"]);
});

afterAll(() => stopAll({ workers, clients, servers: [dts] }));

test("an orchestration whose history grows past 50,000 events completes through the official SDK, and its client reads the history back whole", async () => {
  const hub = "long";
  const w = worker(dts.address, hub);
  workers.push(w);
  // One episode creates 25,000 timers due at once; their 25,000 TimerFired events come back over
  // the following episodes (each bounded by --max-events-per-work-item), every one of which
  // carries the whole history so far.
  w.addNamedOrchestrator("ManyTimers", async function* (ctx: OrchestrationContext, n: number): AsyncGenerator<Task<any>, any, any> {
    const timers: Task<any>[] = [];
    for (let i = 0; i < n; i++) timers.push(ctx.createTimer(0));
    yield whenAll(timers);
    return n;
  });
  await w.start();
  const c = client(dts.address, hub);
  clients.push(c);
  const id = await c.scheduleNewOrchestration("ManyTimers", TIMERS);
  const s = await completed(c, id, 240);
  expect(s.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  expect(JSON.parse(s.serializedOutput!)).toBe(TIMERS);

  const history = await c.getOrchestrationHistory(id);
  expect(history.length).toBeGreaterThan(2 * TIMERS);
  const count = (type: HistoryEventType) => history.filter((e) => e.type === type).length;
  expect(count(HistoryEventType.TimerCreated)).toBe(TIMERS);
  expect(count(HistoryEventType.TimerFired)).toBe(TIMERS);
  expect(history[history.length - 1].type).toBe(HistoryEventType.ExecutionCompleted);
}, 300_000);
