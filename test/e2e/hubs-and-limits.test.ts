// End-to-end: task hubs (--hubs, DTS_TASK_HUB_NAMES, --dynamic-hubs, the `taskhub` metadata, the
// default hub, CreateTaskHub/DeleteTaskHub) and input limits (instance ids, --max-payload-bytes,
// malformed requests) against `dts serve`.
import * as fs from "fs";
import { OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { isOrchestration, RawClient, rawBytesCall } from "../helpers/raw";
import { client, grpcCode, worker, completed } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;

/** --hubs a,b with a 1000-byte payload limit. */
let ab: DtsProcess;
/** DTS_TASK_HUB_NAMES=x,y. */
let env: DtsProcess;
/** --dynamic-hubs (and the default hub). */
let dyn: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  [ab, env, dyn] = await Promise.all([
    startDts(["--store", "memory", "--hubs", "a,b", "--max-payload-bytes", "1000"]),
    startDts(["--store", "memory"], { env: { DTS_TASK_HUB_NAMES: "x,y" } }),
    startDts(["--store", "memory", "--dynamic-hubs"]),
  ]);
  await Promise.all([sdkWorker(ab, "a", "A"), sdkWorker(ab, "b", "B")]);
});

afterAll(async () => {
  for (const r of raws) r.close();
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all([ab?.stop(), env?.stop(), dyn?.stop()]);
  for (const p of [ab, env, dyn]) if (p) fs.rmSync(p.dataDir, { recursive: true, force: true });
});

function sdkClient(server: DtsProcess, hub?: string): TaskHubGrpcClient {
  const c = client(server.address, hub);
  clients.push(c);
  return c;
}

/** A started worker whose orchestrators tag their output with `tag`, to show which hub ran them. */
async function sdkWorker(server: DtsProcess, hub: string | undefined, tag: string): Promise<TaskHubGrpcWorker> {
  const w = worker(server.address, hub);
  w.addNamedOrchestrator("Echo", (_ctx: OrchestrationContext, input: any) => `${tag}:${input}`);
  w.addNamedOrchestrator("WaitGo", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    return `${tag}:${yield ctx.waitForExternalEvent("go")}`;
  });
  await w.start();
  workers.push(w);
  return w;
}

function rawClient(server: DtsProcess, hub?: string): RawClient {
  const r = new RawClient(server.address, hub);
  raws.push(r);
  return r;
}


async function allIds(c: TaskHubGrpcClient): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of c.getAllInstances()) ids.push(s.instanceId);
  return ids.sort();
}

