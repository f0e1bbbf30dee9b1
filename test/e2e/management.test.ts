// End-to-end: instance management with the official JS SDK against `dts serve` (sqlite): reading
// instances, waiting, queries with paging, listing ids, purging and instance id reuse.
// Each describe block works in its own task hub (--dynamic-hubs), so queries see only its instances.
import {
  HistoryEventType, OrchestrationContext, OrchestrationState, OrchestrationStatus, PurgeInstanceCriteria, Task, TaskHubGrpcClient, TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { stopAll } from "../helpers/teardown";
import { RawClient } from "../helpers/raw";
import { client, grpcCode, worker, completed } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
const S = OrchestrationStatus;

let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

function register(w: TaskHubGrpcWorker): void {
  w.addNamedOrchestrator("Echo", (_ctx: OrchestrationContext, input: any) => input);
  w.addNamedOrchestrator("Fail", (_ctx: OrchestrationContext, input: any) => {
    throw new Error(`failing on purpose: ${JSON.stringify(input)}`);
  });
  w.addNamedOrchestrator("WaitGo", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    const v = yield ctx.waitForExternalEvent("go");
    return { got: v };
  });
  w.addNamedOrchestrator("Child", (ctx: OrchestrationContext, input: any) => ({ child: ctx.instanceId, input }));
  w.addNamedOrchestrator("Parent", async function* (ctx: OrchestrationContext, input: any): AsyncGenerator<Task<any>, any, any> {
    return yield ctx.callSubOrchestrator("Child", input);
  });
}

/** A client and a started worker on a task hub of their own. */
async function hub(name: string): Promise<TaskHubGrpcClient> {
  const c = client(dts.address, name);
  const w = worker(dts.address, name);
  register(w);
  await w.start();
  clients.push(c);
  workers.push(w);
  return c;
}

function raw(hubName: string): RawClient {
  const r = new RawClient(dts.address, hubName);
  raws.push(r);
  return r;
}


const sorted = (ids: Iterable<string>) => [...ids].sort();

beforeAll(async () => {
  dts = await startDts(["--dynamic-hubs"]);
});

afterAll(() => stopAll({ raws, workers, clients, servers: [dts] }));

describe("reading and waiting", () => {
  let c: TaskHubGrpcClient;
  beforeAll(async () => {
    c = await hub("read");
  });

  test("GetInstance returns input and output only when payloads are asked for", async () => {
    const id = await c.scheduleNewOrchestration("Echo", { a: 1, s: "x" }, "read-echo-1");
    expect(id).toBe("read-echo-1");
    await completed(c, id);

    const full = await c.getOrchestrationState(id, true);
    expect(full).toBeDefined();
    expect(full!.instanceId).toBe(id);
    expect(full!.name).toBe("Echo");
    expect(full!.runtimeStatus).toBe(S.COMPLETED);
    expect(JSON.parse(full!.serializedInput!)).toEqual({ a: 1, s: "x" });
    expect(JSON.parse(full!.serializedOutput!)).toEqual({ a: 1, s: "x" });
    expect(full!.createdAt.getTime()).toBeLessThanOrEqual(full!.lastUpdatedAt.getTime());

    const bare = await c.getOrchestrationState(id, false);
    expect(bare).toBeDefined();
    expect(bare!.runtimeStatus).toBe(S.COMPLETED);
    expect(bare!.name).toBe("Echo");
    expect(bare!.serializedInput).toBeUndefined();
    expect(bare!.serializedOutput).toBeUndefined();
    expect(bare!.serializedCustomStatus).toBeUndefined();
  });

  test("GetInstance of an unknown instance is undefined", async () => {
    expect(await c.getOrchestrationState("read-nobody-here")).toBeUndefined();
  });

  test("waitForOrchestrationStart returns a running instance; waitForOrchestrationCompletion its result", async () => {
    const id = await c.scheduleNewOrchestration("WaitGo", "in", "read-wait-1");
    const started = await c.waitForOrchestrationStart(id, true, 30);
    expect(started?.runtimeStatus).toBe(S.RUNNING);
    expect(started?.serializedInput).toBe('"in"');
    expect(started?.serializedOutput).toBeUndefined();

    const startedBare = await c.waitForOrchestrationStart(id, false, 30);
    expect(startedBare?.runtimeStatus).toBe(S.RUNNING);
    expect(startedBare?.serializedInput).toBeUndefined();

    const done = c.waitForOrchestrationCompletion(id, true, 30);
    await c.raiseOrchestrationEvent(id, "go", 42);
    const s = await done;
    expect(s?.runtimeStatus).toBe(S.COMPLETED);
    expect(JSON.parse(s!.serializedOutput!)).toEqual({ got: 42 });

    // Waiting on a finished instance answers at once.
    const again = await c.waitForOrchestrationStart(id, false, 30);
    expect(again?.runtimeStatus).toBe(S.COMPLETED);
  });

  test("waiting on an unknown instance fails with NOT_FOUND", async () => {
    const e = await grpcCode(c.waitForOrchestrationCompletion("read-unknown", false, 30));
    expect(e.code).toBe(5);
  });
});

