// End-to-end: "acknowledged means durable". `dts serve` (sqlite) is killed with SIGKILL again and
// again while the official SDK starts and runs HelloCities5 orchestrations against it; every start the
// server acknowledged must finish with the right output and a whole history. And a result the client
// has seen as Completed must still be Completed, with the same output, after an immediate SIGKILL.
//
// DTS_CRASH_INSTANCES (default 2000) and DTS_CRASH_TRIALS (default 50) scale the two tests for local
// stress runs; the timeouts scale with them.
import * as fs from "fs";
import { ActivityContext, NoOpLogger, OrchestrationContext, OrchestrationState, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { CITIES, helloCities, sayHello } from "../bench/workloads";
import { deadPort, DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { EXPECTED_OUTPUT, historyProblems } from "../helpers/hello-history";
import { deferred, Deferred } from "../helpers/raw";
import { sleep } from "../helpers/poll";
import { worker } from "../helpers/sdk";

const S = OrchestrationStatus;
const INSTANCES = Number(process.env.DTS_CRASH_INSTANCES ?? 2000);
const KILLS = 10;
const TRIALS = Number(process.env.DTS_CRASH_TRIALS ?? 50);

const servers: DtsProcess[] = [];
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const dirs: string[] = [];
/** Workers and clients of killed servers, stopped in the background (each stop() sleeps a second). */
const stopping: Promise<unknown>[] = [];
/** False once the first test is over (also when it timed out): its loops (starts, kills, retries) stop. */
let crashRunActive = true;
/** Set by afterAll: a server that comes up later (a restart under way when a test timed out) is killed at once. */
let closing = false;

afterAll(async () => {
  crashRunActive = false;
  closing = true;
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await Promise.all([...stopping, ...clients.map((c) => c.stop().catch(() => undefined))]);
  await Promise.all(servers.map((s) => s.kill()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}, 30_000);

async function serve(dataDir: string, port?: number): Promise<DtsProcess> {
  const p = await startDts(["--store", "sqlite", ...(port === undefined ? [] : ["--port", String(port)])], { dataDir });
  servers.push(p);
  if (closing) {
    await p.kill();
    throw new Error("the suite is over");
  }
  return p;
}

/** An SDK client whose channel retries a lost connection quickly (grpc-js starts at 1 s otherwise). */
function quickClient(address: string): TaskHubGrpcClient {
  const c = new TaskHubGrpcClient({
    hostAddress: address, logger: new NoOpLogger(),
    options: { "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 250 },
  });
  clients.push(c);
  return c;
}

const grpcCodeOf = (e: unknown): number | undefined => (e as { code?: number }).code;
const UNAVAILABLE = 14;

/** A count that can be awaited: reach(n) resolves once the count is at least n. */
class Counter {
  value = 0;
  private waiters: { n: number; d: Deferred<void> }[] = [];
  add(k = 1): void {
    this.value += k;
    this.waiters = this.waiters.filter((w) => {
      if (this.value < w.n) return true;
      w.d.resolve();
      return false;
    });
  }
  reach(n: number): Promise<void> {
    if (this.value >= n) return Promise.resolve();
    const d = deferred();
    this.waiters.push({ n, d });
    return d.promise;
  }
}

/** Fails with `what` if `p` has not settled after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms).unref()));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` over `items`, `concurrency` at a time. */
async function eachLimit<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Retries `call` while the server is unreachable (a channel still reconnecting after a restart). */
async function retryUnavailable<T>(call: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (grpcCodeOf(e) !== UNAVAILABLE || Date.now() > deadline || !crashRunActive) throw e;
      await sleep(25);
    }
  }
}

async function crashRun(): Promise<void> {
  const t0 = Date.now();
  const dataDir = tempDir("dts-crash-");
  dirs.push(dataDir);
  const port = await deadPort();
  const address = `127.0.0.1:${port}`;
  let server = await serve(dataDir, port);
  const c = quickClient(address);

  // One SDK worker for the whole run: it reconnects by itself (backoff from 1 s) to the same address.
  const activityRuns = new Counter();
  const w = worker(address);
  workers.push(w);
  w.addOrchestrator(helloCities);
  w.addNamedActivity("sayHello", (ctx: ActivityContext, city: string) => {
    activityRuns.add();
    return sayHello(ctx, city);
  });
  await w.start();

  // ---- starts, throttled to a backlog of BACKLOG instances the worker has not finished yet, so the
  // kills (paced by the activities that ran) fall all along the run and starts keep coming between them.
  const BACKLOG = Math.max(50, Math.round(INSTANCES / KILLS));
  const LANES = 16;
  const acknowledged: string[] = [];
  const unacknowledged: { id: string; code?: number; message: string; serverDown: boolean }[] = [];
  let up: Deferred<void> & { done: boolean } = { ...deferred(), done: true };
  up.resolve();
  let seq = 0;
  let pending = 0;
  const starter = async () => {
    while (crashRunActive && acknowledged.length + pending < INSTANCES) {
      pending++;
      await activityRuns.reach(CITIES.length * (acknowledged.length - BACKLOG));
      const id = `crash-${String(seq++).padStart(6, "0")}`;
      const downAtStart = !up.done;
      try {
        await c.scheduleNewOrchestration(helloCities, null, id);
        acknowledged.push(id);
      } catch (e) {
        unacknowledged.push({ id, code: grpcCodeOf(e), message: (e as Error).message, serverDown: downAtStart || !up.done });
        // Wait for the restart, then give the channel a moment to reconnect.
        await up.promise;
        await sleep(25);
      } finally {
        pending--;
      }
    }
  };
  const starts = Promise.all(Array.from({ length: LANES }, starter));

  // ---- kills, at 5%, 15%, ..., 95% of the activity work; each restarts on the same port and data.
  const restartMs: number[] = [];
  const killAt: { activityRuns: number; acknowledged: number; s: number }[] = [];
  for (let k = 0; k < KILLS; k++) {
    const threshold = Math.round(((k + 0.5) / KILLS) * INSTANCES * CITIES.length);
    await within(activityRuns.reach(threshold), 60_000, () => `activity runs reaching ${threshold} before kill ${k + 1} (at ${activityRuns.value}, ${acknowledged.length} acknowledged)`);
    if (!crashRunActive) return;
    killAt.push({ activityRuns: activityRuns.value, acknowledged: acknowledged.length, s: (Date.now() - t0) / 1000 });
    up = { ...deferred(), done: false };
    await server.kill();
    const t = Date.now();
    server = await serve(dataDir, port);
    restartMs.push(Date.now() - t);
    up.done = true;
    up.resolve();
  }
  await within(starts, 60_000, () => `starts (${acknowledged.length} acknowledged)`);
  const tRun = Date.now();

  // ---- every acknowledged instance completes, with the right output
  const deadline = Date.now() + 60_000;
  const problems: string[] = [];
  const checked: string[] = [];
  const check = async (id: string) => {
    const state = await retryUnavailable(() => c.waitForOrchestrationCompletion(id, true, 30), deadline);
    if (!state) return problems.push(`${id}: not found`);
    checked.push(id);
    if (state.runtimeStatus !== S.COMPLETED) return problems.push(`${id}: ${S[state.runtimeStatus]} ${state.failureDetails?.message ?? ""}`);
    if (JSON.stringify(JSON.parse(state.serializedOutput ?? "null")) !== JSON.stringify(EXPECTED_OUTPUT)) problems.push(`${id}: output ${state.serializedOutput}`);
  };
  await eachLimit(acknowledged, 32, check);
  // Starts that failed are not acknowledged, but those the server did take must be just as whole.
  const taken: string[] = [];
  await eachLimit(unacknowledged, 32, async ({ id }) => {
    if (await retryUnavailable(() => c.getOrchestrationState(id, false), deadline)) taken.push(id);
  });
  await eachLimit(taken, 32, check);
  const tDone = Date.now();

  // ---- and every history is whole
  await eachLimit(checked, 32, async (id) => {
    const history = await retryUnavailable(() => c.getOrchestrationHistory(id), deadline);
    for (const p of historyProblems(history)) problems.push(`${id} history: ${p}`);
  });
  const tEnd = Date.now();

  const codes = [...new Set(unacknowledged.map((u) => u.code))];
  process.stderr.write(`crash-recovery: ${acknowledged.length} acknowledged starts, ${unacknowledged.length} failed (grpc codes ${codes.join(",")}; ` +
    `${unacknowledged.filter((u) => !u.serverDown).length} while the server was up), ${taken.length} of those exist anyway; ` +
    `kills at activity runs/acknowledged/seconds ${killAt.map((k) => `${k.activityRuns}/${k.acknowledged}/${k.s.toFixed(1)}`).join(" ")}; restarts ${restartMs.join(",")} ms; ` +
    `${activityRuns.value} activity runs for ${(acknowledged.length + taken.length) * CITIES.length} activities; ` +
    `run ${((tRun - t0) / 1000).toFixed(1)} s, completion ${((tDone - tRun) / 1000).toFixed(1)} s, histories ${((tEnd - tDone) / 1000).toFixed(1)} s\n`);

  expect(acknowledged).toHaveLength(INSTANCES);
  expect(killAt).toHaveLength(KILLS);
  expect(problems.slice(0, 50)).toEqual([]);
}

test(`kill -9 of the server ${KILLS} times during a run of ${INSTANCES} HelloCities5 with new starts between kills: every acknowledged instance completes with the right output, and every history is whole`, () =>
  crashRun().finally(() => {
    crashRunActive = false;
  }), 240_000 * Math.max(1, INSTANCES / 2000)); // an upper bound for a loaded machine; ~40 s when quiet

test(`Completed means durable: ${TRIALS} times, an instance the client saw Completed is still Completed with the same output after an immediate kill -9 and restart`, async () => {
  crashRunActive = false; // the first test is over, even if it timed out
  const t0 = Date.now();
  const dataDir = tempDir("dts-crash-completed-");
  dirs.push(dataDir);
  async function* helloOnce(ctx: OrchestrationContext, city: string): AsyncGenerator<unknown, string, string> {
    return yield ctx.callActivity(sayHello, city);
  }
  // A fresh server port, client and worker per restart: the SDK worker would need a second to
  // reconnect (its backoff), which would dominate every trial; the old ones stop in the background.
  const connect = (address: string) => {
    const w = worker(address);
    w.addOrchestrator(helloOnce);
    w.addActivity(sayHello);
    return { c: quickClient(address), w };
  };
  let server = await serve(dataDir);
  let { c, w } = connect(server.address);
  workers.push(w);
  await w.start();

  // How the client sees Completed alternates. "wait": WaitForInstanceCompletion, issued before the
  // instance completes, so the server answers it when it notifies its waiters. "poll": GetInstance
  // back to back, with no pause (a pause would only shrink the chance): a poll can land between the
  // completion arriving from the worker and its commit, which is where a server that answers reads
  // from memory shows a state a crash can take back. The server at 8eeb80e did so in 8 of 100 poll
  // trials (over three runs: RUNNING after the restart); "wait" trials never caught it there.
  const seeCompleted = async (c: TaskHubGrpcClient, id: string, how: "wait" | "poll"): Promise<OrchestrationState | undefined> => {
    if (how === "wait") return c.waitForOrchestrationCompletion(id, true, 30);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const s = await c.getOrchestrationState(id, true);
      if ((s && s.runtimeStatus !== S.RUNNING && s.runtimeStatus !== S.PENDING) || Date.now() > deadline) return s;
    }
  };

  const failures: string[] = [];
  const restartMs: number[] = [];
  for (let trial = 1; trial <= TRIALS; trial++) {
    const id = `completed-${trial}`;
    const city = `City-${trial}`;
    const how = trial % 2 ? "wait" : "poll";
    await c.scheduleNewOrchestration(helloOnce, city, id);
    const seen = await seeCompleted(c, id, how);
    expect(seen?.runtimeStatus).toBe(S.COMPLETED);
    expect(JSON.parse(seen!.serializedOutput!)).toBe(`Hello, ${city}!`);

    await server.kill();
    const t = Date.now();
    workers.splice(workers.indexOf(w), 1);
    stopping.push(w.stop().catch(() => undefined), c.stop().catch(() => undefined));
    clients.splice(clients.indexOf(c), 1);
    server = await serve(dataDir);
    restartMs.push(Date.now() - t);
    ({ c, w } = connect(server.address));
    workers.push(w);
    await w.start();

    const after = await c.getOrchestrationState(id, true);
    if (!after) failures.push(`trial ${trial} (${how}): ${id} not found after the restart`);
    else if (after.runtimeStatus !== S.COMPLETED || after.serializedOutput !== seen!.serializedOutput) {
      failures.push(`trial ${trial} (${how}): ${id} is ${S[after.runtimeStatus]} with output ${after.serializedOutput} after the restart (was COMPLETED ${seen!.serializedOutput})`);
    }
  }
  const sorted = [...restartMs].sort((a, b) => a - b);
  process.stderr.write(`crash-recovery (completed): ${TRIALS} trials in ${((Date.now() - t0) / 1000).toFixed(1)} s; restart to listening ` +
    `median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms; ${failures.length} failed\n`);
  expect(failures).toEqual([]);
}, 180_000 * Math.max(1, TRIALS / 50)); // an upper bound for a loaded machine; ~28 s when quiet
