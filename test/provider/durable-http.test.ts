// Durable HTTP on the provider: the plan (each request a "BuiltIn::HttpActivity" task; a 202 with a
// Location polled with a timer and a GET, numbered as durable-functions' CallHttpWithPollingTask
// replays them, or the orchestration would wait forever) with the real orchestrator handler; and the
// activity making real requests to a local server (headers, content, token source, failures).
import * as http from "http";
import { AddressInfo } from "net";
import type { TokenCredential } from "@azure/identity";
import * as df from "durable-functions";
import { fromTimestamp } from "../../src/core/events";
import { pb } from "../../src/proto";
import { runActivity } from "../../src/provider/activity-bridge";
import { TokenSourceCache } from "../../src/provider/credentials";
import { HTTP_ACTIVITY_NAME, nextPoll, scopeOf } from "../../src/provider/durable-http";
import { Driver, TestApp } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Completion = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;
const S = pb.OrchestrationStatus;
const scheduled = Driver.scheduled;
const HTTP = `task %d ${HTTP_ACTIVITY_NAME}`;
const httpTask = (id: number) => HTTP.replace("%d", String(id));

/** The request a completion scheduled as task `id`. */
function requestOf(req: Completion, id: number): any {
  const e = (req.newHistory ?? []).find((h) => h.eventId === id && h.taskScheduled);
  if (!e) throw new Error(`no task ${id} scheduled`);
  return JSON.parse(e.taskScheduled!.input!.value!);
}

function fireAtOf(req: Completion, id: number): number | undefined {
  const e = (req.newHistory ?? []).find((h) => h.eventId === id && h.timerCreated);
  return fromTimestamp(e?.timerCreated?.fireAt ?? undefined);
}

const response = (statusCode: number, headers: Record<string, string> = {}, content = "") => ({ statusCode, headers, content });

const app = new TestApp()
  .activity("SayHello", (name: string) => `Hello, ${name}!`)
  .orchestration("Single", function* (ctx: any) {
    const r = yield ctx.df.callHttp({ method: "GET", url: "http://api.test/items", enablePolling: false });
    const after = yield ctx.df.callActivity("SayHello", "after");
    return { status: r.statusCode, content: r.content, after };
  })
  .orchestration("Polling", function* (ctx: any) {
    const r = yield ctx.df.callHttp({
      method: "POST", url: "http://api.test/jobs", body: { size: 3 },
      headers: { "Content-Type": "application/json", "x-functions-key": "secret", "X-Trace": "t-1" },
      tokenSource: new df.ManagedIdentityTokenSource("https://management.core.windows.net"),
    });
    const after = yield ctx.df.callActivity("SayHello", "after");
    return { status: r.statusCode, content: r.content, location: r.getHeader("location"), after };
  })
  .orchestration("Parallel", function* (ctx: any) {
    const [a, b] = yield ctx.df.Task.all([
      ctx.df.callHttp({ method: "GET", url: "http://api.test/a" }),
      ctx.df.callHttp({ method: "GET", url: "http://api.test/b" }),
    ]);
    return [a.statusCode, b.statusCode];
  })
  .orchestration("Catches", function* (ctx: any) {
    try {
      yield ctx.df.callHttp({ method: "GET", url: "http://127.0.0.1:1/" });
      return "no error";
    } catch (err: any) {
      return `caught: ${err.message}`;
    }
  });

test("a request without polling is one BuiltIn::HttpActivity task; its response is what the orchestration gets, a 202 included", async () => {
  const d = new Driver(app, "Single");
  let req = await d.episode();
  expect(scheduled(req)).toEqual([httpTask(0)]);
  expect(requestOf(req, 0)).toEqual({ method: "GET", uri: "http://api.test/items", asynchronousPatternEnabled: false });
  req = await d.complete(0, response(202, { Location: "http://api.test/status" }, "queued")).episode();
  expect(scheduled(req)).toEqual(["task 1 SayHello"]);
  await d.complete(1, "Hello, after!").episode();
  expect(d.output).toEqual({ status: 202, content: "queued", after: "Hello, after!" });
});