describe("QueryInstances", () => {
  let c: TaskHubGrpcClient;
  const done = new Set<string>();
  const waiting = new Set<string>();
  const failed = new Set<string>();
  const other = new Set<string>();
  let all: OrchestrationState[] = [];

  beforeAll(async () => {
    c = await hub("query");
    for (let i = 0; i < 10; i++) done.add(await c.scheduleNewOrchestration("Echo", i, `q-done-${String(i).padStart(2, "0")}`));
    for (let i = 0; i < 4; i++) waiting.add(await c.scheduleNewOrchestration("WaitGo", i, `q-wait-${i}`));
    for (let i = 0; i < 3; i++) failed.add(await c.scheduleNewOrchestration("Fail", i, `q-fail-${i}`));
    for (let i = 0; i < 5; i++) other.add(await c.scheduleNewOrchestration("Echo", i, `other-${i}`));
    await Promise.all([...done, ...failed, ...other].map((id) => completed(c, id)));
    await Promise.all([...waiting].map((id) => c.waitForOrchestrationStart(id, false, 30)));
    for await (const s of c.getAllInstances({ pageSize: 100 })) all.push(s);
  });

  async function ids(query: Parameters<TaskHubGrpcClient["getAllInstances"]>[0]): Promise<string[]> {
    const out: string[] = [];
    for await (const s of c.getAllInstances(query)) out.push(s.instanceId);
    return out;
  }

  test("no filter returns every instance of the hub, once", () => {
    expect(all.map((s) => s.instanceId).sort()).toEqual(sorted([...done, ...waiting, ...failed, ...other]));
  });

  test("runtime status filter", async () => {
    expect(sorted(await ids({ statuses: [S.RUNNING] }))).toEqual(sorted(waiting));
    expect(sorted(await ids({ statuses: [S.FAILED] }))).toEqual(sorted(failed));
    expect(sorted(await ids({ statuses: [S.FAILED, S.RUNNING] }))).toEqual(sorted([...failed, ...waiting]));
    expect(sorted(await ids({ statuses: [S.COMPLETED] }))).toEqual(sorted([...done, ...other]));
    expect(await ids({ statuses: [S.TERMINATED] })).toEqual([]);
  });

  test("instance id prefix", async () => {
    expect(sorted(await ids({ instanceIdPrefix: "q-done-" }))).toEqual(sorted(done));
    expect(sorted(await ids({ instanceIdPrefix: "q-" }))).toEqual(sorted([...done, ...waiting, ...failed]));
    expect(await ids({ instanceIdPrefix: "nothing-starts-like-this" })).toEqual([]);
    // Combined with a status filter.
    expect(sorted(await ids({ instanceIdPrefix: "q-", statuses: [S.COMPLETED] }))).toEqual(sorted(done));
  });

  test("created-time range (inclusive bounds) selects exactly the instances created in it", async () => {
    const byCreated = [...all].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const from = byCreated[5].createdAt;
    const to = byCreated[15].createdAt;
    const expected = all.filter((s) => s.createdAt.getTime() >= from.getTime() && s.createdAt.getTime() <= to.getTime()).map((s) => s.instanceId);
    expect(expected.length).toBeGreaterThanOrEqual(11);
    expect(sorted(await ids({ createdFrom: from, createdTo: to }))).toEqual(sorted(expected));

    const first = byCreated[0].createdAt;
    expect(sorted(await ids({ createdTo: first }))).toEqual(sorted(all.filter((s) => s.createdAt.getTime() === first.getTime()).map((s) => s.instanceId)));
    expect(await ids({ createdFrom: new Date(byCreated[byCreated.length - 1].createdAt.getTime() + 1) })).toEqual([]);
  });

  test("pages with continuation tokens: every instance seen exactly once", async () => {
    const pages: (readonly OrchestrationState[])[] = [];
    const tokens: (string | undefined)[] = [];
    for await (const page of c.getAllInstances({ pageSize: 5 }).asPages()) {
      pages.push(page.values);
      tokens.push(page.continuationToken);
    }
    const seen = pages.flat().map((s) => s.instanceId);
    expect(seen.length).toBe(22);
    expect(new Set(seen).size).toBe(22);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 2]);
    // Every page but the last carries a token; the last carries none.
    expect(tokens.slice(0, -1).every((t) => typeof t === "string" && t.length > 0)).toBe(true);
    expect(tokens[tokens.length - 1]).toBeUndefined();

    // Resuming from a token continues after the page it came from.
    const resumed: string[] = [];
    for await (const s of c.getAllInstances({ pageSize: 5, continuationToken: tokens[1] })) resumed.push(s.instanceId);
    expect(resumed).toEqual(seen.slice(10));

    // Paging works with a filter too.
    const filtered: string[] = [];
    for await (const page of c.getAllInstances({ pageSize: 3, instanceIdPrefix: "q-done-" }).asPages()) {
      expect(page.values.length).toBeLessThanOrEqual(3);
      filtered.push(...page.values.map((s) => s.instanceId));
    }
    expect(filtered.length).toBe(10);
    expect(sorted(filtered)).toEqual(sorted(done));
  });

  test("a malformed continuation token is INVALID_ARGUMENT", async () => {
    const e = await grpcCode(ids({ continuationToken: "not a token!" }));
    expect(e.code).toBe(3);
  });

  test("query results carry payloads only when asked", async () => {
    const bare = await ids({ instanceIdPrefix: "q-done-0" });
    expect(bare.length).toBe(10);
    for await (const s of c.getAllInstances({ instanceIdPrefix: "q-done-01" })) {
      expect(s.serializedInput).toBeUndefined();
      expect(s.serializedOutput).toBeUndefined();
      expect(s.runtimeStatus).toBe(S.COMPLETED);
    }
    const withPayloads: OrchestrationState[] = [];
    for await (const s of c.getAllInstances({ instanceIdPrefix: "q-done-01", fetchInputsAndOutputs: true })) withPayloads.push(s);
    expect(withPayloads.length).toBe(1);
    expect(withPayloads[0].serializedInput).toBe("1");
    expect(withPayloads[0].serializedOutput).toBe("1");
  });
});

