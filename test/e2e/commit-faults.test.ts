// Fault injection on the commit path, with the real engine and SQLite store in this process and the
// official SDK over real gRPC: commits that fail or crawl (injected at the store boundary), another
// process holding the database's write lock, the writer thread dying, and a store that cannot be
// opened. What must hold: every acknowledged start and event exists exactly once and finishes; a
// refused one is never written later; memory equals what a fresh load from disk gives; a store that
// cannot write stops the scheduler instead of answering while nothing is stored.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import { HistoryEventType, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { HistoryEvent } from "../../src/core/model";
import { startDashboard } from "../../src/dashboard/dashboard-server";
import { TaskHub } from "../../src/scheduler/task-hub";
import { RunningServer, startServer } from "../../src/server/server";
import { SQLITE_FILE, SqliteStore, Store } from "../../src/store";
import { encodeEvent } from "../../src/store/encoded-batch";
import { startDts, tempDir } from "../helpers/dts-process";
import { FaultyStore } from "../helpers/faulty-store";
import { inParallel, pollUntil } from "../helpers/poll";
import { client, completed, worker } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;
const UNAVAILABLE = 14;
const HOLDER = path.resolve(__dirname, "../fixtures/sqlite-lock-holder.js");
const dirs: string[] = [];
const stops: (() => Promise<unknown>)[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}, 30_000);

function dir(): string {
  const d = tempDir("dts-faults-");
  dirs.push(d);
  return d;
}

/** A server in this process over `store`, with an SDK worker that runs "Faulty" and a client. */
async function serve(store: FaultyStore): Promise<{ server: RunningServer; c: TaskHubGrpcClient; w: TaskHubGrpcWorker }> {
  const server = await startServer({ port: 0, host: "127.0.0.1", store: "sqlite", dataDir: "", storeInstance: store });
  stops.push(() => server.close());
  const address = `127.0.0.1:${server.port}`;
  const w = worker(address);
  // Inc(n) = n + 1; the orchestration waits for "go" between two activities.
  w.addNamedOrchestrator("Faulty", async function* (ctx: OrchestrationContext, n: number): AsyncGenerator<Task<any>, any, any> {
    const a = yield ctx.callActivity("Inc", n);
    const go = yield ctx.waitForExternalEvent("go");
    const b = yield ctx.callActivity("Inc", a);
    return [a, go, b];
  });
  w.addNamedActivity("Inc", (_ctx: unknown, n: number) => n + 1);
  await w.start();
  stops.push(() => w.stop());
  const c = client(address);
  stops.push(() => c.stop());
  return { server, c, w };
}

function codeOf(e: unknown): number | undefined {
  return (e as { code?: number }).code;
}

/** Starts `ids`; returns which the server acknowledged and which it refused (UNAVAILABLE only). */
async function startAll(c: TaskHubGrpcClient, ids: string[]): Promise<{ acked: string[]; refused: string[] }> {
  const acked: string[] = [];
  const refused: string[] = [];
  await inParallel(ids.length, 8, async (i) => {
    const id = ids[i];
    try {
      await c.scheduleNewOrchestration("Faulty", i, id);
      acked.push(id);
    } catch (e) {
      expect({ id, code: codeOf(e), message: String(e) }).toMatchObject({ code: UNAVAILABLE });
      refused.push(id);
    }
  });
  return { acked, refused };
}

/** Raises "go" once per instance: a refused raise (UNAVAILABLE) is tried again until acknowledged. */
async function raiseAll(c: TaskHubGrpcClient, ids: string[]): Promise<number> {
  let refusals = 0;
  await inParallel(ids.length, 8, async (i) => {
    const id = ids[i];
    for (;;) {
      try {
        await c.raiseOrchestrationEvent(id, "go", id);
        return;
      } catch (e) {
        expect({ id, code: codeOf(e), message: String(e) }).toMatchObject({ code: UNAVAILABLE });
        refusals++;
      }
    }
  });
  return refusals;
}

/** Each acknowledged instance finished with the right output and a whole history: nothing lost, nothing twice. */
async function checkFinished(c: TaskHubGrpcClient, ids: string[]): Promise<void> {
  for (const id of ids) {
    const s = await completed(c, id, 60);
    const n = Number(JSON.parse(s.serializedInput!));
    expect({ id, status: s.runtimeStatus, output: JSON.parse(s.serializedOutput!) }).toEqual({ id, status: S.COMPLETED, output: [n + 1, id, n + 2] });
    const history = await c.getOrchestrationHistory(id);
    const count = (t: HistoryEventType) => history.filter((e) => e.type === t).length;
    expect({
      id, started: count(HistoryEventType.ExecutionStarted), raised: count(HistoryEventType.EventRaised),
      scheduled: count(HistoryEventType.TaskScheduled), done: count(HistoryEventType.TaskCompleted), ended: count(HistoryEventType.ExecutionCompleted),
    }).toEqual({ id, started: 1, raised: 1, scheduled: 2, done: 2, ended: 1 });
  }
}

