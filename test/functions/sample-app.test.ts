// End to end as a user would run it: the scheduler (`dts serve`) and the sample function app at the
// repository root (`dts func start`), each in its own process, driven over HTTP only: the app's
// starter, the check-status URLs it returns, and the Durable HTTP management API.
import { DtsProcess, startDts } from "../helpers/dts-process";
import { connectionString, fill, FuncHostProcess, http, pollStatus, pollUntil, REPO_ROOT, startFuncHost } from "../helpers/func-process";

const GREETINGS = ["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!", "Hello, Cairo!", "Hello, Lima!"];

let dts: DtsProcess;
let host: FuncHostProcess;
let api: string;

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  host = await startFuncHost(REPO_ROOT, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
  api = `${host.origin}/runtime/webhooks/durabletask`;
});
afterAll(async () => {
  const code = await host?.stop();
  await dts?.stop();
  expect(code).toBe(0);
});

/** POSTs to the sample's HTTP starter and returns the check-status payload. */
async function start(name: string, input?: unknown, instanceId?: string) {
  const r = await http("POST", `${host.origin}/api/orchestrators/${name}${instanceId ? `/${instanceId}` : ""}`, input);
  expect(r.status).toBe(202);
  return r.body as { id: string; statusQueryGetUri: string; sendEventPostUri: string; terminatePostUri: string; purgeHistoryDeleteUri: string; suspendPostUri: string; resumePostUri: string; restartPostUri: string; rewindPostUri: string };
}

test("the host names the protocol of the app's durable functions: durable-functions 3's JSON", () => {
  expect(host.output()).toMatch(/HelloCities: orchestrationTrigger \(durable-functions 3 out-of-process JSON protocol\)/);
  expect(host.output()).toMatch(/HttpStart: durable client \(durable-functions 3 out-of-process JSON protocol\)/);
  expect(host.output()).not.toMatch(/gRPC channel/);
});

