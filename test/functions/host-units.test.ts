// The host's pure parts: route templates, the `main` glob, endpoint parsing, status payloads.
import * as fs from "fs";
import * as path from "path";
import { toTimestamp } from "../../src/core/events";
import { expandBraces, globFiles } from "../../src/host/glob";
import { byPrecedence, compileRoute } from "../../src/host/routes";
import { parseEndpoint } from "../../src/host/sidecar-client";
import { historyPayload, parseRuntimeStatuses, statusPayload } from "../../src/host/status-payload";
import { durableClientBindingData } from "../../src/host/webhook-urls";
import { pb } from "../../src/proto";
import { tempDir } from "../helpers/dts-process";

describe("route templates", () => {
  test("literals are case-insensitive; parameters are decoded", () => {
    const r = compileRoute("orchestrators/{orchestratorName}/{instanceId?}");
    expect(r.match("/Orchestrators/Hello%20World")).toEqual({ orchestratorName: "Hello World" });
    expect(r.match("/orchestrators/Hello/abc")).toEqual({ orchestratorName: "Hello", instanceId: "abc" });
    expect(r.match("/orchestrators/Hello/abc/")).toEqual({ orchestratorName: "Hello", instanceId: "abc" });
    expect(r.match("/orchestrators")).toBeUndefined();
    expect(r.match("/orchestrators/a/b/c")).toBeUndefined();
  });

  test("constraints, defaults, catch-all and parameters inside a segment", () => {
    expect(compileRoute("items/{id:int}").match("/items/12")).toEqual({ id: "12" });
    expect(compileRoute("items/{id:int}").match("/items/x")).toBeUndefined();
    expect(compileRoute("items/{id:int:min(5)}").match("/items/3")).toBeUndefined();
    expect(compileRoute("items/{id:guid}").match("/items/0f8fad5b-d9cb-469f-a165-70867728950e")).toBeDefined();
    expect(compileRoute("page/{n=1}").match("/page")).toEqual({ n: "1" });
    expect(compileRoute("files/{*path}").match("/files/a/b%20c/d.txt")).toEqual({ path: "a/b c/d.txt" });
    expect(compileRoute("files/{*path}").match("/files")).toEqual({});
    expect(compileRoute("img/{name}.{ext}").match("/img/cat.png")).toEqual({ name: "cat", ext: "png" });
    expect(compileRoute("").match("/")).toEqual({});
  });

  test("more literal routes are tried first", () => {
    const routes = [{ route: compileRoute("items/{id}") }, { route: compileRoute("items/special") }, { route: compileRoute("{*all}") }];
    expect(routes.sort(byPrecedence).map((r) => r.route.template)).toEqual(["items/special", "items/{id}", "{*all}"]);
  });
});

describe("the main glob", () => {
  test("brace alternatives expand, nested too", () => {
    expect(expandBraces("src/{a,b/{c,d}}.js")).toEqual(["src/a.js", "src/b/c.js", "src/b/d.js"]);
    expect(expandBraces("index.js")).toEqual(["index.js"]);
  });

  test("*, ** and plain names match files relative to the app directory; node_modules is skipped by **", () => {
    const dir = tempDir("dts-glob-");
    for (const f of ["index.js", "dist/functions/a.js", "dist/functions/b.js", "dist/functions/b.js.map", "dist/functions/sub/c.js", "node_modules/x/y.js"]) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), "");
    }
    const rel = (files: string[]) => files.map((f) => path.relative(dir, f));
    expect(rel(globFiles(dir, "dist/functions/*.js"))).toEqual(["dist/functions/a.js", "dist/functions/b.js"]);
    expect(rel(globFiles(dir, "**/*.js"))).toEqual(["dist/functions/a.js", "dist/functions/b.js", "dist/functions/sub/c.js", "index.js"]);
    expect(rel(globFiles(dir, "{index.js,dist/functions/sub/*.js}"))).toEqual(["dist/functions/sub/c.js", "index.js"]);
    expect(rel(globFiles(dir, "./index.js"))).toEqual(["index.js"]);
    expect(globFiles(dir, "missing/*.js")).toEqual([]);
  });
});

