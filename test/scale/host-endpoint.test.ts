// The scale monitor through the local Functions host: GET /runtime/webhooks/durabletask/scale for the
// app's hub and for another hub, and the error state (503) once the scheduler is gone.
import * as os from "os";
import * as path from "path";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { connectionString, FIXTURES, FuncHostProcess, http, startFuncHost } from "../helpers/func-process";
import { RawClient } from "../helpers/raw";
import { createBacklog } from "./helpers";

let dts: DtsProcess;
let host: FuncHostProcess;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--hubs", "default,backlog"]);
  host = await startFuncHost(path.join(FIXTURES, "client-app"), {
    DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port),
    DTS_SCALE_CACHE_SECONDS: "0", // every request reads the scheduler, so each stage is seen at once
  });
});
afterAll(async () => {
  const code = await host?.stop();
  await dts?.stop();
  expect(code).toBe(0);
});

const zero = { pending: 0, active: 0, oldestAgeSeconds: 0 };
/** The fixture app's host.json sets no limits: the Durable extension's default, 10 per processor. */
const perCore = 10 * os.availableParallelism();

test("the app's hub: metrics, limits, target and vote as JSON", async () => {
  expect(host.output()).toContain(`scale status ${host.origin}/runtime/webhooks/durabletask/scale`);
  const r = await http("GET", `${host.origin}/runtime/webhooks/durabletask/scale`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/application\/json/);
  expect(r.body).toMatchObject({
    taskHub: "default", endpoint: `http://localhost:${dts.port}`, state: "ok", error: null,
    metrics: { orchestrator: zero, activity: zero, entity: zero },
    limits: { orchestrator: perCore, activity: perCore, entity: perCore }, targetWorkers: 0, windowSize: 5,
  });
  expect(typeof r.body.metrics.connectedWorkers).toBe("number");
  expect(["None", "ScaleIn"]).toContain(r.body.vote);
  expect(new Date(r.body.timestamp).toISOString()).toBe(r.body.timestamp);
});

test("?taskHub= reads another hub: a backlog with no worker scales out", async () => {
  const raw = new RawClient(dts.address, "backlog", backendDefinition);
  await createBacklog(raw, "h", perCore + 1);
  raw.close();
  const r = await http("GET", `${host.origin}/runtime/webhooks/durabletask/scale?taskHub=backlog`);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({
    taskHub: "backlog", state: "ok", metrics: { orchestrator: { pending: perCore + 1, active: 0 }, connectedWorkers: 0 },
    targetWorkers: 2, workersPerKind: { orchestrator: 2, activity: 0, entity: 0 }, vote: "ScaleOut", voteRule: "no-workers",
  });
});

test("only GET is served", async () => {
  const r = await http("POST", `${host.origin}/runtime/webhooks/durabletask/scale`);
  expect(r.status).toBe(405);
  expect(r.headers.get("allow")).toBe("GET");
});

test("the scheduler gone: 503 with the error state and the reason, no numbers", async () => {
  await dts.stop();
  const r = await http("GET", `${host.origin}/runtime/webhooks/durabletask/scale`);
  expect(r.status).toBe(503);
  expect(r.body).toMatchObject({ taskHub: "default", state: "error", metrics: null, targetWorkers: null, vote: null, workersPerKind: null });
  expect(r.body.error).toMatch(/^GetMetrics from http:\/\/localhost:\d+ \(task hub 'default'\) failed: UNAVAILABLE/);
});
