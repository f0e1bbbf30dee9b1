// Durable HTTP end to end: `dts func start` runs a fixture app whose orchestration calls
// context.df.callHttp against a server this test runs (a GET, a POST echoed back, a 202 → Location →
// 202 → 200 job, and a refused connection), started and checked through the management API. The
// server counts requests: the orchestration replays once per result, yet each URL is hit exactly as
// often as the orchestration asked, also when a restarted host replays the orchestration.
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { client } from "../helpers/sdk";
import { connectionString, FIXTURES, FuncHostProcess, http as request, pollStatus, startFuncHost } from "../helpers/func-process";

let dts: DtsProcess;
let host: FuncHostProcess;
let server: http.Server;
let base: string;
const hits: Record<string, number> = {};

function listen(s: http.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const key = `${req.method} ${req.url}`;
      hits[key] = (hits[key] ?? 0) + 1;
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        res.end(JSON.stringify(value));
      };
      switch (key) {
        case "GET /json":
          return json(200, { ok: true, items: [1, 2] });
        case "GET /once":
          return json(200, { n: hits[key] });
        case "POST /echo":
          return json(200, { method: req.method, contentType: req.headers["content-type"], test: req.headers["x-test"], body }, { "X-Echo": "echoed" });
        case "POST /jobs":
          // An absolute Location with Retry-After: 0, then a relative one with none (the host's 100 ms default).
          return json(202, { accepted: body }, { Location: `${base}/jobs/1/status`, "Retry-After": "0" });
        case "GET /jobs/1/status":
          return hits[key] === 1 ? json(202, { state: "running" }, { Location: "/jobs/1/status" }) : json(200, { state: "done" });
        default:
          return json(404, {});
      }
    });
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  dts = await startDts(["--store", "memory"]);
  host = await startFuncHost(path.join(FIXTURES, "http-app"), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
});
afterAll(async () => {
  const code = await host?.stop();
  await dts?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  expect(code).toBe(0);
});

test("callHttp: GET, POST with headers and content, 202 polling, a refused connection caught; each request made once", async () => {
  // A port nothing listens on: the request fails to connect.
  const closed = http.createServer();
  const refusedPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));

  const started = await request("POST", `${host.origin}/runtime/webhooks/durabletask/orchestrators/DurableHttp/http-1`, { base, refused: `http://127.0.0.1:${refusedPort}/` });
  expect(started.status).toBe(202);
  const done = await pollStatus(started.body.statusQueryGetUri);
  expect(done.body.runtimeStatus).toBe("Completed");
  const out = done.body.output;
  expect(out.get).toEqual({ status: 200, body: { ok: true, items: [1, 2] } });
  expect(out.post).toEqual({
    status: 200, echoHeader: "echoed",
    body: { method: "POST", contentType: "application/json", test: "t-1", body: '{"hello":"world"}' },
  });
  expect(out.polled).toEqual({ status: 200, body: { state: "done" } });
  expect(out.failure).toMatch(/ECONNREFUSED/);
  expect(hits).toEqual({ "GET /json": 1, "POST /echo": 1, "POST /jobs": 1, "GET /jobs/1/status": 2 });

  // The requests are in history as the built-in activity, with the timers between polls.
  const withHistory = await request("GET", `${started.body.statusQueryGetUri}${started.body.statusQueryGetUri.includes("?") ? "&" : "?"}showHistory=true`);
  const history = withHistory.body.historyEvents as { EventType: string; FunctionName?: string }[];
  const steps = history.filter((e) => ["TaskCompleted", "TaskFailed", "TimerFired"].includes(e.EventType)).map((e) => `${e.EventType}${e.FunctionName ? ` ${e.FunctionName}` : ""}`);
  const ok = "TaskCompleted BuiltIn::HttpActivity";
  expect(steps).toEqual([ok, ok, ok, "TimerFired", ok, "TimerFired", ok, "TaskFailed BuiltIn::HttpActivity"]);
  expect(host.output()).toMatch(/activity 'BuiltIn::HttpActivity' .* failed \(Error: callHttp GET .* ECONNREFUSED/);
});

test("a host started anew replays a finished request from history instead of making it again", async () => {
  const started = await request("POST", `${host.origin}/runtime/webhooks/durabletask/orchestrators/HttpThenWait/http-2`, { base });
  expect(started.status).toBe(202);
  const history = `${started.body.statusQueryGetUri}${started.body.statusQueryGetUri.includes("?") ? "&" : "?"}showHistory=true`;
  // Waiting for the event once the response is in history.
  await pollStatus(history, (b) => ((b as { historyEvents?: { EventType: string }[] }).historyEvents ?? []).some((e) => e.EventType === "TaskCompleted"));
  expect(hits["GET /once"]).toBe(1);

  expect(await host.stop()).toBe(0);
  host = await startFuncHost(path.join(FIXTURES, "http-app"), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
  const raised = await request("POST", `${host.origin}/runtime/webhooks/durabletask/instances/http-2/raiseEvent/Go`, { now: true });
  expect(raised.status).toBe(202);
  const done = await pollStatus(`${host.origin}/runtime/webhooks/durabletask/instances/http-2`);
  expect(done.body.output).toEqual({ status: 200, body: { n: 1 }, go: { now: true } });
  expect(hits["GET /once"]).toBe(1);
});

test("retryTimeoutInMilliseconds: retries stop at the first failure after the timeout, measured from the first attempt, with no timer after it", async () => {
  const started = await request("POST", `${host.origin}/runtime/webhooks/durabletask/orchestrators/RetryWithTimeout/retry-timeout-1`);
  expect(started.status).toBe(202);
  const done = await pollStatus(started.body.statusQueryGetUri);
  expect(done.body.runtimeStatus).toBe("Completed");
  expect(done.body.output).toMatch(/^gave up: .*this attempt failed/);

  // Orchestration time, as the retry rule reads it: the start of the episode that saw an event (the
  // scheduler's own history, through the SDK client: the HTTP API's leaves OrchestratorStarted out).
  const sdk = client(dts.address);
  const history = await sdk.getOrchestrationHistory("retry-timeout-1").finally(() => sdk.stop());
  const episodeOf = (index: number) => history.slice(0, index).reverse().find((e) => e.type === "OrchestratorStarted")!.timestamp.getTime();
  const indexes = (type: string) => history.flatMap((e, i) => (e.type === type ? [i] : []));
  const firstAttempt = episodeOf(indexes("TaskScheduled")[0]);
  const failures = indexes("TaskFailed");
  const timers = indexes("TimerCreated");
  // Far fewer than the 50 attempts allowed; a retry timer after every failure but the last.
  expect(failures.length).toBeGreaterThanOrEqual(1);
  expect(failures.length).toBeLessThan(50);
  expect(timers.length).toBe(failures.length - 1);
  // Every retry was decided before the timeout ran out; the last failure was seen after it had.
  for (const t of timers) expect(episodeOf(t)).toBeLessThan(firstAttempt + 1000);
  const last = failures[failures.length - 1];
  expect(episodeOf(last + 1)).toBeGreaterThanOrEqual(firstAttempt + 1000);
  expect(timers.every((t) => t < last)).toBe(true);
});