test("HelloCities through the HTTP starter: five greetings, status and history at statusQueryGetUri", async () => {
  const r = await http("POST", `${host.origin}/api/orchestrators/HelloCities`);
  expect(r.status).toBe(202);
  expect(r.headers.get("location")).toBe(r.body.statusQueryGetUri);
  expect(r.headers.get("retry-after")).toBe("10");
  expect(r.body.statusQueryGetUri).toBe(`${api}/instances/${r.body.id}?taskHub=default&connection=DURABLE_TASK_SCHEDULER_CONNECTION_STRING`);
  for (const key of ["sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "suspendPostUri", "resumePostUri", "restartPostUri"]) {
    expect(r.body[key]).toContain(`${api}/instances/${r.body.id}`);
  }

  const done = await pollStatus(r.body.statusQueryGetUri);
  expect(done.status).toBe(200);
  expect(done.body).toMatchObject({ name: "HelloCities", instanceId: r.body.id, runtimeStatus: "Completed", output: GREETINGS, customStatus: null });
  expect(typeof done.body.createdTime).toBe("string");

  const withHistory = await http("GET", `${r.body.statusQueryGetUri}&showHistory=true&showHistoryOutput=true`);
  const events = withHistory.body.historyEvents as { EventType: string; FunctionName?: string; Result?: unknown }[];
  expect(events[0]).toMatchObject({ EventType: "ExecutionStarted", FunctionName: "HelloCities" });
  expect(events.filter((e) => e.EventType === "TaskCompleted").map((e) => [e.FunctionName, e.Result])).toEqual(GREETINGS.map((g) => ["SayHello", g]));
  expect(events[events.length - 1]).toMatchObject({ EventType: "ExecutionCompleted", OrchestrationStatus: "Completed", Result: GREETINGS });
});

test("fan-out/fan-in: one activity per item, results combined", async () => {
  const s = await start("FanOutFanIn", { items: ["a", "bb", "ccc", "dddd"] });
  const done = await pollStatus(s.statusQueryGetUri);
  expect(done.body.runtimeStatus).toBe("Completed");
  expect(done.body.output).toMatchObject({ count: 4, totalLength: 10 });
  expect(done.body.output.results.map((x: { item: string }) => x.item)).toEqual(["a", "bb", "ccc", "dddd"]);
});

test("human interaction: the approval event raised through sendEventPostUri wins the race", async () => {
  const s = await start("ApprovalWorkflow", { request: "laptop", timeoutSeconds: 600 });
  const waiting = await pollStatus(s.statusQueryGetUri, (b) => (b.customStatus as { stage?: string } | null)?.stage === "WaitingForApproval");
  expect(waiting.status).toBe(202);
  expect(waiting.body.runtimeStatus).toBe("Running");
  const raised = await http("POST", fill(s.sendEventPostUri, { eventName: "Approval" }), { approved: true, approver: "ann" });
  expect(raised.status).toBe(202);
  const done = await pollStatus(s.statusQueryGetUri);
  expect(done.body).toMatchObject({ runtimeStatus: "Completed", output: { status: "Approved", request: "laptop", approver: "ann" }, customStatus: { stage: "Approved" } });
  // Raising to a finished instance: 410 Gone; to an unknown one: 404.
  expect((await http("POST", fill(s.sendEventPostUri, { eventName: "Approval" }), { approved: false })).status).toBe(410);
  expect((await http("POST", `${api}/instances/no-such-instance/raiseEvent/Approval`, {})).status).toBe(404);
});

test("human interaction: with no decision the timer wins and the request is escalated", async () => {
  const s = await start("ApprovalWorkflow", { request: "car", timeoutSeconds: 1 });
  const done = await pollStatus(s.statusQueryGetUri);
  expect(done.body).toMatchObject({ runtimeStatus: "Completed", output: { status: "Escalated", request: "car" }, customStatus: { stage: "TimedOut" } });
});

test("an activity with retries succeeds on its third attempt; the failures are in the history", async () => {
  const s = await start("RetryWorkflow", { failures: 2, maxAttempts: 3, firstRetryMs: 100 });
  const done = await pollStatus(s.statusQueryGetUri);
  expect(done.body).toMatchObject({ runtimeStatus: "Completed", output: { succeededAfter: 3, maxAttempts: 3 } });
  const history = (await http("GET", `${s.statusQueryGetUri}&showHistory=true`)).body.historyEvents as { EventType: string; FunctionName?: string }[];
  expect(history.filter((e) => e.EventType === "TaskFailed" && e.FunctionName === "FlakyActivity")).toHaveLength(2);
  expect(history.filter((e) => e.EventType === "TaskCompleted" && e.FunctionName === "FlakyActivity")).toHaveLength(1);
});

test("retries exhausted: the orchestration fails with the activity's error; rewind runs it again", async () => {
  const s = await start("RetryWorkflow", { failures: 2, maxAttempts: 2, firstRetryMs: 100 });
  const failed = await pollStatus(s.statusQueryGetUri);
  expect(failed.status).toBe(200);
  expect(failed.body.runtimeStatus).toBe("Failed");
  expect(JSON.stringify(failed.body.output)).toContain("Simulated failure on attempt 2 of 2");
  expect((await http("GET", `${s.statusQueryGetUri}&returnInternalServerErrorOnFailure=true`)).status).toBe(500);

  // Rewind: the failed activity runs again (its third attempt succeeds) and the orchestration completes.
  expect((await http("POST", fill(s.rewindPostUri, { text: "try again" }))).status).toBe(202);
  const rewound = await pollStatus(s.statusQueryGetUri, (b) => b.runtimeStatus === "Completed");
  expect(rewound.body.output).toMatchObject({ succeededAfter: 3 });
  // Only failed instances can be rewound.
  expect((await http("POST", fill(s.rewindPostUri, { text: "again" }))).status).toBe(412);
});

test("the counter entity through the management API: signal, read, list", async () => {
  const key = `c-${Date.now()}`;
  expect((await http("POST", `${api}/entities/Counter/${key}?op=add`, 5)).status).toBe(202);
  expect((await http("POST", `${api}/entities/Counter/${key}?op=add`, 3)).status).toBe(202);
  const read = await pollUntil(`${api}/entities/Counter/${key}`, (r) => r.status === 200 && r.body === 8);
  expect(read.body).toBe(8);
  expect((await http("GET", `${api}/entities/Counter/no-such-counter`)).status).toBe(404);

  const list = await http("GET", `${api}/entities/Counter?fetchState=true`);
  expect(list.status).toBe(200);
  expect(list.body).toEqual(expect.arrayContaining([expect.objectContaining({ entityId: { name: "counter", key }, state: 8 })]));

  expect((await http("POST", `${api}/entities/Counter/${key}?op=reset`)).status).toBe(202);
  await pollUntil(`${api}/entities/Counter/${key}`, (r) => r.status === 200 && r.body === 0);
});

test("the counter entity through the app's own HTTP function (the durable client's rpcBaseUrl calls)", async () => {
  const key = `app-${Date.now()}`;
  expect((await http("POST", `${host.origin}/api/counters/${key}/add`, 2)).status).toBe(202);
  expect((await http("POST", `${host.origin}/api/counters/${key}/add`, 40)).status).toBe(202);
  const r = await pollUntil(`${host.origin}/api/counters/${key}`, (x) => x.status === 200 && x.body.value === 42);
  expect(r.body).toEqual({ key, value: 42 });
  expect((await http("GET", `${host.origin}/api/counters/never-signalled`)).status).toBe(404);
});

test("suspend, resume, terminate and purge through the management URLs", async () => {
  const s = await start("ApprovalWorkflow", { timeoutSeconds: 600 });
  await pollStatus(s.statusQueryGetUri, (b) => b.runtimeStatus === "Running" && b.customStatus !== null);

  expect((await http("POST", fill(s.suspendPostUri, { text: "hold on" }))).status).toBe(202);
  const suspended = await pollStatus(s.statusQueryGetUri, (b) => b.runtimeStatus === "Suspended");
  expect(suspended.status).toBe(202);

  expect((await http("POST", fill(s.resumePostUri, { text: "go on" }))).status).toBe(202);
  await pollStatus(s.statusQueryGetUri, (b) => b.runtimeStatus === "Running");

  // Purging a running instance is refused.
  expect((await http("DELETE", s.purgeHistoryDeleteUri)).status).toBe(412);

  expect((await http("POST", fill(s.terminatePostUri, { text: "no longer needed" }))).status).toBe(202);
  const terminated = await pollStatus(s.statusQueryGetUri);
  expect(terminated.status).toBe(200);
  expect(terminated.body).toMatchObject({ runtimeStatus: "Terminated", output: "no longer needed" });
  // Operations on a finished instance: 410 Gone (durable-functions' client treats it as done).
  expect((await http("POST", fill(s.terminatePostUri, { text: "again" }))).status).toBe(410);
  expect((await http("POST", fill(s.suspendPostUri, { text: "again" }))).status).toBe(410);
  expect((await http("POST", `${api}/instances/no-such-instance/terminate?reason=x`)).status).toBe(404);

  const purged = await http("DELETE", s.purgeHistoryDeleteUri);
  expect(purged.status).toBe(200);
  expect(purged.body).toEqual({ instancesDeleted: 1 });
  expect((await http("GET", s.statusQueryGetUri)).status).toBe(404);
  expect((await http("DELETE", s.purgeHistoryDeleteUri)).status).toBe(404);
});

test("restart: a finished instance runs again under a new id", async () => {
  const s = await start("HelloCities");
  await pollStatus(s.statusQueryGetUri);
  const r = await http("POST", s.restartPostUri);
  expect(r.status).toBe(202);
  expect(r.body.id).not.toBe(s.id);
  const done = await pollStatus(r.body.statusQueryGetUri);
  expect(done.body).toMatchObject({ name: "HelloCities", runtimeStatus: "Completed", output: GREETINGS });
});

test("the management API starts orchestrations itself, and can wait for the result", async () => {
  const started = await http("POST", `${api}/orchestrators/FanOutFanIn/api-started-1`, { items: ["xy"] });
  expect(started.status).toBe(202);
  expect(started.body.id).toBe("api-started-1");
  expect((await pollStatus(started.body.statusQueryGetUri)).body.output).toMatchObject({ count: 1, totalLength: 2 });
  // timeout + pollingInterval: the answer is the output once it finishes in time.
  const waited = await http("POST", `${api}/orchestrators/HelloCities?timeout=30&pollingInterval=1`);
  expect(waited.status).toBe(200);
  expect(waited.body).toEqual(GREETINGS);

  // Unknown orchestrator: 400 from the API and from the sample's starter.
  expect((await http("POST", `${api}/orchestrators/NoSuchOrchestrator`)).status).toBe(400);
  expect((await http("POST", `${host.origin}/api/orchestrators/NoSuchOrchestrator`)).status).toBe(400);
  // A body declared JSON that is not: 400; one not declared JSON: 415.
  expect((await http("POST", `${api}/orchestrators/HelloCities`, "{not json", { "content-type": "application/json" })).status).toBe(400);
  expect((await http("POST", `${api}/orchestrators/HelloCities`, "{not json")).status).toBe(415);
});

test("a running instance id cannot be started twice (409)", async () => {
  const s = await start("ApprovalWorkflow", { timeoutSeconds: 600 }, "approval-conflict");
  expect(s.id).toBe("approval-conflict");
  expect((await http("POST", `${api}/orchestrators/ApprovalWorkflow/approval-conflict`, {})).status).toBe(409);
  expect((await http("POST", fill(s.terminatePostUri, { text: "done" }))).status).toBe(202);
  await pollStatus(s.statusQueryGetUri);
});

test("query with paging (top + x-ms-continuation-token), filters, and purge by filter", async () => {
  const from = new Date(Date.now() - 1000).toISOString();
  const ids = ["page-a", "page-b", "page-c"];
  for (const id of ids) await start("HelloCities", undefined, id);
  for (const id of ids) await pollStatus(`${api}/instances/${id}`);

  const first = await http("GET", `${api}/instances?instanceIdPrefix=page-&top=2`);
  expect(first.status).toBe(200);
  expect(first.body).toHaveLength(2);
  const token = first.headers.get("x-ms-continuation-token");
  expect(token).toBeTruthy();
  const second = await http("GET", `${api}/instances?instanceIdPrefix=page-&top=2`, undefined, { "x-ms-continuation-token": token! });
  expect(second.body).toHaveLength(1);
  expect(second.headers.get("x-ms-continuation-token")).toBeNull();
  expect([...first.body, ...second.body].map((s: { instanceId: string }) => s.instanceId).sort()).toEqual(ids);
  expect(first.body[0]).toMatchObject({ name: "HelloCities", runtimeStatus: "Completed", output: GREETINGS });

  const none = await http("GET", `${api}/instances?instanceIdPrefix=page-&runtimeStatus=Running,Pending`);
  expect(none.body).toEqual([]);
  expect((await http("GET", `${api}/instances?runtimeStatus=Bogus`)).status).toBe(400);

  const purged = await http("DELETE", `${api}/instances?createdTimeFrom=${encodeURIComponent(from)}&runtimeStatus=Completed`);
  expect(purged.status).toBe(200);
  expect(purged.body.instancesDeleted).toBeGreaterThanOrEqual(3);
  for (const id of ids) expect((await http("GET", `${api}/instances/${id}`)).status).toBe(404);
});

test("at DTS_LOG_LEVEL=debug the host prints each work item's arrival, its completion's sending and the answer, with epoch milliseconds", async () => {
  const own = await startDts(["--store", "memory"]);
  const debugHost = await startFuncHost(REPO_ROOT, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(own.port), DTS_LOG_LEVEL: "debug" });
  try {
    const r = await http("POST", `${debugHost.origin}/api/orchestrators/HelloCities`);
    expect((await pollStatus(r.body.statusQueryGetUri)).body.runtimeStatus).toBe("Completed");
    await debugHost.waitForOutput(/work item completion answered \(token [^)]+\)[^\n]*\n(?![\s\S]*work item received)/);
    const moments = [...debugHost.output().matchAll(/\[durable\] work item (received|completion sent|completion answered) \(token ([^)]+)\) at ([\d.]+)/g)];
    const byToken = new Map<string, { moment: string; at: number }[]>();
    for (const [, moment, token, at] of moments) byToken.set(token, [...(byToken.get(token) ?? []), { moment, at: Number(at) }]);
    // Six orchestrator episodes: the activities ran inline, and the host ran each next episode at once
    // (continued) while its wait lasted, so they came in one work item or a few. Each work item was
    // received, then sent, then answered, in time order.
    const episodes = debugHost.output().match(/\[durable\] orchestrator 'HelloCities' .*/g) ?? [];
    expect(episodes).toHaveLength(6);
    expect(byToken.size).toBe(episodes.filter((l) => !l.includes(", continued")).length);
    for (const list of byToken.values()) {
      expect(list.map((m) => m.moment)).toEqual(["received", "completion sent", "completion answered"]);
      expect(list[0].at).toBeLessThanOrEqual(list[1].at);
      expect(list[1].at).toBeLessThanOrEqual(list[2].at);
      expect(Math.abs(list[0].at - Date.now())).toBeLessThan(60_000);
    }
  } finally {
    await debugHost.stop();
    await own.stop();
  }
});