describe("ListInstanceIds", () => {
  let c: TaskHubGrpcClient;
  const done: string[] = [];
  const waiting: string[] = [];

  beforeAll(async () => {
    c = await hub("list");
    for (let i = 0; i < 9; i++) done.push(await c.scheduleNewOrchestration("Echo", i, `l-done-${i}`));
    for (let i = 0; i < 2; i++) waiting.push(await c.scheduleNewOrchestration("WaitGo", i, `l-wait-${i}`));
    await Promise.all(done.map((id) => completed(c, id)));
    await Promise.all(waiting.map((id) => c.waitForOrchestrationStart(id, false, 30)));
  });

  async function listAll(options: Parameters<TaskHubGrpcClient["listInstanceIds"]>[0]): Promise<{ ids: string[]; pageSizes: number[] }> {
    const ids: string[] = [];
    const pageSizes: number[] = [];
    let key: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const page = await c.listInstanceIds({ ...options, lastInstanceKey: key });
      ids.push(...page.values);
      pageSizes.push(page.values.length);
      if (!page.hasMoreResults) return { ids, pageSizes };
      key = page.continuationToken;
    }
    throw new Error("listInstanceIds never finished");
  }

  test("pages by lastInstanceKey; every id once", async () => {
    const { ids, pageSizes } = await listAll({ runtimeStatus: [S.COMPLETED], pageSize: 4 });
    expect(pageSizes).toEqual([4, 4, 1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sorted(ids)).toEqual(sorted(done));

    const everything = await listAll({ pageSize: 3 });
    expect(new Set(everything.ids).size).toBe(11);
    expect(sorted(everything.ids)).toEqual(sorted([...done, ...waiting]));
  });

  test("status and completed-time filters", async () => {
    expect(sorted((await listAll({ runtimeStatus: [S.RUNNING] })).ids)).toEqual(sorted(waiting));
    // A completed-time bound excludes instances that have not completed.
    expect(sorted((await listAll({ completedTimeFrom: new Date(1000) })).ids)).toEqual(sorted(done));
    expect((await listAll({ completedTimeFrom: new Date(Date.now() + 3_600_000) })).ids).toEqual([]);
  });
});

