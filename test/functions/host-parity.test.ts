// `dts func start` answering as `func start` with the Durable extension does: /admin/host/status,
// query-string values in request.params, the management API's status codes for every state an
// instance can be in, and purging an entity through the purge API. Real `dts serve` and
// `dts func start` processes, driven over HTTP.
import * as path from "path";
import { TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { deadPort, DtsProcess, startDts } from "../helpers/dts-process";
import { connectionString, FIXTURES, FuncHostProcess, http, HttpResult, pollStatus, pollUntil, startFuncHost } from "../helpers/func-process";
import { client } from "../helpers/sdk";

const APP = path.join(FIXTURES, "parity-app");

let dts: DtsProcess;
let host: FuncHostProcess;
let sdk: TaskHubGrpcClient;
let base: string;

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  host = await startFuncHost(APP, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
  sdk = client(`localhost:${dts.port}`);
  base = `${host.origin}/runtime/webhooks/durabletask`;
});
afterAll(async () => {
  await sdk?.stop();
  const code = await host?.stop();
  await dts?.stop();
  expect(code).toBe(0);
});

const statusOf = (id: string, runtimeStatus: string) => pollStatus(`${base}/instances/${id}`, (b) => b.runtimeStatus === runtimeStatus);

describe("GET /admin/host/status", () => {
  test("answers the host's status fields, Running once the durable worker is connected", async () => {
    const r = await pollUntil(`${host.origin}/admin/host/status`, (x) => x.body?.state === "Running");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: expect.any(String), version: expect.stringMatching(/^4\.\d+/), versionDetails: expect.any(String), instanceId: expect.any(String),
      computerName: expect.any(String), processUptime: expect.any(Number), processId: host.proc.pid,
    });
    expect(r.body.processUptime).toBeGreaterThan(0);
    expect(r.body.errors).toBeUndefined();
    expect((await http("POST", `${host.origin}/admin/host/status`)).status).toBe(405);
  });

  test("Initialized (with the reason) while the scheduler cannot be reached; Running once it can", async () => {
    const port = await deadPort();
    const waiting = await startFuncHost(APP, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(port) });
    let late: DtsProcess | undefined;
    try {
      const before = await pollUntil(`${waiting.origin}/admin/host/status`, (x) => x.body?.errors !== undefined);
      expect(before.body.state).toBe("Initialized");
      expect(before.body.errors[0]).toMatch(/work item stream was lost/);
      late = await startDts(["--store", "memory", "--port", String(port)]);
      const after = await pollUntil(`${waiting.origin}/admin/host/status`, (x) => x.body?.state === "Running", 60_000);
      expect(after.body.errors).toBeUndefined();
    } finally {
      await waiting.stop();
      await late?.stop();
    }
  }, 90_000);
});

test("request.params carries the query string, route values winning", async () => {
  const started = await http("POST", `${host.origin}/api/start?orchestrationName=Waiter`);
  expect(started.status).toBe(202);
  expect((await statusOf(started.body.id, "Running")).body.name).toBe("Waiter");

  const echoed = await http("GET", `${host.origin}/api/echo/fromRoute?name=fromQuery&other=1`);
  expect(echoed.body).toEqual({ name: "fromRoute", other: "1" });
});

// ------------------------------------------------------------------ the management route table

type State = "Pending" | "Running" | "Suspended" | "Completed" | "Failed" | "Terminated" | "Missing";
const STATES: State[] = ["Pending", "Running", "Suspended", "Completed", "Failed", "Terminated", "Missing"];

const OPS: Record<string, (id: string) => Promise<HttpResult>> = {
  status: (id) => http("GET", `${base}/instances/${id}`),
  terminate: (id) => http("POST", `${base}/instances/${id}/terminate?reason=enough`),
  suspend: (id) => http("POST", `${base}/instances/${id}/suspend?reason=pause`),
  resume: (id) => http("POST", `${base}/instances/${id}/resume?reason=go`),
  raiseEvent: (id) => http("POST", `${base}/instances/${id}/raiseEvent/Go`, { x: 1 }),
  rewind: (id) => http("POST", `${base}/instances/${id}/rewind?reason=again`),
  restart: (id) => http("POST", `${base}/instances/${id}/restart`),
  restartSameId: (id) => http("POST", `${base}/instances/${id}/restart?restartWithNewInstanceId=false`),
  purge: (id) => http("DELETE", `${base}/instances/${id}`),
};

/** A status code, or a status code and what the message says. */
type Cell = number | [number, RegExp];
const gone: Cell = [410, /because instance is in the (Completed|Failed|Terminated) state/];
const missing: Cell = [404, /No instance with ID '.*' found/];

