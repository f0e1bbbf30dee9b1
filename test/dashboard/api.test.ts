// The dashboard port's emulator-compatible JSON API, over HTTP against the real `dts serve`, with
// the official SDK's worker running the instances: every route under both prefixes, the x-taskhub
// header, and bad bodies refused with JSON errors that say what to change.
import { EntityInstanceId, OrchestrationContext, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { addSampleWork, client, completed, worker } from "../helpers/sdk";

let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;
let base: string;

const PREFIXES = ["/v1/taskhubs", "/api/v1/taskhubs"] as const;
const GO_CLIENT = "Go-http-client/1.1";

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
  headers: Headers;
}

interface CallOptions {
  hub?: string | null;
  body?: unknown;
  raw?: string;
  prefix?: string;
  headers?: Record<string, string>;
}

async function call(method: string, path: string, o: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.hub !== null) headers["x-taskhub"] = o.hub ?? "default";
  let payload: string | undefined;
  if (o.raw !== undefined || o.body !== undefined) {
    payload = o.raw ?? JSON.stringify(o.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${o.prefix ?? "/v1/taskhubs"}/${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

const status = async (id: string) => (await call("GET", `orchestrations/${encodeURIComponent(id)}`)).body?.orchestrationStatus;

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  base = `http://localhost:${dts.dashboardPort}`;
  w = worker(dts.address);
  w.addOrchestrator(async function* hello(ctx: OrchestrationContext, cities: string[]): any {
    const out: string[] = [];
    for (const city of cities ?? []) out.push(yield ctx.callActivity("sayHello", city));
    return out;
  });
  w.addOrchestrator(async function* fails(): any {
    throw new Error("boom on purpose");
  });
  addSampleWork(w);
  await w.start();
  c = client(dts.address);
});

afterAll(async () => {
  await w?.stop();
  await c?.stop();
  await dts?.stop();
});

describe("ping and the x-taskhub header", () => {
  test.each(PREFIXES)("%s/ping answers 200 for a served hub, 404 for another, 400 without the header", async (prefix) => {
    expect(await call("GET", "ping", { prefix })).toMatchObject({ status: 200, body: { taskHub: "default", status: "ok" } });
    const other = await call("GET", "ping", { prefix, hub: "nosuchhub" });
    expect(other.status).toBe(404);
    expect(other.body.error).toMatch(/Task hub 'nosuchhub' is not served here; served: default/);
    const none = await call("GET", "ping", { prefix, hub: null });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/x-taskhub header/);
  });

  test("every hub-scoped route needs the header: a query without it is refused with 400, with an unknown hub 404", async () => {
    expect((await call("POST", "orchestrations/query", { hub: null, body: {} })).status).toBe(400);
    expect((await call("POST", "orchestrations/query", { hub: "elsewhere", body: {} })).status).toBe(404);
    expect((await call("GET", "workers", { hub: "elsewhere" })).status).toBe(404);
  });

  test("unknown routes answer 404 and known paths with the wrong method 405 with Allow, both as JSON", async () => {
    const missing = await call("GET", "nothing/here");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/No API route GET \/v1\/taskhubs\/nothing\/here/);
    const wrong = await call("PUT", "workers", { body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    // orchestrations/query is also the path of an instance named "query".
    expect((await call("PUT", "orchestrations/query")).headers.get("allow")).toBe("POST, GET, DELETE");
    expect(wrong.headers.get("content-type")).toMatch(/application\/json/);
  });
});

describe("orchestrations", () => {
  test.each(PREFIXES)("%s: create, get, payloads, history of the execution (both shapes) and query", async (prefix) => {
    const id = `api-create-${prefix.length}`;
    const created = await call("POST", "orchestrations", {
      prefix, body: { name: "hello", instanceId: id, input: JSON.stringify(["Tokyo", "Lima"]), tags: { team: "billing" }, version: "1.0" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ instanceId: id });
    expect(created.headers.get("location")).toBe(`${prefix}/orchestrations/${id}`);
    await completed(c, id);

    const meta = await call("GET", `orchestrations/${id}`, { prefix });
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({
      instanceId: id, name: "hello", version: "1.0", orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED", runtimeStatus: "Completed", tags: { team: "billing" },
    });
    expect(typeof meta.body.executionId).toBe("string");
    expect(Date.parse(meta.body.createdTimestamp)).toBeGreaterThan(0);
    expect(Date.parse(meta.body.completedTimestamp)).toBeGreaterThanOrEqual(Date.parse(meta.body.createdTimestamp));
    expect(meta.body.lastUpdatedTime).toBe(meta.body.lastUpdatedTimestamp);

    const payloads = await call("GET", `orchestrations/${id}/payloads`, { prefix });
    expect(payloads.body).toMatchObject({ orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED", input: JSON.stringify(["Tokyo", "Lima"]) });
    expect(JSON.parse(payloads.body.output)).toEqual(["Hello, Tokyo!", "Hello, Lima!"]);

    const path = `orchestrations/${id}/executions/${meta.body.executionId}/history`;
    const wrapped = await call("GET", path, { prefix });
    expect(wrapped.status).toBe(200);
    const events = wrapped.body.history;
    const started = events.find((e: { executionStarted?: unknown }) => e.executionStarted);
    expect(started).toMatchObject({ executionStarted: { name: "hello", input: JSON.stringify(["Tokyo", "Lima"]), tags: { team: "billing" } } });
    expect(Date.parse(started.timestamp)).toBeGreaterThan(0);
    const scheduled = events.filter((e: { taskScheduled?: unknown }) => e.taskScheduled);
    expect(scheduled.map((e: { taskScheduled: { name: string } }) => e.taskScheduled.name)).toEqual(["sayHello", "sayHello"]);
    expect(events.find((e: { taskCompleted?: unknown }) => e.taskCompleted).taskCompleted).toMatchObject({ taskScheduledId: scheduled[0].eventId, result: JSON.stringify("Hello, Tokyo!") });
    expect(events.at(-1).executionCompleted).toMatchObject({ orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED" });
    // The Go CLI decodes a bare array; it is recognised by its User-Agent, or asks with ?shape=array.
    expect((await call("GET", path, { prefix, headers: { "user-agent": GO_CLIENT } })).body).toEqual(events);
    expect((await call("GET", `${path}?shape=array`, { prefix })).body).toEqual(events);
    expect((await call("GET", `${path}?shape=list`, { prefix })).status).toBe(400);
    const old = await call("GET", `orchestrations/${id}/executions/not-this-one/history`, { prefix });
    expect(old.status).toBe(404);
    expect(old.body.error).toMatch(/only the current execution's history is/);

    const q = await call("POST", "orchestrations/query", { prefix, body: { filter: { orchestrationId: { value: id.toUpperCase() } } } });
    expect(q.status).toBe(200);
    expect(q.body.totalCount).toBe(1);
    expect(q.body.orchestrations[0]).toMatchObject({ instanceId: id, orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED" });
    expect(q.body.trivia).toMatchObject({ totalCount: 1, completedCount: 1, runningCount: 0 });
  });

  test("query: status (any spelling), name substring, created range, tags, paging and sort, with counts in trivia", async () => {
    const future = new Date(Date.now() + 3_600_000);
    for (let i = 0; i < 12; i++) await c.scheduleNewOrchestration("queued", i, `q-${String(i).padStart(2, "0")}`, future);
    const all = await call("POST", "orchestrations/query", { body: { filter: { name: { value: "QUEUE" } }, pagination: { startIndex: 0, count: 5 } } });
    expect(all.body.totalCount).toBe(12);
    expect(all.body.orchestrations.map((o: { instanceId: string }) => o.instanceId)).toEqual(["q-11", "q-10", "q-09", "q-08", "q-07"]); // newest first
    expect(all.body.trivia.pendingCount).toBe(12);
    expect(Date.parse(all.body.trivia.earliestTimestamp)).toBeLessThanOrEqual(Date.parse(all.body.trivia.latestTimestamp));

    const page3 = await call("POST", "orchestrations/query", {
      body: { filter: { orchestrationStatus: { status: ["ORCHESTRATION_STATUS_PENDING"] } }, pagination: { startIndex: 10, count: 5 }, sort: [{ column: "ORCHESTRATION_ID", direction: "ASCENDING_SORT" }] },
    });
    expect(page3.body.totalCount).toBe(12);
    expect(page3.body.orchestrations.map((o: { instanceId: string }) => o.instanceId)).toEqual(["q-10", "q-11"]);

    for (const spelling of ["Pending", "PENDING", "pending"]) {
      const r = await call("POST", "orchestrations/query", { body: { filter: { orchestrationStatus: { status: [spelling] } } } });
      expect(r.body.totalCount).toBe(12);
    }
    const oldestFirst = await call("POST", "orchestrations/query", { body: { filter: { orchestrationStatus: { status: ["Pending"] } }, sort: [{ column: "CREATED_AT", direction: "ASCENDING_SORT" }], pagination: { count: 2 } } });
    expect(oldestFirst.body.orchestrations.map((o: { instanceId: string }) => o.instanceId)).toEqual(["q-00", "q-01"]);

    const none = await call("POST", "orchestrations/query", { body: { filter: { name: { value: "queued" }, createdAt: { end: "2000-01-01T00:00:00Z" } } } });
    expect(none.body).toMatchObject({ orchestrations: [], totalCount: 0 });
    const tagged = await call("POST", "orchestrations/query", { body: { filter: { tags: { value: "team=billing" } } } });
    expect(tagged.body.totalCount).toBe(2); // the two created with tags above

    // The VS Code extension posts an empty object and reads orchestrations/totalCount.
    const bare = await call("POST", "orchestrations/query", { body: {} });
    expect(bare.body.orchestrations.length).toBe(bare.body.totalCount);
    await call("POST", "orchestrations/forceterminate", { body: { InstanceIds: Array.from({ length: 12 }, (_, i) => `q-${String(i).padStart(2, "0")}`), Reason: "cleanup" } });
  });

  test("query: bad bodies are refused with what to send", async () => {
    const cases: [unknown, RegExp][] = [
      [[], /must be a JSON object/],
      [{ filter: { orchestrationStatus: { status: ["Sleeping"] } } }, /Unknown orchestration status "Sleeping"/],
      [{ pagination: { startIndex: -1 } }, /pagination.startIndex must be an integer of at least 0/],
      [{ pagination: { count: "ten" } }, /pagination.count must be an integer/],
      [{ sort: [{ column: "COLOUR" }] }, /Unknown sort column 'COLOUR'/],
      [{ sort: [{ column: "NAME", direction: "SIDEWAYS" }] }, /Unknown sort direction/],
      [{ filter: { createdAt: { start: "yesterday" } } }, /filter.createdAt.start must be an RFC 3339 date/],
      [{ filter: { name: { value: 5 } } }, /filter.name.value must be a string/],
    ];
    for (const [body, message] of cases) {
      const r = await call("POST", "orchestrations/query", { body });
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(r.body.error).toMatch(message);
    }
    const notJson = await call("POST", "orchestrations/query", { raw: "{filter:" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatch(/not valid JSON/);
    const form = await call("POST", "orchestrations/query", { raw: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(415);
  });

  test("create: bad bodies create nothing; an id in use is 409; a body without Content-Type is read as JSON", async () => {
    const before = (await call("POST", "orchestrations/query", { body: {} })).body.totalCount;
    const cases: [unknown, number, RegExp][] = [
      [{ instanceId: "x" }, 400, /name .* must not be empty/],
      [{ name: "hello", input: "not json" }, 400, /input is a string but not JSON text/],
      [{ name: "hello", tags: { a: 1 } }, 400, /tags must be an object of string values/],
      [{ name: "hello", scheduledStartTimestamp: "soon" }, 400, /scheduledStartTimestamp must be an RFC 3339/],
      [{ name: 7 }, 400, /name must be a string/],
      ["hello", 400, /must be a JSON object/],
      // PostgreSQL's text cannot hold U+0000: no store is given it, whichever this server runs on.
      [{ name: "hello", input: ["a\u0000b"] }, 400, /^input\[0\] holds the character U\+0000 \(NUL\)/],
      [{ name: "hel\u0000lo" }, 400, /^name holds the character U\+0000/],
    ];
    for (const [body, code, message] of cases) {
      const r = await call("POST", "orchestrations", { body });
      expect({ body, status: r.status }).toEqual({ body, status: code });
      expect(r.body.error).toMatch(message);
    }
    expect((await call("POST", "orchestrations", {})).status).toBe(400);
    const nulInUrl = await call("GET", `orchestrations/${encodeURIComponent("a\u0000b")}`);
    expect([nulInUrl.status, nulInUrl.body.error]).toEqual([400, "The URL's path holds the character U+0000 (NUL), which the scheduler does not take"]);
    expect((await call("POST", "orchestrations/query", { body: {} })).body.totalCount).toBe(before);

    // A JSON value (not a string) as input is serialized; no Content-Type is taken as JSON.
    const res = await fetch(`${base}/v1/taskhubs/orchestrations`, { method: "POST", headers: { "x-taskhub": "default" }, body: Buffer.from(JSON.stringify({ name: "hello", instanceId: "api-value-input", input: ["Cairo"] })) });
    expect(res.status).toBe(201);
    expect((await completed(c, "api-value-input")).serializedOutput).toBe(JSON.stringify(["Hello, Cairo!"]));
    // An id in use by an instance that has not finished is refused (a finished one may be replaced, as over gRPC).
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call("POST", "orchestrations", { body: { name: "hello", instanceId: "api-dup", scheduledStartTimestamp: later } })).status).toBe(201);
    const again = await call("POST", "orchestrations", { body: { name: "hello", instanceId: "api-dup" } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/api-dup/);
    await call("POST", "orchestrations/forceterminate", { body: ["api-dup"] });
  });

  test("a scheduled start waits: the instance is pending with its scheduled time", async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const r = await call("POST", "orchestrations", { body: { name: "hello", instanceId: "api-later", scheduledStartTimestamp: at } });
    expect(r.status).toBe(201);
    const meta = (await call("GET", "orchestrations/api-later")).body;
    expect(meta).toMatchObject({ orchestrationStatus: "ORCHESTRATION_STATUS_PENDING", scheduledStartTimestamp: at });
    await call("POST", "orchestrations/api-later/history", { body: { executionTerminated: { reason: "not needed" } } });
  });

  test.each(PREFIXES)("%s: the history-event actions suspend, resume and raise an event; terminate ends another", async (prefix) => {
    const id = await c.scheduleNewOrchestration("waitForApproval", undefined, `api-wait-${prefix.length}`);
    await c.waitForOrchestrationStart(id);
    const act = (event: unknown) => call("POST", `orchestrations/${id}/history`, { prefix, body: event });
    expect(await act({ executionSuspended: { reason: "hold on" } })).toMatchObject({ status: 202, body: { instanceId: id, event: "executionSuspended" } });
    await pollUntil(() => status(id), (s) => s === "ORCHESTRATION_STATUS_SUSPENDED", "suspended");
    expect((await act({ executionResumed: { reason: "go on" } })).status).toBe(202);
    await pollUntil(() => status(id), (s) => s === "ORCHESTRATION_STATUS_RUNNING", "running again");
    expect((await act({ eventRaised: { name: "Approval", input: "true" } })).status).toBe(202);
    expect(JSON.parse((await completed(c, id)).serializedOutput!)).toEqual({ approved: true });

    const other = await c.scheduleNewOrchestration("waitForApproval", undefined, `api-term-${prefix.length}`);
    await c.waitForOrchestrationStart(other);
    expect((await call("POST", `orchestrations/${other}/history`, { prefix, body: { executionTerminated: { reason: "no longer needed" } } })).status).toBe(202);
    const state = await completed(c, other);
    expect(state.runtimeStatus).toBe(OrchestrationStatus.TERMINATED);
    expect(state.serializedOutput).toBe(JSON.stringify("no longer needed"));
  });

  test("history-event actions: bad events are 400, an unknown instance 404, a finished one 409-or-400 from the engine", async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /Unsupported history event: send one of executionSuspended/],
      [{ timerFired: {} }, /Unsupported history event 'timerFired'/],
      [{ executionSuspended: {}, executionResumed: {} }, /one history event per request/],
      [{ eventRaised: { input: "1" } }, /eventRaised.name .* must not be empty/],
      [{ eventRaised: { name: "x", input: "{not" } }, /eventRaised.input is a string but not JSON text/],
      [{ executionSuspended: "now" }, /executionSuspended must be an object/],
      [[{ executionSuspended: {} }], /must be one history event/],
    ];
    for (const [body, message] of cases) {
      const r = await call("POST", "orchestrations/api-create-12/history", { body });
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(r.body.error).toMatch(message);
    }
    const missing = await call("POST", "orchestrations/nobody/history", { body: { executionSuspended: {} } });
    expect(missing.status).toBe(404);
    const finished = await call("POST", "orchestrations/api-create-12/history", { body: { executionSuspended: {} } });
    expect([400, 409]).toContain(finished.status);
    expect(finished.body.error).toBeTruthy();
  });

  test("addhistoryevents applies one event per instance and lists the refused; forceterminate ends at once", async () => {
    const a = await c.scheduleNewOrchestration("waitForApproval", undefined, "api-batch-a");
    const b = await c.scheduleNewOrchestration("waitForApproval", undefined, "api-batch-b");
    await c.waitForOrchestrationStart(a);
    await c.waitForOrchestrationStart(b);
    const batch = await call("POST", "orchestrations/addhistoryevents", {
      body: { events: { [a]: { executionSuspended: { reason: "batch" } }, [b]: { executionSuspended: { reason: "batch" } }, "api-nobody": { executionSuspended: {} } } },
    });
    expect(batch).toMatchObject({ status: 200, body: ["api-nobody"] });
    await pollUntil(() => status(b), (s) => s === "ORCHESTRATION_STATUS_SUSPENDED", "b suspended");
    const bad = await call("POST", "orchestrations/addhistoryevents", { body: { events: { [a]: { executionResumed: {} }, [b]: { bogus: {} } } } });
    expect(bad.status).toBe(400);
    expect(await status(a)).toBe("ORCHESTRATION_STATUS_SUSPENDED"); // nothing applied
    expect((await call("POST", "orchestrations/addhistoryevents", { body: { events: {} } })).status).toBe(400);

    const ft = await call("POST", "orchestrations/forceterminate", { body: { instanceIds: [a, b, "api-nobody"], reason: "stop" } });
    expect(ft).toMatchObject({ status: 200, body: ["api-nobody"] });
    expect(await status(a)).toBe("ORCHESTRATION_STATUS_TERMINATED");
    expect((await call("POST", "orchestrations/forceterminate", { body: { instanceIds: [] } })).status).toBe(400);
  });

  test("restart (same id or a new one), rewind of a failed instance, and purge one or many", async () => {
    const same = await call("POST", "orchestrations/api-value-input/restart", { body: { restartWithNewInstanceId: false } });
    expect(same).toMatchObject({ status: 200, body: { instanceId: "api-value-input" } });
    await pollUntil(() => status("api-value-input"), (s) => s === "ORCHESTRATION_STATUS_COMPLETED", "restarted and completed");
    const fresh = await call("POST", "orchestrations/api-value-input/restart", { body: { restartWithNewInstanceId: true } });
    expect(fresh.status).toBe(200);
    expect(fresh.body.instanceId).not.toBe("api-value-input");
    expect((await completed(c, fresh.body.instanceId)).serializedOutput).toBe(JSON.stringify(["Hello, Cairo!"]));
    expect((await call("POST", "orchestrations/nobody/restart", {})).status).toBe(404);
    expect((await call("POST", "orchestrations/api-value-input/restart", { body: { restartWithNewInstanceId: "yes" } })).status).toBe(400);

    const failed = await c.scheduleNewOrchestration("fails", undefined, "api-fails");
    await completed(c, failed);
    const payloads = (await call("GET", "orchestrations/api-fails/payloads")).body;
    expect(payloads.orchestrationStatus).toBe("ORCHESTRATION_STATUS_FAILED");
    expect(payloads.failureDetails).toMatchObject({ errorMessage: expect.stringMatching(/boom on purpose/), isNonRetriable: false });
    expect((await call("POST", "orchestrations/api-fails/history", { body: { executionRewound: { reason: "try again" } } })).status).toBe(202);

    const running = await c.scheduleNewOrchestration("waitForApproval", undefined, "api-purge-running");
    await c.waitForOrchestrationStart(running);
    const refused = await call("DELETE", `orchestrations/${running}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/still running; terminate it before purging it/);
    const one = await call("DELETE", "orchestrations/api-create-12", { prefix: "/api/v1/taskhubs" });
    expect(one.status).toBe(204);
    expect((await call("GET", "orchestrations/api-create-12")).status).toBe(404);
    expect((await call("DELETE", "orchestrations/api-create-12")).status).toBe(404);

    const many = await call("DELETE", "orchestrations/purge", { body: ["api-create-16", running, "api-nobody"] });
    expect(many).toMatchObject({ status: 200, body: { purgedInstanceCount: 1, unsuccessful: [running, "api-nobody"] } });
    expect((await call("GET", "orchestrations/api-create-16")).status).toBe(404);
    expect((await call("DELETE", "orchestrations/purge", { body: { nothing: true } })).status).toBe(400);
    await c.terminateOrchestration(running, "done");
  });
});

describe("entities and workers", () => {
  test.each(PREFIXES)("%s: query, get, state and delete an entity", async (prefix) => {
    const key = `k${prefix.length}`;
    await c.signalEntity(new EntityInstanceId("counter", key), "add", 5);
    const id = `@counter@${key}`;
    await pollUntil(async () => (await call("GET", `entities/${encodeURIComponent(id)}/state`, { prefix })).text, (t) => t === "5", "the counter's state");
    const got = await call("GET", `entities/${encodeURIComponent(id)}`, { prefix });
    expect(got.body).toMatchObject({ instanceId: id, name: "counter", key, backlogQueueSize: 0, hasState: true });
    expect(Date.parse(got.body.lastModifiedTime)).toBeGreaterThan(0);

    const q = await call("POST", "entities/query", { prefix, body: { filter: { name: { value: "count" }, key: { value: key } }, fetchTotalCount: true } });
    expect(q.body).toMatchObject({ totalCount: 1, entities: [{ instanceId: id }] });
    const excluded = await call("POST", "entities/query", { prefix, body: { filter: { excludeNameStartsWith: [{ value: "coun" }] } } });
    expect(excluded.body.entities.find((e: { instanceId: string }) => e.instanceId === id)).toBeUndefined();

    expect((await call("DELETE", `entities/${encodeURIComponent(id)}`, { prefix })).status).toBe(204);
    expect((await call("GET", `entities/${encodeURIComponent(id)}`, { prefix })).status).toBe(404);
  });

  test("entities: query paging and sort, bulk delete, and bad bodies", async () => {
    for (const k of ["a", "b", "c"]) await c.signalEntity(new EntityInstanceId("counter", `page-${k}`), "add", 1);
    await pollUntil(async () => (await call("POST", "entities/query", { body: { filter: { key: { value: "page-" } } } })).body.totalCount, (n) => n === 3, "three counters");
    const desc = await call("POST", "entities/query", { body: { filter: { key: { value: "page-" } }, sort: [{ column: "KEY", direction: "DESCENDING_SORT" }], pagination: { startIndex: 1, count: 1 } } });
    expect(desc.body).toMatchObject({ totalCount: 3, entities: [{ key: "page-b" }] });

    const del = await call("DELETE", "entities/delete", { body: ["@counter@page-a", "@counter@page-b", "@counter@nobody"] });
    expect(del).toMatchObject({ status: 200, body: { deletedCount: 2, unsuccessful: ["@counter@nobody"] } });
    expect((await call("POST", "entities/query", { body: { filter: { key: { value: "page-" } } } })).body.totalCount).toBe(1);

    expect((await call("POST", "entities/query", { body: { sort: [{ column: "SIZE" }] } })).body.error).toMatch(/Unknown sort column 'SIZE'/);
    expect((await call("POST", "entities/query", { body: { filter: { excludeNameStartsWith: "x" } } })).status).toBe(400);
    expect((await call("DELETE", "entities/delete", { body: [] })).status).toBe(400);
    expect((await call("GET", "entities/@counter@nobody/state")).status).toBe(404);
  });

  test.each(PREFIXES)("%s/workers lists the connected worker with its in-flight work and limits", async (prefix) => {
    const r = await call("GET", "workers", { prefix });
    expect(r.status).toBe(200);
    expect(r.body.workers.length).toBeGreaterThanOrEqual(1);
    const wk = r.body.workers[0];
    expect(typeof wk.workerId).toBe("string");
    expect(wk.maxOrchestrationsCount).toBeGreaterThan(0);
    expect(wk.maxActivitiesCount).toBeGreaterThan(0);
    expect(wk.activeActivitiesCount).toBeGreaterThanOrEqual(0);
  });
});

describe("the dashboard's /api prefix", () => {
  const api = { prefix: "/api/v1/taskhubs" };

  test("restart, batch events, force terminate and both list deletes answer there as under /v1", async () => {
    const id = await c.scheduleNewOrchestration("waitForApproval", undefined, "api-prefix-a");
    await c.waitForOrchestrationStart(id);
    expect(await call("POST", "orchestrations/addhistoryevents", { ...api, body: { events: { [id]: { executionSuspended: {} } } } })).toMatchObject({ status: 200, body: [] });
    await pollUntil(() => status(id), (s) => s === "ORCHESTRATION_STATUS_SUSPENDED", "suspended");
    expect(await call("POST", "orchestrations/forceterminate", { ...api, body: [id] })).toMatchObject({ status: 200, body: [] });
    expect(await status(id)).toBe("ORCHESTRATION_STATUS_TERMINATED");
    const restarted = await call("POST", `orchestrations/${id}/restart`, { ...api });
    expect(restarted).toMatchObject({ status: 200, body: { instanceId: id } });
    await c.waitForOrchestrationStart(id);
    await c.terminateOrchestration(id, "done");
    await completed(c, id);
    expect(await call("DELETE", "orchestrations/purge", { ...api, body: { instanceIds: [id] } })).toMatchObject({ status: 200, body: { purgedInstanceCount: 1, unsuccessful: [] } });

    await c.signalEntity(new EntityInstanceId("counter", "prefix"), "add", 2);
    await pollUntil(async () => (await call("GET", "entities/@counter@prefix/state", api)).text, (t) => t === "2", "the counter's state");
    expect(await call("DELETE", "entities/delete", { ...api, body: ["@counter@prefix"] })).toMatchObject({ status: 200, body: { deletedCount: 1, unsuccessful: [] } });
  });

  test("an entity id on an orchestration route is pointed to the entity routes", async () => {
    await c.signalEntity(new EntityInstanceId("counter", "which"), "add", 1);
    await pollUntil(async () => (await call("GET", "entities/@counter@which", api)).status, (s) => s === 200, "the counter");
    const r = await call("GET", "orchestrations/@counter@which", api);
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/is an entity, not an orchestration: use entities\/%40counter%40which/);
  });
});

describe("the same-origin rule", () => {
  test("a browser request from another site that would change state is refused and changes nothing", async () => {
    const r = await call("POST", "orchestrations", { body: { name: "hello", instanceId: "api-cross-site" }, headers: { origin: "http://evil.example" } });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/dashboard's own pages/);
    const site = await call("POST", "orchestrations", { body: { name: "hello", instanceId: "api-cross-site" }, headers: { "sec-fetch-site": "cross-site" } });
    expect(site.status).toBe(403);
    expect((await call("GET", "orchestrations/api-cross-site")).status).toBe(404);
  });

  test("the dashboard's own origin may change state; reads from anywhere are answered", async () => {
    const own = await call("POST", "orchestrations", { body: { name: "hello", instanceId: "api-same-site" }, headers: { origin: base } });
    expect(own.status).toBe(201);
    expect((await call("POST", "orchestrations/query", { body: {}, headers: { origin: "http://elsewhere.example" } })).status).toBe(200);
  });
});
