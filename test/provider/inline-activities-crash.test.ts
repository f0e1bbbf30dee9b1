// Inline activities keep "acknowledged means durable": the scheduler (SQLite) is killed with SIGKILL
// twice while the provider's worker runs HelloCities5 orchestrations whose activities run inline and
// go with their episodes' completions. Every started instance finishes with the right output and a
// whole history: each activity scheduled once and answered once with its own result (an activity may
// run again after a kill, as activities are at-least-once; its result is recorded once).
import * as fs from "fs";
import { NoOpLogger, OrchestrationStatus, TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { DurableWorker, startDurableWorker } from "../../src/provider/durable-worker";
import { CITIES } from "../bench/workloads";
import { deadPort, DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { EXPECTED_OUTPUT, historyProblems } from "../helpers/hello-history";
import { sleep } from "../helpers/poll";
import { providerConfig, TestApp } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
const INSTANCES = 300;
const UNAVAILABLE = 14;
const ALREADY_EXISTS = 6;
const dataDir = tempDir("dts-inline-crash-");
let server: DtsProcess | undefined;
let worker: DurableWorker | undefined;
let c: TaskHubGrpcClient | undefined;

afterAll(async () => {
  await worker?.stop();
  await c?.stop();
  await server?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** Retries `call` while the scheduler is down or restarting. */
async function whileRestarting<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if ((e as { code?: number }).code !== UNAVAILABLE || Date.now() > deadline) throw e;
      await sleep(25);
    }
  }
}

test(`kill -9 of the scheduler twice while ${INSTANCES} HelloCities5 run with inline activities: every instance completes, every history is whole`, async () => {
  const port = await deadPort();
  const serve = () => startDts(["--store", "sqlite", "--port", String(port)], { dataDir });
  server = await serve();

  let runs = 0;
  let onRun: () => void = () => undefined;
  const app = new TestApp()
    .orchestration("helloCities", function* (ctx: any) {
      const greetings: string[] = [];
      for (const city of CITIES) greetings.push(yield ctx.df.callActivity("sayHello", city));
      return greetings;
    })
    .activity("sayHello", (city: string) => {
      runs++;
      onRun();
      return `Hello, ${city}!`;
    });
  const lines: string[] = [];
  worker = await startDurableWorker(app, providerConfig(`localhost:${port}`), { log: (l) => lines.push(l), client: { reconnect: { initialDelayMs: 50, maxDelayMs: 250 } } });
  c = new TaskHubGrpcClient({ hostAddress: `localhost:${port}`, logger: new NoOpLogger(), options: { "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 250 } });
  const client = c;

  // Kills at a third and at two thirds of the activity runs, each restarting on the same port and
  // data, while the starts go on (a start the scheduler was down for is sent again).
  const reached: { at: number; resolve(): void }[] = [];
  onRun = () => reached.filter((r) => runs >= r.at).forEach((r) => r.resolve());
  const reach = (at: number) => new Promise<void>((resolve) => reached.push({ at, resolve }));
  const killedAt: number[] = [];
  const kills = (async () => {
    for (const share of [1 / 3, 2 / 3]) {
      await reach(Math.round(share * INSTANCES * CITIES.length));
      killedAt.push(runs);
      await server!.kill();
      server = await serve();
    }
  })();
  const ids = Array.from({ length: INSTANCES }, (_, i) => `inline-crash-${i}`);
  await Promise.all(ids.map((id) => whileRestarting(() => client.scheduleNewOrchestration("helloCities", undefined, id).catch((e) => {
    if ((e as { code?: number }).code !== ALREADY_EXISTS) throw e; // taken before the kill, its answer lost
    return id;
  }))));
  await kills;

  const problems: string[] = [];
  for (const id of ids) {
    const state = await whileRestarting(() => client.waitForOrchestrationCompletion(id, true, 60));
    if (state?.runtimeStatus !== OrchestrationStatus.COMPLETED) {
      problems.push(`${id}: ${state ? OrchestrationStatus[state.runtimeStatus] : "not found"}`);
      continue;
    }
    if (JSON.stringify(JSON.parse(state.serializedOutput ?? "null")) !== JSON.stringify(EXPECTED_OUTPUT)) problems.push(`${id}: output ${state.serializedOutput}`);
    for (const p of historyProblems(await whileRestarting(() => client.getOrchestrationHistory(id)))) problems.push(`${id} history: ${p}`);
  }
  process.stderr.write(`inline-activities crash: killed at ${killedAt.join(", ")} activity runs; ${runs} runs for ${INSTANCES * CITIES.length} activities, ` +
    `${lines.filter((l) => / succeeded in \d+ ms, inline$/.test(l)).length} inline\n`);
  expect(problems.slice(0, 20)).toEqual([]);
  // The activities did run inline, and each ran at least once.
  expect(lines.filter((l) => / succeeded in \d+ ms, inline$/.test(l)).length).toBeGreaterThan(INSTANCES);
  expect(runs).toBeGreaterThanOrEqual(INSTANCES * CITIES.length);
}, 120_000);