// One row per operation, one column per state (in STATES order), as the Durable extension answers.
const TABLE: Record<keyof typeof OPS, Cell[]> = {
  status: [202, 202, 202, 200, 200, 200, 404],
  terminate: [202, 202, 202, gone, gone, gone, missing],
  suspend: [202, 202, [400, /^Cannot suspend the orchestration instance .* because instance is in the Suspended state\.$/], gone, gone, gone, missing],
  resume: [[400, /^Cannot resume the orchestration instance .* because instance is in the Pending state\.$/], [400, /^Cannot resume .* in the Running state\.$/], 202, gone, gone, gone, missing],
  raiseEvent: [202, 202, 202, gone, gone, gone, missing],
  rewind: [...["Pending", "Running", "Suspended", "Completed"].map((s): Cell => [412, new RegExp(`^This orchestration has status ${s}, but only orchestrations in the "Failed" state can be rewound\\.$`)]),
    202, [412, /status Terminated/], [404, /^No orchestration with instance ID ".*" found\.$/]],
  restart: [202, 202, 202, 202, 202, 202, [400, /^InstanceId does not match a valid orchestration instance\.$/]],
  restartSameId: [...Array(3).fill([409, /^A non-terminal instance with this instance ID already exists\.$/]), 202, 202, 202, [400, /does not match/]],
  purge: [...["Pending", "Running", "Suspended"].map((s): Cell => [412, new RegExp(`^Only orchestrations in a terminal state can be purged, but the orchestration with instance ID .* has status ${s}$`)]),
    200, 200, 200, missing],
};

/** Brings a new instance `id` of Waiter into `state` (Pending: a start scheduled an hour ahead). */
async function instanceIn(state: State, id: string): Promise<void> {
  if (state === "Missing") return;
  if (state === "Pending") {
    await sdk.scheduleNewOrchestration("Waiter", undefined, id, new Date(Date.now() + 3_600_000));
    await statusOf(id, "Pending");
    return;
  }
  expect((await http("POST", `${base}/orchestrators/Waiter/${id}`)).status).toBe(202);
  await statusOf(id, "Running");
  if (state === "Suspended") await http("POST", `${base}/instances/${id}/suspend`);
  if (state === "Completed") await http("POST", `${base}/instances/${id}/raiseEvent/Go`, { ok: true });
  if (state === "Failed") await http("POST", `${base}/instances/${id}/raiseEvent/Go`, { fail: true });
  if (state === "Terminated") await http("POST", `${base}/instances/${id}/terminate`);
  await statusOf(id, state);
}

describe.each(STATES.map((s, i) => [s, i] as const))("management API on a %s instance", (state, column) => {
  test.each(Object.keys(OPS))("%s", async (op) => {
    const id = `${op}-${state}`.toLowerCase();
    await instanceIn(state, id);
    const r = await OPS[op](id);
    const cell = TABLE[op][column];
    const [code, message] = typeof cell === "number" ? [cell, undefined] : cell;
    expect({ op, state, status: r.status }).toEqual({ op, state, status: code });
    if (message) expect(typeof r.body === "string" ? r.body : r.text).toMatch(message);
    if (op === "purge" && code === 200) {
      expect(r.body).toEqual({ instancesDeleted: 1 });
      expect((await OPS.status(id)).status).toBe(404);
    }
    if (op.startsWith("restart") && code === 202) expect(r.body.id).toEqual(op === "restartSameId" ? id : expect.not.stringMatching(`^${id}$`));
  });
});

// ------------------------------------------------------------------ entities

test("DELETE instances/@counter@key purges the entity: its state goes, GET entity answers 404", async () => {
  expect((await http("POST", `${base}/entities/Counter/k1?op=add`, 5)).status).toBe(202);
  await pollUntil(`${base}/entities/Counter/k1`, (r) => r.status === 200 && r.body === 5);

  const purged = await http("DELETE", `${base}/instances/${encodeURIComponent("@counter@k1")}`);
  expect(purged.status).toBe(200);
  expect(purged.body).toEqual({ instancesDeleted: 1 });
  expect((await http("GET", `${base}/entities/Counter/k1`)).status).toBe(404);
  // As the extension: an entity id is not looked up first, so purging one that is gone answers 200 with 0.
  expect((await http("DELETE", `${base}/instances/@counter@k1`)).body).toEqual({ instancesDeleted: 0 });

  // The name is case-insensitive (durable-functions lower-cases it); a new signal starts from nothing.
  expect((await http("POST", `${base}/entities/Counter/k1?op=add`, 2)).status).toBe(202);
  await pollUntil(`${base}/entities/Counter/k1`, (r) => r.status === 200 && r.body === 2);
  expect((await http("DELETE", `${base}/instances/@Counter@k1`)).body).toEqual({ instancesDeleted: 1 });
  expect((await http("GET", `${base}/entities/Counter/k1`)).status).toBe(404);
});

test("an entity locked by a running orchestration is not purged (412) until the lock is released", async () => {
  expect((await http("POST", `${base}/orchestrators/Holder/holder-1`, JSON.stringify("k2"), { "content-type": "application/json" })).status).toBe(202);
  await pollStatus(`${base}/instances/holder-1`, (b) => b.customStatus === "locked");

  const refused = await http("DELETE", `${base}/instances/@counter@k2`);
  expect(refused.status).toBe(412);
  expect(refused.body).toMatch(/locked by orchestration 'holder-1'/);

  await http("POST", `${base}/instances/holder-1/raiseEvent/Release`, {});
  await statusOf("holder-1", "Completed");
  // Released and empty, the entity left storage by itself; purging it finds nothing.
  expect((await http("DELETE", `${base}/instances/@counter@k2`)).body).toEqual({ instancesDeleted: 0 });
});