/** Refused starts were never applied, and are not written later either. */
async function checkAbsent(c: TaskHubGrpcClient, ids: string[]): Promise<void> {
  for (const id of ids) expect({ id, state: await c.getOrchestrationState(id) }).toEqual({ id, state: undefined });
}

/** Waits until no work item is pending or running, then flushes the committer. */
async function quiesce(server: RunningServer): Promise<void> {
  const hub = server.scheduler.hub("default");
  await pollUntil(async () => hub.reads.metrics(), (m) => m.orchestrations.pending + m.orchestrations.active + m.activities.pending + m.activities.active === 0, "the hub to go idle");
  await server.scheduler.committer.flush();
}

/** The engine's memory of the hub equals a fresh load of it from the store (events compared as stored bytes). */
function expectMemoryEqualsDisk(server: RunningServer): void {
  const { scheduler } = server;
  const live = scheduler.hub("default");
  const store = scheduler.store as Store;
  const fresh = new TaskHub("default", store, scheduler.committer, scheduler.options, store.load("default"));
  try {
    const canon = (hub: Pick<TaskHub, "reads">) => JSON.parse(JSON.stringify(hub.reads.hotState(), (key, v) =>
      key === "history" ? (v as HistoryEvent[]).map((e) => Buffer.from(encodeEvent(e)).toString("base64")) : v));
    expect(canon(live)).toEqual(canon(fresh));
  } finally {
    fresh.close("comparison done");
  }
}

/** Toggles faults every few milliseconds until stopped: some commits fail (slowly, so others queue behind them), some are slow. */
function injectFaults(store: FaultyStore): () => void {
  let tick = 0;
  store.failAfterMs = 30;
  const timer = setInterval(() => {
    tick++;
    if (tick % 3 === 0) store.failNext = 1;
    store.delayMs = tick % 4 === 0 ? 40 : 0;
  }, 15);
  return () => {
    clearInterval(timer);
    store.failNext = 0;
    store.delayMs = 0;
  };
}

test("failed and slow commits under concurrent starts, completions and events: acknowledged work is whole, refused work never appears, memory equals disk", async () => {
  const store = new FaultyStore(new SqliteStore(dir(), { writerThread: true }));
  const { server, c } = await serve(store);
  const logged = jest.spyOn(process.stderr, "write").mockImplementation(() => true); // the engine logs to stderr (src/log)
  try {
    const stop = injectFaults(store);
    const first = await startAll(c, Array.from({ length: 200 }, (_, i) => `a-${i}`));
    const second = await startAll(c, Array.from({ length: 200 }, (_, i) => `b-${i}`));
    stop();
    const acked = [...first.acked, ...second.acked];
    const refused = [...first.refused, ...second.refused];
    expect(store.injected.failed).toBeGreaterThan(0);
    expect(server.scheduler.committer.stats.failures).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(0);

    // Every acknowledged instance reaches its wait; then memory must be exactly what is on disk.
    await quiesce(server);
    expectMemoryEqualsDisk(server);
    await checkAbsent(c, refused);

    // Events (and the completions they cause) under faults again.
    const stopAgain = injectFaults(store);
    const raiseRefusals = await raiseAll(c, acked);
    stopAgain();
    await checkFinished(c, acked);
    await checkAbsent(c, refused);
    await quiesce(server);
    expectMemoryEqualsDisk(server);
    // Refusals were reported, with the reload.
    expect(logged.mock.calls.some((args) => /a commit failed .* refused and not applied; reloading/.test(String(args[0])))).toBe(true);
    void raiseRefusals;
  } finally {
    logged.mockRestore();
  }
}, 120_000);

/** Starts the lock-holder fixture on `file`; resolves once it holds the write lock. */
async function holdLock(file: string): Promise<{ release: () => Promise<void> }> {
  const child = spawn(process.execPath, [HOLDER, file], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("locked")) resolve();
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    exited.then(() => reject(new Error(`lock holder exited: ${out}`)));
  });
  return {
    release: async () => {
      child.stdin!.end("release\n");
      await exited;
    },
  };
}