describe("purge", () => {
  let c: TaskHubGrpcClient;
  beforeAll(async () => {
    c = await hub("purge");
  });

  test("by instance id", async () => {
    const id = await c.scheduleNewOrchestration("Echo", "bye", "p-one");
    await completed(c, id);
    const r = await c.purgeOrchestration(id);
    expect(r?.deletedInstanceCount).toBe(1);
    expect(await c.getOrchestrationState(id)).toBeUndefined();
    expect(await c.getOrchestrationHistory(id)).toEqual([]);
    // Purging it again (or an id that never existed) deletes nothing.
    expect((await c.purgeOrchestration(id))?.deletedInstanceCount).toBe(0);
    expect((await c.purgeOrchestration("p-never-existed"))?.deletedInstanceCount).toBe(0);
  });

  test("purging a running instance by id purges nothing (count 0, as the SDKs document) and keeps it", async () => {
    const id = await c.scheduleNewOrchestration("WaitGo", null, "p-running");
    await c.waitForOrchestrationStart(id, false, 30);
    expect((await c.purgeOrchestration(id))?.deletedInstanceCount).toBe(0);
    const res = await raw("purge").call("PurgeInstances", { instanceId: id });
    expect([res.deletedInstanceCount, res.isComplete?.value]).toEqual([0, true]);
    expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.RUNNING);
    // Once it finished it can be purged.
    await c.raiseOrchestrationEvent(id, "go", 1);
    await completed(c, id);
    expect((await c.purgeOrchestration(id))?.deletedInstanceCount).toBe(1);
  });

  test("by filter: created-time range and statuses", async () => {
    const before = new Date();
    const ok = [await c.scheduleNewOrchestration("Echo", 1, "pf-ok-1"), await c.scheduleNewOrchestration("Echo", 2, "pf-ok-2"), await c.scheduleNewOrchestration("Echo", 3, "pf-ok-3")];
    const bad = [await c.scheduleNewOrchestration("Fail", 1, "pf-bad-1"), await c.scheduleNewOrchestration("Fail", 2, "pf-bad-2")];
    const running = await c.scheduleNewOrchestration("WaitGo", null, "pf-running");
    await Promise.all([...ok, ...bad].map((id) => completed(c, id)));
    await c.waitForOrchestrationStart(running, false, 30);
    const states = await Promise.all([...ok, ...bad, running].map((id) => c.getOrchestrationState(id, false)));
    const createdMax = new Date(Math.max(...states.map((s) => s!.createdAt.getTime())));

    // Completed only, within the range.
    const completedOnly = new PurgeInstanceCriteria();
    completedOnly.setCreatedTimeFrom(before);
    completedOnly.setCreatedTimeTo(createdMax);
    completedOnly.setRuntimeStatusList([S.COMPLETED]);
    expect((await c.purgeOrchestration(completedOnly))?.deletedInstanceCount).toBe(3);
    for (const id of ok) expect(await c.getOrchestrationState(id)).toBeUndefined();
    for (const id of bad) expect((await c.getOrchestrationState(id))?.runtimeStatus).toBe(S.FAILED);

    // A range that ends before they were created matches nothing.
    const tooEarly = new PurgeInstanceCriteria();
    tooEarly.setCreatedTimeTo(new Date(before.getTime() - 1));
    tooEarly.setRuntimeStatusList([S.FAILED]);
    expect((await c.purgeOrchestration(tooEarly))?.deletedInstanceCount).toBe(0);
    for (const id of bad) expect(await c.getOrchestrationState(id)).toBeDefined();

    // Failed and running: the running instance is not terminal, so it is skipped, never purged.
    const failedAndRunning = new PurgeInstanceCriteria();
    failedAndRunning.setCreatedTimeFrom(before);
    failedAndRunning.setRuntimeStatusList([S.FAILED, S.RUNNING]);
    expect((await c.purgeOrchestration(failedAndRunning))?.deletedInstanceCount).toBe(2);
    for (const id of bad) expect(await c.getOrchestrationState(id)).toBeUndefined();
    expect((await c.getOrchestrationState(running))?.runtimeStatus).toBe(S.RUNNING);

    await c.raiseOrchestrationEvent(running, "go", 0);
    await completed(c, running);
  });

  test("by a batch of instance ids (raw RPC): terminal ones go, running ones stay", async () => {
    const a = await c.scheduleNewOrchestration("Echo", "a", "pb-a");
    const b = await c.scheduleNewOrchestration("Fail", "b", "pb-b");
    const keep = await c.scheduleNewOrchestration("Echo", "keep", "pb-keep");
    const running = await c.scheduleNewOrchestration("WaitGo", null, "pb-running");
    await Promise.all([a, b, keep].map((id) => completed(c, id)));
    await c.waitForOrchestrationStart(running, false, 30);

    const res = await raw("purge").call("PurgeInstances", { instanceBatch: { instanceIds: [a, b, running, "pb-unknown"] } });
    expect(res.deletedInstanceCount).toBe(2);
    expect(await c.getOrchestrationState(a)).toBeUndefined();
    expect(await c.getOrchestrationState(b)).toBeUndefined();
    expect((await c.getOrchestrationState(keep))?.runtimeStatus).toBe(S.COMPLETED);
    expect((await c.getOrchestrationState(running))?.runtimeStatus).toBe(S.RUNNING);

    await c.raiseOrchestrationEvent(running, "go", 0);
    await completed(c, running);
  });

  test("a batch with an invalid id is INVALID_ARGUMENT and purges nothing", async () => {
    const a = await c.scheduleNewOrchestration("Echo", "a", "pbi-a");
    await completed(c, a);
    const e = await grpcCode(raw("purge").call("PurgeInstances", { instanceBatch: { instanceIds: [a, "@bad"] } }));
    expect(e.code).toBe(3);
    expect(await c.getOrchestrationState(a)).toBeDefined();
  });

  test("recursive purge removes sub-orchestrations; a plain purge leaves them", async () => {
    const parent = await c.scheduleNewOrchestration("Parent", "deep", "pr-parent");
    const out = JSON.parse((await completed(c, parent)).serializedOutput!);
    const childId: string = out.child;
    expect(out.input).toBe("deep");
    expect((await c.getOrchestrationState(childId))?.runtimeStatus).toBe(S.COMPLETED);
    expect((await c.purgeOrchestration(parent, { recursive: true }))?.deletedInstanceCount).toBe(2);
    expect(await c.getOrchestrationState(parent)).toBeUndefined();
    expect(await c.getOrchestrationState(childId)).toBeUndefined();

    const parent2 = await c.scheduleNewOrchestration("Parent", "shallow", "pr-parent-2");
    const child2: string = JSON.parse((await completed(c, parent2)).serializedOutput!).child;
    expect((await c.purgeOrchestration(parent2))?.deletedInstanceCount).toBe(1);
    expect(await c.getOrchestrationState(parent2)).toBeUndefined();
    expect((await c.getOrchestrationState(child2))?.runtimeStatus).toBe(S.COMPLETED);
  });
});

