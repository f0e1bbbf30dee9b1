// End to end as a user would run it, for an app on durable-functions 4 (the gRPC provider): the
// scheduler (`dts serve`) and test/df4-app (`dts func start`), each in its own process, driven over
// HTTP only: the app's starter and client functions (whose durable client calls the host's loopback
// gRPC channel), the check-status URLs, and the Durable HTTP management API.
import { createServer } from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { DtsProcess } from "../helpers/dts-process";
import { DF4_APP } from "../helpers/df4-app";
import { AppOnScheduler, connectionString, FIXTURES, fill, FuncHostProcess, http, pollStatus, spawnHost, startAppOnScheduler, startFuncHost } from "../helpers/func-process";

const GREETINGS = ["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!", "Hello, Cairo!", "Hello, Lima!"];

let app: AppOnScheduler;
let dts: DtsProcess;
let host: FuncHostProcess;
let api: string;

beforeAll(async () => {
  // A second hub for the app with other host.json limits, so the two hosts do not share work.
  app = await startAppOnScheduler(DF4_APP, ["--hubs", "default,limits"]);
  ({ dts, host } = app);
  api = `${host.origin}/runtime/webhooks/durabletask`;
});
afterAll(async () => {
  expect(await app?.stop()).toBe(0);
});

interface CheckStatus {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  purgeHistoryDeleteUri: string;
  suspendPostUri: string;
  resumePostUri: string;
  restartPostUri: string;
  rewindPostUri: string;
}

/** POSTs to the app's HTTP starter and returns the check-status payload. */
async function start(name: string, input?: unknown, instanceId?: string): Promise<CheckStatus> {
  // A string input goes as JSON too (http() would send a string as text).
  const body = typeof input === "string" ? JSON.stringify(input) : input;
  const r = await http("POST", `${host.origin}/api/orchestrators/${name}${instanceId ? `/${instanceId}` : ""}`, body, { "content-type": "application/json" });
  expect(r.status).toBe(202);
  return r.body;
}

/** One durable client operation through the app's ClientOps function. */
async function client(op: string, args: Record<string, unknown> = {}) {
  const r = await http("POST", `${host.origin}/api/client/${op}`, args);
  return r;
}

async function done(s: CheckStatus, timeoutMs?: number) {
  return (await pollStatus(s.statusQueryGetUri, undefined, timeoutMs)).body;
}