test("another process holding the SQLite write lock: short holds are waited out, long ones refuse changes and the engine recovers", async () => {
  const d = dir();
  const logs: string[] = [];
  const store = new FaultyStore(new SqliteStore(d, { writerThread: true, busyTimeoutMs: 1000, log: (m) => logs.push(m) }));
  const { server, c } = await serve(store);
  const logged = jest.spyOn(process.stderr, "write").mockImplementation(() => true); // the engine logs to stderr (src/log)
  try {
    // Held shorter than the bound: commits wait, then go through; nothing is refused.
    const short = await holdLock(path.join(d, SQLITE_FILE));
    const starting = startAll(c, Array.from({ length: 50 }, (_, i) => `s-${i}`));
    await pollUntil(async () => logs.length, (n) => n > 0, "a commit to report that it waits");
    await short.release();
    const s = await starting;
    expect(s.refused).toEqual([]);
    expect(logs.some((m) => /waiting: the database is locked/.test(m))).toBe(true);
    await pollUntil(async () => logs.some((m) => /went through after/.test(m)), Boolean, "the waiting commit to go through");

    // Held past the bound: those commits fail and are refused; afterwards everything works again.
    const long = await holdLock(path.join(d, SQLITE_FILE));
    const failures = server.scheduler.committer.stats.failures;
    const during = startAll(c, Array.from({ length: 50 }, (_, i) => `l-${i}`));
    await pollUntil(async () => server.scheduler.committer.stats.failures, (n) => n > failures, "a commit to give up");
    await long.release();
    const l = await during;
    expect(l.refused.length).toBeGreaterThan(0);
    const after = await startAll(c, Array.from({ length: 50 }, (_, i) => `z-${i}`));
    expect(after.refused).toEqual([]);

    const acked = [...s.acked, ...l.acked, ...after.acked];
    await quiesce(server);
    expectMemoryEqualsDisk(server);
    expect(await raiseAll(c, acked)).toBe(0);
    await checkFinished(c, acked);
    await checkAbsent(c, l.refused);
  } finally {
    logged.mockRestore();
  }
}, 120_000);

test("the writer thread dying stops the scheduler: calls get UNAVAILABLE, the fatal listeners are told, the probes answer 503", async () => {
  const sqlite = new SqliteStore(dir(), { writerThread: true });
  const { server, c } = await serve(new FaultyStore(sqlite));
  const dashboard = await startDashboard(server.scheduler, "localhost", 0);
  const probe = async (name: string) => {
    const r = await fetch(`http://localhost:${dashboard.port}/${name}`);
    return { status: r.status, body: await r.text() };
  };
  await c.waitForOrchestrationStart(await c.scheduleNewOrchestration("Faulty", 1, "before"), false, 30);
  expect([await probe("healthz"), await probe("readyz")]).toEqual([{ status: 200, body: "ok\n" }, { status: 200, body: "ok\n" }]);
  const logged = jest.spyOn(process.stderr, "write").mockImplementation(() => true); // the engine logs to stderr (src/log)
  try {
    const fatal = new Promise<Error>((resolve) => server.scheduler.onFatal(resolve));
    await sqlite.writer!.crashForTest();
    expect((await fatal).message).toMatch(/writer thread exited/);
    const start = await c.scheduleNewOrchestration("Faulty", 2, "after").catch((e) => e);
    expect({ code: codeOf(start), message: String(start) }).toMatchObject({ code: UNAVAILABLE, message: expect.stringMatching(/cannot write to its store/) });
    const read = await c.getOrchestrationState("before").catch((e) => e);
    expect(codeOf(read)).toBe(UNAVAILABLE);
    for (const name of ["healthz", "readyz"]) expect(await probe(name)).toEqual({ status: 503, body: expect.stringMatching(/^cannot write to its store: .*writer thread exited/) });
  } finally {
    logged.mockRestore();
    await dashboard.close();
  }
}, 60_000);

test("dts serve exits with a clear message when its database cannot be opened: a newer schema, or a lock held past --store-busy-timeout", async () => {
  const newer = dir();
  const db = new Database(path.join(newer, SQLITE_FILE));
  db.pragma("user_version = 99");
  db.close();
  await expect(startDts(["--store", "sqlite"], { dataDir: newer })).rejects.toThrow(/exited with 1[\s\S]*schema version 99 is newer than this build supports/);

  const locked = dir();
  const holder = await holdLock(path.join(locked, SQLITE_FILE));
  try {
    await expect(startDts(["--store", "sqlite", "--store-busy-timeout", "1"], { dataDir: locked })).rejects.toThrow(/exited with 1[\s\S]*locked by another connection/);
  } finally {
    await holder.release();
  }
  // Once the lock is gone, the same directory serves.
  const ok = await startDts(["--store", "sqlite"], { dataDir: locked });
  stops.push(() => ok.stop());
}, 60_000);