describe("task hubs", () => {
  let ca: TaskHubGrpcClient;
  let cb: TaskHubGrpcClient;
  beforeAll(() => {
    ca = sdkClient(ab, "a");
    cb = sdkClient(ab, "b");
  });

  test("two hubs on one server do not see each other's instances or work", async () => {
    await ca.scheduleNewOrchestration("Echo", "1", "only-a");
    await cb.scheduleNewOrchestration("Echo", "2", "only-b");
    // The same instance id lives independently in each hub.
    await ca.scheduleNewOrchestration("Echo", "from a", "shared-id");
    await cb.scheduleNewOrchestration("Echo", "from b", "shared-id");

    expect((await completed(ca, "only-a")).serializedOutput).toBe('"A:1"');
    expect((await completed(cb, "only-b")).serializedOutput).toBe('"B:2"');
    expect((await completed(ca, "shared-id")).serializedOutput).toBe('"A:from a"');
    expect((await completed(cb, "shared-id")).serializedOutput).toBe('"B:from b"');

    expect(await cb.getOrchestrationState("only-a")).toBeUndefined();
    expect(await ca.getOrchestrationState("only-b")).toBeUndefined();
    expect(await allIds(ca)).toEqual(["only-a", "shared-id"]);
    expect(await allIds(cb)).toEqual(["only-b", "shared-id"]);
    expect((await ca.listInstanceIds()).values.slice().sort()).toEqual(["only-a", "shared-id"]);

    // Management calls through the other hub do not reach the instance.
    expect((await grpcCode(cb.raiseOrchestrationEvent("only-a", "go", 1))).code).toBe(5);
    expect((await cb.purgeOrchestration("only-a"))?.deletedInstanceCount).toBe(0);
    expect(await ca.getOrchestrationState("only-a")).toBeDefined();
    // Purging in one hub leaves the other hub's instance with the same id.
    expect((await cb.purgeOrchestration("shared-id"))?.deletedInstanceCount).toBe(1);
    expect((await ca.getOrchestrationState("shared-id"))?.serializedOutput).toBe('"A:from a"');
  });

  test("an unknown hub is NOT_FOUND: Task hub not found: c", async () => {
    const cc = sdkClient(ab, "c");
    const start = await grpcCode(cc.scheduleNewOrchestration("Echo", "x"));
    expect(start.code).toBe(5);
    expect(start.details).toContain("Task hub not found: c");
    expect((await grpcCode(cc.getOrchestrationState("only-a"))).code).toBe(5);

    // A worker stream for it ends with the same status.
    const r = rawClient(ab, "c");
    expect((await grpcCode(r.call("Hello", {}))).code).toBe(5);
    const err = await r.workItems().closed();
    expect(err?.code).toBe(5);
    expect(err?.details).toContain("Task hub not found: c");
  });

  test("no taskhub metadata means hub `default`, which --hubs a,b does not serve", async () => {
    const none = sdkClient(ab);
    const e = await grpcCode(none.scheduleNewOrchestration("Echo", "x"));
    expect(e.code).toBe(5);
    expect(e.details).toContain("Task hub not found: default");
  });

  test("no taskhub metadata works on a server with the default hub, and is the same hub as `default`", async () => {
    const none = sdkClient(dyn);
    const named = sdkClient(dyn, "default");
    await sdkWorker(dyn, undefined, "D");
    const id = await none.scheduleNewOrchestration("Echo", "hi", "default-hub-1");
    expect((await completed(none, id)).serializedOutput).toBe('"D:hi"');
    expect((await named.getOrchestrationState(id))?.runtimeStatus).toBe(S.COMPLETED);
  });

  test("--dynamic-hubs creates a hub on first use", async () => {
    const c = sdkClient(dyn, "fresh-hub");
    // Nothing there yet, but no NOT_FOUND either.
    expect(await c.getOrchestrationState("nothing")).toBeUndefined();
    await sdkWorker(dyn, "fresh-hub", "F");
    const id = await c.scheduleNewOrchestration("Echo", "new", "fresh-1");
    expect((await completed(c, id)).serializedOutput).toBe('"F:new"');
    // It is a hub of its own, separate from default.
    expect(await sdkClient(dyn).getOrchestrationState(id)).toBeUndefined();
    expect(await allIds(c)).toEqual(["fresh-1"]);
  });

  test("DTS_TASK_HUB_NAMES works like --hubs", async () => {
    for (const hub of ["x", "y"]) {
      const c = sdkClient(env, hub);
      const id = await c.scheduleNewOrchestration("Echo", hub, `env-${hub}`);
      expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.PENDING);
    }
    for (const hub of [undefined, "a", "default"]) {
      const e = await grpcCode(sdkClient(env, hub).scheduleNewOrchestration("Echo", "x"));
      expect(e.code).toBe(5);
      expect(e.details).toContain(`Task hub not found: ${hub ?? "default"}`);
    }
  });

  test("CreateTaskHub and DeleteTaskHub (raw RPCs)", async () => {
    const r = rawClient(ab, "made");
    const c = sdkClient(ab, "made");
    expect((await grpcCode(c.getOrchestrationState("x"))).code).toBe(5);
    await r.call("CreateTaskHub", {});
    const id = await c.scheduleNewOrchestration("Echo", "x", "made-1");
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.PENDING);
    // Creating it again keeps what is there.
    await r.call("CreateTaskHub", {});
    expect(await c.getOrchestrationState(id)).toBeDefined();

    await r.call("DeleteTaskHub", {});
    expect((await grpcCode(c.getOrchestrationState(id))).code).toBe(5);
    expect((await grpcCode(r.call("DeleteTaskHub", {}))).code).toBe(5);
    // Recreated, it starts empty.
    await r.call("CreateTaskHub", {});
    expect(await c.getOrchestrationState(id)).toBeUndefined();
    // Other hubs were not touched.
    expect(await ca.getOrchestrationState("only-a")).toBeDefined();
  });
});

