// The metrics cache (one read per interval, concurrent callers share one read, failures are samples
// with a reason) and the monitor's status over it, with a fake scheduler read and a fake clock.
import { resolveTrigger, metricNameFor, MetadataError } from "../../scale/keda/metadata";
import { fromBackendMetrics, HubMetrics } from "../../scale/metrics";
import { MetricsSource } from "../../scale/metrics-source";
import { ScaleMonitor } from "../../scale/monitor";
import { resolveScaleConfig, ScaleConfigError } from "../../scale/config";
import { DEFAULT_LIMITS } from "../../scale/limits";
import { sample } from "./fixtures";

/** A read whose answers the test hands out one by one. */
function fakeRead() {
  const pending: { resolve(m: HubMetrics): void; reject(e: Error): void }[] = [];
  let calls = 0;
  const read = () => {
    calls++;
    return new Promise<HubMetrics>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { read, calls: () => calls, next: () => pending.shift()! };
}

test("concurrent callers share one read; within the cache time the read is reused; after it a new read starts", async () => {
  let now = 1000;
  const f = fakeRead();
  const source = new MetricsSource(f.read, "GetMetrics", { cacheMs: 5000, now: () => now });
  const a = source.get();
  const b = source.get();
  expect(f.calls()).toBe(1);
  f.next().resolve(sample({ o: { pending: 3 } }));
  const [ra, rb] = await Promise.all([a, b]);
  expect(ra).toBe(rb);
  expect(ra).toMatchObject({ ok: true, at: 1000, metrics: { orchestrator: { pending: 3 } } });
  now = 5999;
  expect(await source.get()).toBe(ra);
  expect(f.calls()).toBe(1);
  now = 6000;
  const c = source.get();
  expect(f.calls()).toBe(2);
  f.next().resolve(sample());
  expect(await c).toMatchObject({ ok: true, at: 6000 });
});

test("cacheMs 0 reuses only a read under way", async () => {
  const f = fakeRead();
  const source = new MetricsSource(f.read, "GetMetrics", { cacheMs: 0 });
  const a = source.get();
  const b = source.get();
  f.next().resolve(sample());
  await Promise.all([a, b]);
  expect(f.calls()).toBe(1);
  const c = source.get();
  expect(f.calls()).toBe(2);
  f.next().resolve(sample());
  await c;
});

test("a failed read is a sample with the reason (and is cached too); a gRPC error reads CODE: details", async () => {
  const f = fakeRead();
  const source = new MetricsSource(f.read, "GetMetrics from x", { cacheMs: 60_000 });
  const a = source.get();
  f.next().reject(Object.assign(new Error("14 UNAVAILABLE: No connection established"), { code: 14, details: "No connection established" }));
  expect(await a).toMatchObject({ ok: false, error: "GetMetrics from x failed: UNAVAILABLE: No connection established" });
  expect(await source.get()).toBe(await a);
  expect(f.calls()).toBe(1);
});

test("a read that does not answer in time fails with a timeout", async () => {
  const f = fakeRead();
  const source = new MetricsSource(f.read, "GetMetrics", { cacheMs: 0, timeoutMs: 20 });
  expect(await source.get()).toMatchObject({ ok: false, error: "GetMetrics failed: no answer within 0.02 s" });
});

test("the monitor adds one vote sample per read, not per call, and an error clears the window", async () => {
  let now = 0;
  const f = fakeRead();
  const source = new MetricsSource(f.read, "GetMetrics", { cacheMs: 1000, now: () => now });
  const monitor = new ScaleMonitor(source, { taskHub: "h", endpoint: "http://x" }, DEFAULT_LIMITS, 2);
  const read = async (m: HubMetrics | Error) => {
    now += 1000;
    const p = monitor.status();
    const n = f.next();
    if (m instanceof Error) n.reject(m);
    else n.resolve(m);
    return p;
  };
  let s = await read(sample({ workers: 1 }));
  expect(s).toMatchObject({ state: "ok", error: null, targetWorkers: 0, vote: "None", voteRule: "collecting", samples: 1, windowSize: 2 });
  expect(await monitor.status()).toMatchObject({ samples: 1 }); // cached: no new sample
  s = await read(sample({ workers: 1 }));
  expect(s).toMatchObject({ vote: "ScaleIn", voteRule: "idle", samples: 2 });
  s = await read(new Error("boom"));
  expect(s).toMatchObject({ state: "error", error: "GetMetrics failed: boom", metrics: null, targetWorkers: null, vote: null, samples: 0 });
  s = await read(sample({ o: { pending: 25, active: 2 }, workers: 1 }));
  expect(s).toMatchObject({ state: "ok", targetWorkers: 3, workersPerKind: { orchestrator: 3, activity: 0, entity: 0 }, vote: "None", samples: 1 });
  expect(s.timestamp).toBe(new Date(now).toISOString());
});

test("GetMetrics responses: missing counters are zero, a missing metrics message is an error", () => {
  expect(fromBackendMetrics({ metrics: { orchestratorWorkItems: { pending: 2 }, connectedWorkers: {} } })).toEqual(sample({ o: { pending: 2 } }));
  expect(() => fromBackendMetrics({})).toThrow(/no metrics/);
});

test("scale config: the command line's connection string and hub, defaults of 10 per kind", () => {
  const cs = "Endpoint=http://localhost:1234;TaskHub=hub1;Authentication=None";
  expect(resolveScaleConfig({ connectionString: cs, env: {} })).toEqual({
    connection: expect.objectContaining({ endpoint: "http://localhost:1234", taskHub: "hub1" }), taskHub: "hub1", limits: DEFAULT_LIMITS,
  });
  expect(resolveScaleConfig({ connectionString: cs, taskHub: "other", env: {} }).taskHub).toBe("other");
  expect(resolveScaleConfig({ env: { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: cs } }).taskHub).toBe("hub1");
  expect(() => resolveScaleConfig({ env: {} })).toThrow(ScaleConfigError);
  expect(() => resolveScaleConfig({ connectionString: "Endpoint=http://x;Authentication=None", env: {} })).toThrow(/no task hub/);
});

test("KEDA trigger metadata: hub, connection string by environment variable, limits; bad values are named", () => {
  const defaults = { connection: resolveScaleConfig({ connectionString: "Endpoint=http://a:1;TaskHub=d;Authentication=None", env: {} }).connection, taskHub: "d", limits: DEFAULT_LIMITS };
  const env = { OTHER: "Endpoint=http://b:2;TaskHub=fromenv;Authentication=None", JUNK: "secret-value" };
  expect(resolveTrigger({}, defaults, env)).toMatchObject({ taskHub: "d", connection: { endpoint: "http://a:1" }, limits: DEFAULT_LIMITS });
  expect(resolveTrigger({ TaskHub: "x", maxConcurrentActivityFunctions: "3" }, defaults, env)).toMatchObject({ taskHub: "x", limits: { orchestrator: 10, activity: 3, entity: 10 } });
  expect(resolveTrigger({ connectionStringName: "OTHER" }, defaults, env)).toMatchObject({ taskHub: "fromenv", connection: { endpoint: "http://b:2" } });
  expect(() => resolveTrigger({ connectionStringName: "MISSING" }, defaults, env)).toThrow(/no variable MISSING/);
  const junk = (() => { try { resolveTrigger({ connectionStringName: "JUNK" }, defaults, env); } catch (e) { return e as Error; } })();
  expect(junk).toBeInstanceOf(MetadataError);
  expect(junk!.message).not.toContain("secret-value");
  expect(() => resolveTrigger({ maxConcurrentEntityFunctions: "0" }, defaults, env)).toThrow(/maxConcurrentEntityFunctions must be a whole number/);
  expect(() => resolveTrigger({ maxConcurrentEntityFunctions: "2.5" }, defaults, env)).toThrow(MetadataError);
  expect(() => resolveTrigger({}, {}, env)).toThrow(/no scheduler/);
  expect(metricNameFor("My_Hub")).toBe("durabletask-target-workers-my-hub");
});