describe("instance id reuse", () => {
  let c: TaskHubGrpcClient;
  beforeAll(async () => {
    c = await hub("reuse");
  });

  test("starting an id that is running is ALREADY_EXISTS and changes nothing", async () => {
    const id = await c.scheduleNewOrchestration("WaitGo", "first", "r-running");
    await c.waitForOrchestrationStart(id, false, 30);
    const e = await grpcCode(c.scheduleNewOrchestration("Echo", "second", id));
    expect(e.code).toBe(6);
    expect(e.details).toContain(id);
    const s = await c.getOrchestrationState(id, true);
    expect(s?.name).toBe("WaitGo");
    expect(s?.serializedInput).toBe('"first"');
    expect(s?.runtimeStatus).toBe(S.RUNNING);

    await c.raiseOrchestrationEvent(id, "go", "done");
    expect(JSON.parse((await completed(c, id)).serializedOutput!)).toEqual({ got: "done" });
  });

  test("a pending instance (no worker for its hub yet) also blocks its id", async () => {
    const idle = client(dts.address, "reuse-idle");
    clients.push(idle);
    const id = await idle.scheduleNewOrchestration("Echo", 1, "r-pending");
    expect((await idle.getOrchestrationState(id))?.runtimeStatus).toBe(S.PENDING);
    expect((await grpcCode(idle.scheduleNewOrchestration("Echo", 2, id))).code).toBe(6);
  });

  test("starting an id that completed replaces it", async () => {
    const id = await c.scheduleNewOrchestration("Echo", "old", "r-done");
    const first = await completed(c, id);
    expect(first.serializedOutput).toBe('"old"');

    expect(await c.scheduleNewOrchestration("Echo", "new", id)).toBe(id);
    const second = await completed(c, id);
    expect(second.serializedInput).toBe('"new"');
    expect(second.serializedOutput).toBe('"new"');
    expect(second.createdAt.getTime()).toBeGreaterThanOrEqual(first.createdAt.getTime());
    // Only the new execution's history is kept.
    const history = await c.getOrchestrationHistory(id);
    expect(history.filter((e) => e.type === HistoryEventType.ExecutionStarted).length).toBe(1);

    // A failed instance can be replaced too, by a different orchestration.
    const failedId = await c.scheduleNewOrchestration("Fail", null, "r-failed");
    expect((await completed(c, failedId)).runtimeStatus).toBe(S.FAILED);
    await c.scheduleNewOrchestration("Echo", "fixed", failedId);
    const fixed = await completed(c, failedId);
    expect(fixed.runtimeStatus).toBe(S.COMPLETED);
    expect(fixed.name).toBe("Echo");
    expect(fixed.failureDetails).toBeUndefined();
  });
});