describe("limits", () => {
  let ca: TaskHubGrpcClient;
  let r: RawClient;
  beforeAll(() => {
    ca = sdkClient(ab, "a");
    r = rawClient(ab, "a");
  });

  async function invalidId(id: string, ...mentions: string[]) {
    const e = await grpcCode(ca.scheduleNewOrchestration("Echo", "x", id));
    expect(e.code).toBe(3);
    expect(e.details).toContain("instanceId");
    for (const m of mentions) expect(e.details).toContain(m);
    return e;
  }

  test("instance ids: 100 characters is fine, 101 is INVALID_ARGUMENT naming the limit", async () => {
    const ok = "i".repeat(100);
    expect(await ca.scheduleNewOrchestration("Echo", "x", ok)).toBe(ok);
    await invalidId("i".repeat(101), "101", "100");
    expect((await grpcCode(ca.getOrchestrationState("i".repeat(101)))).code).toBe(3);
  });

  test("instance ids: non-printable or non-ASCII characters are INVALID_ARGUMENT", async () => {
    await invalidId("bad\u0001id", "printable ASCII");
    await invalidId("tab\there", "printable ASCII");
    await invalidId("caf\u00e9", "printable ASCII");
    expect(await ca.getOrchestrationState("bad\u0001id").catch((e) => e.code)).toBe(3);
  });

  test("instance ids: a leading '@' (entity ids) is INVALID_ARGUMENT", async () => {
    await invalidId("@counter@1", "'@'");
    expect(await ca.scheduleNewOrchestration("Echo", "x", "not@first")).toBe("not@first");
  });

  test("instance ids: empty ones are INVALID_ARGUMENT where an instance is addressed (raw RPC)", async () => {
    for (const [method, req] of [
      ["GetInstance", { instanceId: "" }],
      ["RaiseEvent", { instanceId: "", name: "go" }],
      ["TerminateInstance", { instanceId: "" }],
      ["WaitForInstanceCompletion", { instanceId: "" }],
    ] as const) {
      const e = await grpcCode(r.call(method, req));
      expect(e.code).toBe(3);
      expect(e.details).toContain("instanceId must not be empty");
    }
  });

  test("StartInstance with an empty instance id (raw RPC) gets a generated id, like the SDKs do", async () => {
    const res = await r.call("StartInstance", { instanceId: "", name: "Echo", input: { value: '"gen"' } });
    expect(res.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await completed(ca, res.instanceId)).serializedOutput).toBe('"A:gen"');
  });

  test("an input over --max-payload-bytes is RESOURCE_EXHAUSTED naming the field and limit; nothing is stored", async () => {
    const big = "x".repeat(999); // 1001 bytes as JSON
    const e = await grpcCode(ca.scheduleNewOrchestration("Echo", big, "too-big"));
    expect(e.code).toBe(8);
    expect(e.details).toContain("input");
    expect(e.details).toContain("1001");
    expect(e.details).toContain("1000");
    expect(await ca.getOrchestrationState("too-big")).toBeUndefined();
    // Exactly at the limit is accepted. (Its output, "A:" + input, is over the limit: that fails the
    // orchestration instead of storing it.)
    const id = await ca.scheduleNewOrchestration("Echo", "x".repeat(998), "just-fits");
    const s = await completed(ca, id);
    expect(s.serializedInput).toBe(JSON.stringify("x".repeat(998)));
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.failureDetails?.errorType).toBe("PayloadTooLarge");
    expect(s.failureDetails?.message).toContain("1000");
  });

  test("event data over the limit is RESOURCE_EXHAUSTED and not delivered", async () => {
    const id = await ca.scheduleNewOrchestration("WaitGo", null, "big-event");
    await ca.waitForOrchestrationStart(id, false, 30);
    const e = await grpcCode(ca.raiseOrchestrationEvent(id, "go", "y".repeat(1000)));
    expect(e.code).toBe(8);
    expect(e.details).toContain("1000");
    expect((await ca.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
    await ca.raiseOrchestrationEvent(id, "go", "small");
    expect((await completed(ca, id)).serializedOutput).toBe('"A:small"');
  });

  test("raising an event to an unknown instance is NOT_FOUND", async () => {
    const e = await grpcCode(ca.raiseOrchestrationEvent("no-such-instance", "go", 1));
    expect(e.code).toBe(5);
    expect(e.details).toContain("no-such-instance");
  });

  test("U+0000 in a string: a client's request is refused naming the field; a worker's result holding it fails that orchestration, and the hub goes on", async () => {
    // PostgreSQL's text cannot hold the character; every store refuses it alike (test/postgres runs this too).
    const raw = new RawClient(dyn.address, "nul");
    raws.push(raw);
    expect(await grpcCode(raw.call("StartInstance", { instanceId: "nul-in", name: "Echo", input: { value: '"a\u0000b"' } })))
      .toMatchObject({ code: 3, details: "input.value holds the character U+0000 (NUL), which no string in a request may hold" });
    expect(await grpcCode(raw.call("RaiseEvent", { instanceId: "nul-in", name: "go\u0000" })))
      .toMatchObject({ code: 3, details: "name holds the character U+0000 (NUL), which no string in a request may hold" });

    // A worker's result is the engine's to judge: refusing the call would only make the worker send it again.
    const stream = raw.workItems();
    await raw.call("StartInstance", { instanceId: "nul-out", name: "Echo" });
    const item = await stream.next(isOrchestration);
    await raw.call("CompleteOrchestratorTask", {
      instanceId: "nul-out", completionToken: item.completionToken,
      actions: [{ id: 0, completeOrchestration: { orchestrationStatus: S.COMPLETED, result: { value: '"x\u0000"' } } }],
    });
    const failed = (await raw.call("GetInstance", { instanceId: "nul-out" })).orchestrationState;
    expect([failed.orchestrationStatus, failed.failureDetails?.errorType, failed.failureDetails?.errorMessage])
      .toEqual([S.FAILED, "InvalidAction", "orchestration output holds the character U+0000 (NUL), which the scheduler does not keep"]);
    // So does a sub-orchestration id the rules refuse (it was mislabelled PayloadTooLarge before 2026-12-03).
    await raw.call("StartInstance", { instanceId: "bad-child", name: "Echo" });
    const parent = await stream.next((w) => w.orchestratorRequest?.instanceId === "bad-child");
    await raw.call("CompleteOrchestratorTask", {
      instanceId: "bad-child", completionToken: parent.completionToken, actions: [{ id: 0, createSubOrchestration: { instanceId: "@x", name: "Echo" } }],
    });
    const refused = (await raw.call("GetInstance", { instanceId: "bad-child" })).orchestrationState.failureDetails;
    expect([refused?.errorType, refused?.errorMessage]).toEqual(["InvalidAction", "sub-orchestration instanceId '@x' must not start with '@': that prefix is reserved for entity ids"]);
    await raw.call("StartInstance", { instanceId: "nul-after", name: "Echo", input: { value: '"fine"' } });
    expect((await raw.call("GetInstance", { instanceId: "nul-after", getInputsAndOutputs: true })).orchestrationState.input.value).toBe('"fine"');
  });

  test("a malformed request gets an error and the server keeps serving", async () => {
    // (The protobufjs decoder is lenient: it truncates over-long strings and ignores wire types of
    // known fields, so these are inputs it does reject.)
    const garbage = [
      Buffer.from([0x22, 0x7f, 0x0a]), // field 4 (input) claims 127 bytes, has 1
      Buffer.from([0x7f, 0x00]), // wire type 7 does not exist
      Buffer.from([0xff]), // a tag varint cut short
    ];
    for (const bytes of garbage) {
      const res = await rawBytesCall(ab.address, "/TaskHubSidecarService/StartInstance", bytes, "a");
      expect(res).toBeInstanceOf(Error);
      expect((res as { code?: number }).code).toBeGreaterThan(0);
    }
    // Invalid UTF-8 in the instance id decodes to U+FFFD, which the id rules reject.
    const badUtf8 = await rawBytesCall(ab.address, "/TaskHubSidecarService/StartInstance", Buffer.from([0x0a, 0x02, 0xc3, 0x28, 0x12, 0x04, 0x45, 0x63, 0x68, 0x6f]), "a");
    expect((badUtf8 as { code?: number }).code).toBe(3);
    const id = await ca.scheduleNewOrchestration("Echo", "after garbage", "after-garbage");
    expect((await completed(ca, id)).serializedOutput).toBe('"A:after garbage"');
    expect(ab.proc.exitCode).toBeNull();
  });
});