test("202 → Location → 202 → 200: timer and GET take the ids the JS replay gives them; Retry-After, else the host's default, sets the wait", async () => {
  const d = new Driver(app, "Polling");
  d.httpPollMs = 250;
  let req = await d.episode();
  expect(scheduled(req)).toEqual([httpTask(0)]);
  const first = requestOf(req, 0);
  expect(first).toMatchObject({
    method: "POST", uri: "http://api.test/jobs", content: '{"size":3}', asynchronousPatternEnabled: true,
    headers: { "Content-Type": "application/json", "x-functions-key": "secret", "X-Trace": "t-1" },
    tokenSource: { resource: "https://management.core.windows.net" },
  });

  // A relative Location, Retry-After in seconds: the timer (id 1) now, the GET (id 2) once it fires.
  req = await d.complete(0, response(202, { Location: "/jobs/7", "Retry-After": "5" })).episode();
  expect(scheduled(req)).toEqual(["timer 1"]);
  expect(fireAtOf(req, 1)).toBe(d.now + 5000);
  req = await d.fire(1).episode();
  expect(scheduled(req)).toEqual([httpTask(2)]);
  const poll = requestOf(req, 2);
  // The extension's poll request: GET, same headers minus the function key, same token source, no content.
  expect(poll).toEqual({
    method: "GET", uri: "http://api.test/jobs/7", asynchronousPatternEnabled: true,
    headers: { "Content-Type": "application/json", "X-Trace": "t-1" }, tokenSource: { resource: "https://management.core.windows.net", kind: "AzureManagedIdentity" },
  });

  // No Retry-After: the default wait.
  req = await d.complete(2, response(202, { location: "http://api.test/jobs/7" })).episode();
  expect(scheduled(req)).toEqual(["timer 3"]);
  expect(fireAtOf(req, 3)).toBe(d.now + 250);
  req = await d.fire(3).episode();
  expect(scheduled(req)).toEqual([httpTask(4)]);

  req = await d.complete(4, response(200, { "content-type": "application/json" }, '{"done":true}')).episode();
  expect(scheduled(req)).toEqual(["task 5 SayHello"]);
  req = await d.complete(5, "Hello, after!").episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect(d.output).toEqual({ status: 200, content: '{"done":true}', location: undefined, after: "Hello, after!" });
  // Five replays made no request of their own: every request is a task in history, scheduled once.
  expect(d.history.filter((e) => e.taskScheduled?.name === HTTP_ACTIVITY_NAME).map((e) => e.eventId)).toEqual([0, 2, 4]);
});