test("connection string endpoints become grpc-js addresses", () => {
  expect(parseEndpoint("http://localhost:8080")).toEqual({ address: "localhost:8080", secure: false });
  expect(parseEndpoint("https://my-sched.westus2.durabletask.io")).toEqual({ address: "my-sched.westus2.durabletask.io:443", secure: true });
  expect(parseEndpoint("localhost:9000")).toEqual({ address: "localhost:9000", secure: false });
});

test("the durable client binding data names the hub, the URLs with their placeholders, and the RPC base", () => {
  const d = durableClientBindingData("http://localhost:7071", "http://127.0.0.1:7071", { hubName: "hub", connectionName: "CONN" });
  expect(d.taskHubName).toBe("hub");
  expect(d.rpcBaseUrl).toBe("http://127.0.0.1:7071/durabletask/");
  expect(d.managementUrls.id).toBe("INSTANCEID");
  expect(d.managementUrls.statusQueryGetUri).toBe("http://localhost:7071/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=hub&connection=CONN");
  expect(d.managementUrls.sendEventPostUri).toContain("/instances/INSTANCEID/raiseEvent/{eventName}?");
  expect(d.creationUrls.createNewInstancePostUri).toBe("http://localhost:7071/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?taskHub=hub&connection=CONN");
});

describe("status payloads", () => {
  const S = pb.OrchestrationStatus;
  const state: pb.IOrchestrationState = {
    instanceId: "i", name: "N", orchestrationStatus: S.ORCHESTRATION_STATUS_FAILED,
    createdTimestamp: toTimestamp(Date.UTC(2025, 0, 2, 3, 4, 5, 678)), lastUpdatedTimestamp: toTimestamp(Date.UTC(2025, 0, 2, 3, 4, 6)),
    input: { value: '{"a":1}' }, failureDetails: { errorType: "Error", errorMessage: "boom" },
  };

  test("names, JSON payloads, second-precision times; a failure's message as output", () => {
    expect(statusPayload(state, true)).toEqual({
      name: "N", instanceId: "i", runtimeStatus: "Failed", input: { a: 1 }, customStatus: null, output: "boom",
      createdTime: "2025-01-02T03:04:05Z", lastUpdatedTime: "2025-01-02T03:04:06Z",
    });
    expect(statusPayload(state, false).input).toBeNull();
  });

  test("runtimeStatus filters parse case-insensitively and reject unknown names", () => {
    expect(parseRuntimeStatuses("running,Completed")).toEqual([S.ORCHESTRATION_STATUS_RUNNING, S.ORCHESTRATION_STATUS_COMPLETED]);
    expect(parseRuntimeStatuses(null)).toBeUndefined();
    expect(() => parseRuntimeStatuses("Done")).toThrow(/Done/);
  });

  test("history: scheduling folded into completions, results only with showHistoryOutput", () => {
    const t = toTimestamp(Date.UTC(2025, 0, 1));
    const events: pb.IHistoryEvent[] = [
      { eventId: -1, timestamp: t, orchestratorStarted: {} },
      { eventId: -1, timestamp: t, executionStarted: { name: "N", input: { value: "1" } } },
      { eventId: 0, timestamp: t, taskScheduled: { name: "Act" } },
      { eventId: -1, timestamp: t, taskCompleted: { taskScheduledId: 0, result: { value: '"r"' } } },
      { eventId: -1, timestamp: t, executionCompleted: { orchestrationStatus: S.ORCHESTRATION_STATUS_COMPLETED, result: { value: "2" } } },
    ];
    const withOutput = historyPayload(events, true) as Record<string, unknown>[];
    expect(withOutput.map((e) => e.EventType)).toEqual(["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]);
    expect(withOutput[1]).toMatchObject({ FunctionName: "Act", ScheduledTime: "2025-01-01T00:00:00.000Z", Result: "r" });
    expect(historyPayload(events, false)[1]).not.toHaveProperty("Result");
  });
});