test("the host names the protocol: durable-functions 4 over gRPC, with a loopback channel for the client", () => {
  expect(host.output()).toMatch(/HelloCities: orchestrationTrigger \(durable-functions 4 gRPC protocol\)/);
  expect(host.output()).toMatch(/HttpStart: durable client \(durable-functions 4 gRPC protocol\)/);
  expect(host.output()).toMatch(/Durable client gRPC channel listening on http:\/\/127\.0\.0\.1:\d+\//);
});

test("HelloCities through the HTTP starter: five greetings at the statusQueryGetUri, with history", async () => {
  const r = await http("POST", `${host.origin}/api/orchestrators/HelloCities`);
  expect(r.status).toBe(202);
  expect(r.headers.get("location")).toBe(r.body.statusQueryGetUri);
  expect(r.body.statusQueryGetUri).toBe(`${api}/instances/${r.body.id}`);
  const status = await done(r.body);
  expect(status).toMatchObject({ name: "HelloCities", instanceId: r.body.id, runtimeStatus: "Completed", output: GREETINGS });

  const withHistory = await http("GET", `${r.body.statusQueryGetUri}?showHistory=true&showHistoryOutput=true`);
  const events = withHistory.body.historyEvents as { EventType: string; FunctionName?: string; Result?: unknown }[];
  expect(events.filter((e) => e.EventType === "TaskCompleted").map((e) => e.Result)).toEqual(GREETINGS);

  // The same through the client over gRPC: status with history.
  const viaClient = await client("status", { id: r.body.id, showHistory: true, showHistoryOutput: true });
  expect(viaClient.status).toBe(200);
  expect(viaClient.body.result).toMatchObject({ instanceId: r.body.id, runtimeStatus: "Completed", output: GREETINGS });
  expect(viaClient.body.result.history.length).toBeGreaterThan(10);
});

test("fan-out/fan-in, sub-orchestrations and continue-as-new", async () => {
  const fan = await start("FanOutFanIn", { items: ["a", "bb", "ccc", "dddd"] });
  const parent = await start("Parent");
  const countdown = await start("Countdown", 3);
  expect(await done(fan)).toMatchObject({ runtimeStatus: "Completed", output: { count: 4, totalLength: 10 } });
  expect(await done(parent)).toMatchObject({ runtimeStatus: "Completed", output: { child: GREETINGS, parent: parent.id } });
  const child = await http("GET", `${api}/instances/${parent.id}-child`);
  expect(child.body).toMatchObject({ name: "HelloCities", runtimeStatus: "Completed" });
  expect(await done(countdown)).toMatchObject({ runtimeStatus: "Completed", output: "liftoff", customStatus: { remaining: 0 } });
});

test("an external event raced against a timer, custom status along the way; an activity raced against a timer", async () => {
  const s = await start("ApprovalWorkflow", { timeoutSeconds: 600 });
  const waiting = await pollStatus(s.statusQueryGetUri, (b) => (b.customStatus as { stage?: string } | null)?.stage === "WaitingForApproval");
  expect(waiting.body.runtimeStatus).toBe("Running");
  expect((await http("POST", fill(s.sendEventPostUri, { eventName: "Approval" }), { who: "ann" })).status).toBe(202);
  expect(await done(s)).toMatchObject({ runtimeStatus: "Completed", output: { status: "Approved", by: { who: "ann" } }, customStatus: { stage: "Approved" } });

  const timedOut = await start("ApprovalWorkflow", { timeoutSeconds: 1 });
  expect(await done(timedOut)).toMatchObject({ runtimeStatus: "Completed", output: { status: "TimedOut" } });

  const activityWins = await start("ActivityTimerRace", { activityMs: 10, timerSeconds: 30 });
  const timerWins = await start("ActivityTimerRace", { activityMs: 3000, timerSeconds: 1 });
  expect(await done(activityWins)).toMatchObject({ output: { winner: "activity", result: "slept 10 ms" } });
  expect(await done(timerWins)).toMatchObject({ output: { winner: "timer" } });
});

test("retries: an activity that fails twice succeeds on its third attempt; one that always fails fails the orchestration", async () => {
  const s = await start("RetryWorkflow");
  expect(await done(s)).toMatchObject({ runtimeStatus: "Completed", output: { attempts: 3 } });
  const f = await start("FailingWorkflow", "the disk is full");
  const failed = await done(f);
  expect(failed.runtimeStatus).toBe("Failed");
  expect(JSON.stringify(failed.output)).toContain("the disk is full");
});

test("isReplaying is true while history replays and false once new work runs", async () => {
  const s = await start("ReplayProbe");
  expect(await done(s)).toMatchObject({ runtimeStatus: "Completed", output: [true, true, true, false] });
});

test("entities: signals and calls from an orchestration, a class-based entity under locks, an entity error caught and rethrown", async () => {
  const c = await start("CounterWorkflow", "c1");
  expect(await done(c)).toMatchObject({ runtimeStatus: "Completed", output: 7 });

  expect((await client("signal", { name: "Account", key: "alice", op: "deposit", input: 100 })).status).toBe(200);
  const t = await start("Transfer", { from: "alice", to: "bob", amount: 30 });
  expect(await done(t)).toMatchObject({ runtimeStatus: "Completed", output: { inLock: true, from: 70, to: 30 } });
  const tooMuch = await start("Transfer", { from: "bob", to: "alice", amount: 500 });
  const refused = await done(tooMuch);
  expect(refused.runtimeStatus).toBe("Failed");
  expect(JSON.stringify(refused.output)).toContain("insufficient funds: balance 30, asked 500");

  const e = await start("EntityErrorWorkflow");
  const failed = await done(e);
  expect(failed.runtimeStatus).toBe("Failed");
  expect(JSON.stringify(failed.output)).toMatch(/caught from the entity: .*Counter refused: no way/);

  // The client: read one, query them, clean storage.
  const read = await client("readEntity", { name: "Account", key: "alice" });
  expect(read.body.result).toMatchObject({ entityExists: true, entityState: 70 });
  const listed = await client("queryEntities", { prefix: "@account@" });
  expect(listed.body.result).toEqual(expect.arrayContaining([{ id: "@account@alice", state: 70 }, { id: "@account@bob", state: 30 }]));
  expect((await client("cleanEntities")).status).toBe(200);
  // And the management API sees the same entity.
  expect((await http("GET", `${api}/entities/Account/alice`)).body).toBe(70);
});

// dedupeStatuses: durable-functions 4.0.0-beta.1 passes them to @microsoft/durabletask-js, whose 0.4.0
// release (the one the registry serves) has no such option yet, so nothing reaches the wire to test.
test("client: start with a version, query with filters and paging, purge by id and by filter", async () => {
  const prefix = `q-${Date.now()}`;
  for (let i = 0; i < 5; i++) expect((await client("start", { name: "HelloCities", instanceId: `${prefix}-${i}`, version: "2.0" })).status).toBe(200);
  for (let i = 0; i < 5; i++) await pollStatus(`${api}/instances/${prefix}-${i}`);
  const versioned = await client("status", { id: `${prefix}-0` });
  expect(versioned.body.result).toMatchObject({ runtimeStatus: "Completed", output: GREETINGS });

  const page1 = await client("query", { prefix, pageSize: 2 });
  expect(page1.body).toMatchObject({ result: expect.anything() });
  expect(page1.body.result.instances).toHaveLength(2);
  expect(page1.body.result.continuationToken).toBeTruthy();
  const page2 = await client("query", { prefix, pageSize: 10, continuationToken: page1.body.result.continuationToken });
  expect(page2.body.result.instances).toHaveLength(3);
  const byStatus = await client("statusBy", { runtimeStatus: ["Completed"] });
  expect(byStatus.body.result.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([`${prefix}-0`, `${prefix}-4`]));

  expect((await client("purge", { id: `${prefix}-0` })).body.result).toMatchObject({ instancesDeleted: 1 });
  expect((await http("GET", `${api}/instances/${prefix}-0`)).status).toBe(404);
  const purged = await client("purgeBy", { createdFrom: new Date(Date.now() - 3600_000).toISOString(), runtimeStatus: ["Completed"] });
  expect(purged.body.result.instancesDeleted).toBeGreaterThanOrEqual(4);
  expect((await http("GET", `${api}/instances/${prefix}-4`)).status).toBe(404);
});

test("client: raise event, suspend, resume, terminate, rewind and restart over the gRPC channel", async () => {
  const a = await start("WaitForGo");
  await pollStatus(a.statusQueryGetUri, (b) => b.runtimeStatus === "Running");
  expect((await client("suspend", { id: a.id, reason: "hold" })).status).toBe(200);
  await pollStatus(a.statusQueryGetUri, (b) => b.runtimeStatus === "Suspended");
  expect((await client("raiseEvent", { id: a.id, event: "Go", data: { n: 1 } })).status).toBe(200);
  expect((await client("resume", { id: a.id, reason: "go on" })).status).toBe(200);
  expect(await done(a)).toMatchObject({ runtimeStatus: "Completed", output: { went: { n: 1 } } });

  const b = await start("WaitForGo");
  await pollStatus(b.statusQueryGetUri, (s) => s.runtimeStatus === "Running");
  expect((await client("terminate", { id: b.id, reason: "enough" })).status).toBe(200);
  expect(await done(b)).toMatchObject({ runtimeStatus: "Terminated" });

  // Rewind: the activity fails once, so the orchestration fails; rewound, it runs again and completes.
  const r = await start("WaitForGo");
  await pollStatus(r.statusQueryGetUri, (s) => s.runtimeStatus === "Running");
  await client("raiseEvent", { id: r.id, event: "Go", data: { fail: true } });
  expect((await done(r)).runtimeStatus).toBe("Failed");
  expect((await client("rewind", { id: r.id, reason: "try again" })).status).toBe(200);
  expect(await done(r)).toMatchObject({ runtimeStatus: "Completed", output: { went: { fail: true } } });

  const restarted = await client("restart", { id: a.id, newId: true });
  expect(restarted.status).toBe(200);
  expect(restarted.body.result).not.toBe(a.id);
  await pollStatus(`${api}/instances/${restarted.body.result}`, (s) => s.runtimeStatus === "Running");
});

test("createCheckStatusResponse URLs are answered by the host's management API", async () => {
  const s = await start("WaitForGo");
  const check = await http("POST", `${host.origin}/api/client/checkStatus`, { id: s.id });
  expect(check.status).toBe(202);
  const urls = check.body as CheckStatus;
  expect((await http("GET", urls.statusQueryGetUri)).body).toMatchObject({ instanceId: s.id });
  expect((await http("POST", fill(urls.suspendPostUri, { text: "pause" }))).status).toBe(202);
  await pollStatus(urls.statusQueryGetUri, (b) => b.runtimeStatus === "Suspended");
  expect((await http("POST", fill(urls.resumePostUri, { text: "go" }))).status).toBe(202);
  expect((await http("POST", fill(urls.sendEventPostUri, { eventName: "Go" }), 5)).status).toBe(202);
  expect(await done(s)).toMatchObject({ runtimeStatus: "Completed", output: { went: 5 } });
  expect((await http("DELETE", urls.purgeHistoryDeleteUri)).body).toMatchObject({ instancesDeleted: 1 });
});

test("a bad payload from the worker fails that work item with the reason, and the host and scheduler carry on", async () => {
  const cases: [string, RegExp][] = [
    ["NotBase64", /returned an invalid result: expected a base64 OrchestratorResponse, got a string that is not base64 \("this is not base64!"\)/],
    ["NotAResponse", /returned an invalid result: the base64 does not decode as OrchestratorResponse/],
    ["OtherInstance", /returned an invalid result: it is an OrchestratorResponse for instance 'someone-else', not '/],
    ["NoAnswer", /returned an invalid result: expected a base64 OrchestratorResponse, got no value/],
  ];
  for (const [name, reason] of cases) {
    const r = await http("POST", `${api}/orchestrators/${name}`);
    expect(r.status).toBe(202);
    const failed = (await pollStatus(r.body.statusQueryGetUri)).body;
    expect(failed.runtimeStatus).toBe("Failed");
    expect(String(failed.output)).toMatch(reason);
    // The host logs the item once the scheduler acknowledged it, which can be just after the status reads Failed.
    await host.waitForOutput(new RegExp(`orchestrator '${name}' \\(instance '${r.body.id}'\\): failed in \\d+ ms \\[Orchestrator function '${name}' returned an invalid result`));
  }
  const e = await start("CallBadEntity");
  expect((await done(e)).output).toMatch(/Entity function 'BadEntity' returned an invalid result: expected a base64 EntityBatchResult/);
  // Everything else still runs.
  expect(await done(await start("HelloCities"))).toMatchObject({ runtimeStatus: "Completed", output: GREETINGS });
});

test("callHttp runs in the worker: a 202 with a Location is polled until the 200", async () => {
  let polls = 0;
  const server = createServer((req, res) => {
    if (req.url === "/start") {
      res.writeHead(202, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`, "retry-after": "1" });
      res.end();
    } else if (++polls < 2) {
      res.writeHead(202, { location: req.url!, "retry-after": "1" });
      res.end();
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ done: true, polls }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const s = await start("HttpCall", { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/start` });
    const status = await done(s);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: { statusCode: 200 } });
    expect(JSON.parse(status.output.content)).toEqual({ done: true, polls: 2 });
  } finally {
    server.close();
  }
});

test("an app that mixes durable-functions 3 and 4 is refused at start, naming the functions", async () => {
  const started = startFuncHost(path.join(FIXTURES, "mixed-app"), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
  await expect(started).rejects.toThrow(/The app mixes durable-functions 3 and 4, which one Functions host cannot run together: 'V4Orchestration' use durable-functions 4 \(gRPC\), 'V3Orchestration', 'V3Activity' use durable-functions 3/);
});

test("dts start runs the scheduler and the durable-functions 4 app in one process", async () => {
  const both = await spawnHost(["start", "--port", "0", "--func-port", "0", "--store", "memory", "--app", DF4_APP]);
  try {
    await both.waitForOutput(/Ctrl-C stops both/);
    const r = await http("POST", `${both.origin}/api/orchestrators/HelloCities`);
    expect(r.status).toBe(202);
    expect((await pollStatus(r.body.statusQueryGetUri)).body).toMatchObject({ runtimeStatus: "Completed", output: GREETINGS });
  } finally {
    expect(await both.stop("SIGINT")).toBe(0);
  }
});

test("host.json's concurrency limits apply to durable-functions 4 triggers", async () => {
  const limited = await startFuncHost(path.join(FIXTURES, "df4-limits-app"), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port, "limits"), TASKHUB_NAME: "limits" });
  try {
    expect(limited.output()).toMatch(/at most 1 orchestrator, 2 activity, \d+ entity invocations at once\), durable-functions 4 gRPC protocol/);
    const r = await http("POST", `${limited.origin}/runtime/webhooks/durabletask/orchestrators/FanOutTracked`);
    expect(r.status).toBe(202);
    expect((await pollStatus(r.body.statusQueryGetUri)).body).toMatchObject({ runtimeStatus: "Completed", output: 2 });
  } finally {
    expect(await limited.stop()).toBe(0);
  }
});