test("two polled requests in Task.all: a 202 of the first numbers its timer and GET after both requests", async () => {
  const d = new Driver(app, "Parallel");
  let req = await d.episode();
  expect(scheduled(req)).toEqual([httpTask(0), httpTask(1)]);
  req = await d.complete(0, response(202, { Location: "http://api.test/a/status", "Retry-After": "0" })).complete(1, response(200)).episode();
  expect(scheduled(req)).toEqual(["timer 2"]);
  req = await d.fire(2).episode();
  expect(scheduled(req)).toEqual([httpTask(3)]);
  expect(requestOf(req, 3).uri).toBe("http://api.test/a/status");
  req = await d.complete(3, response(201)).episode();
  expect(req.runtimeStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
  expect(d.output).toEqual([201, 200]);
});

test("a request that failed (TaskFailed) is an error the orchestration can catch", async () => {
  const d = new Driver(app, "Catches");
  await d.episode();
  await d.fail(0, "callHttp GET http://127.0.0.1:1/ failed: ECONNREFUSED").episode();
  expect(d.output).toMatch(/^caught: .*ECONNREFUSED/);
});

test("nextPoll: only a 202 with a Location polls; Retry-After in seconds or as a date", () => {
  const req = { method: "POST", uri: "http://h/x/y", content: "c" };
  const at = Date.UTC(2026, 0, 1);
  expect(nextPoll(JSON.stringify(response(200, { Location: "/z" })), req, at, 100)).toBeUndefined();
  expect(nextPoll(JSON.stringify(response(202)), req, at, 100)).toBeUndefined();
  expect(nextPoll(JSON.stringify(response(202, { LOCATION: "z" })), req, at, 100)).toEqual({ fireAt: at + 100, request: { method: "GET", uri: "http://h/x/z" } });
  const dated = nextPoll(JSON.stringify(response(202, { Location: "/z", "retry-after": new Date(at + 7000).toUTCString() })), req, at, 100);
  expect(dated?.fireAt).toBe(at + 7000);
  expect(scopeOf("https://management.core.windows.net")).toBe("https://management.core.windows.net/.default");
  expect(scopeOf("https://graph.microsoft.com/")).toBe("https://graph.microsoft.com/.default");
  expect(scopeOf("api://x/.default")).toBe("api://x/.default");
});

describe("the BuiltIn::HttpActivity activity", () => {
  let server: http.Server;
  let base: string;
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === "/hang") return; // never answers
        res.setHeader("X-Echo", "yes");
        res.writeHead(req.url === "/created" ? 201 : 200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null, trace: req.headers["x-trace"] ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const item = (request: object) => ({
    activityRequest: { name: HTTP_ACTIVITY_NAME, taskId: 4, input: { value: JSON.stringify(request) }, orchestrationInstance: { instanceId: "i" } },
    completionToken: "t",
  });

  test("makes the request (method, headers, content) and returns status, headers and body as the response JSON", async () => {
    const r = await runActivity(app, item({ method: "POST", uri: `${base}/created`, headers: { "X-Trace": "t-9" }, content: "payload" }));
    expect(r.succeeded).toBe(true);
    expect(r.request.responseEvent!.taskCompleted!.taskScheduledId).toBe(4);
    const result = JSON.parse(r.request.responseEvent!.taskCompleted!.result!.value!);
    expect(result.statusCode).toBe(201);
    expect(result.headers).toMatchObject({ "x-echo": "yes", "content-type": "application/json" });
    expect(JSON.parse(result.content)).toEqual({ method: "POST", body: "payload", auth: null, trace: "t-9" });
    expect(app.calls.some((c) => c.name === HTTP_ACTIVITY_NAME)).toBe(false); // the host's own, not the app's
  });

  test("a token source gets a bearer token for its resource from the credential, cached per scope", async () => {
    const scopes: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope) => {
        scopes.push(String(scope));
        return { token: `token-${scopes.length}`, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const tokens = new TokenSourceCache(() => credential);
    const request = { method: "GET", uri: `${base}/arm`, tokenSource: { resource: "https://management.core.windows.net", kind: "AzureManagedIdentity" } };
    for (let i = 0; i < 2; i++) {
      const r = await runActivity(app, item(request), { http: { tokens } });
      expect(JSON.parse(JSON.parse(r.request.responseEvent!.taskCompleted!.result!.value!).content).auth).toBe("Bearer token-1");
    }
    expect(scopes).toEqual(["https://management.core.windows.net/.default"]);
  });

  test("no connection, no response in time, or no credential: TaskFailed saying why", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await runActivity(app, item({ method: "GET", uri: `http://127.0.0.1:${port}/` }));
    expect(refused.request.responseEvent!.taskFailed!.failureDetails!.errorMessage).toMatch(/^callHttp GET http:\/\/127\.0\.0\.1:\d+\/ failed: ECONNREFUSED/);

    const slow = await runActivity(app, item({ method: "GET", uri: `${base}/hang`, timeout: "00:00:00.2" }));
    expect(slow.request.responseEvent!.taskFailed!.failureDetails!.errorMessage).toMatch(/no response within 200 ms/);

    const noCredential = await runActivity(app, item({ method: "GET", uri: `${base}/arm`, tokenSource: { resource: "https://x" } }));
    expect(noCredential.request.responseEvent!.taskFailed!.failureDetails!.errorMessage).toMatch(/token for 'https:\/\/x'/);
  });
});
