// End-to-end: orchestration versions with the official SDK. The version given at start (or the
// client's defaultVersion) is stored, returned by GetInstance, and selects instances on the
// dashboard's list and in its JSON API; a sub-orchestration started without a version runs its
// parent's, one started with a version runs that one.
import { OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker, NoOpLogger } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { completed, hubMetadata, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */
let dts: DtsProcess;
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const hub = "versions";

beforeAll(async () => {
  dts = await startDts(["--store", "sqlite", "--dynamic-hubs"]);
  const w = worker(dts.address, hub);
  workers.push(w);
  w.addNamedOrchestrator("Parent", async function* (ctx: OrchestrationContext, childVersion?: string): AsyncGenerator<Task<any>, any, any> {
    const child = yield ctx.callSubOrchestrator("Child", undefined, { instanceId: `${ctx.instanceId}-child`, ...(childVersion ? { version: childVersion } : {}) });
    return { parent: ctx.version, child };
  });
  w.addNamedOrchestrator("Child", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    return ctx.version;
  });
  await w.start();
});

afterAll(() => stopAll({ workers, clients, servers: [dts] }));

function sdkClient(defaultVersion?: string): TaskHubGrpcClient {
  const c = new TaskHubGrpcClient({ hostAddress: dts.address, logger: new NoOpLogger(), metadataGenerator: hubMetadata(hub), defaultVersion });
  clients.push(c);
  return c;
}

async function queryJson(filter: object): Promise<any> {
  const res = await fetch(`http://localhost:${dts.dashboardPort}/v1/taskhubs/orchestrations/query`, {
    method: "POST", headers: { "x-taskhub": hub, "content-type": "application/json" }, body: JSON.stringify({ filter }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

test("versions are stored, inherited by sub-orchestrations unless set, and selectable on the dashboard and its JSON API", async () => {
  const c = sdkClient();
  const inherit = await c.scheduleNewOrchestration("Parent", undefined, { instanceId: "inherit", version: "2.0" });
  const own = await c.scheduleNewOrchestration("Parent", "3.1", { instanceId: "own", version: "2.0" });
  const byDefault = await sdkClient("1.5").scheduleNewOrchestration("Parent", undefined, { instanceId: "default" });
  const plain = await c.scheduleNewOrchestration("Parent", undefined, { instanceId: "plain" });
  const out = async (id: string) => {
    const s = await completed(c, id);
    expect(s.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    return JSON.parse(s.serializedOutput!);
  };
  expect(await out(inherit)).toEqual({ parent: "2.0", child: "2.0" });
  expect(await out(own)).toEqual({ parent: "2.0", child: "3.1" });
  expect(await out(byDefault)).toEqual({ parent: "1.5", child: "1.5" });
  expect(await out(plain)).toEqual({ parent: "", child: "" });

  // The JSON API lists each instance's version and filters by it.
  const v2 = await queryJson({ version: "2.0" });
  expect(v2.orchestrations.map((o: any) => o.instanceId).sort()).toEqual(["inherit", "inherit-child", "own"]);
  expect(v2.orchestrations.every((o: any) => o.version === "2.0")).toBe(true);
  expect((await queryJson({ version: "3.1" })).orchestrations.map((o: any) => o.instanceId)).toEqual(["own-child"]);

  // The dashboard's list has a version column and an exact version filter.
  const page = await (await fetch(`http://localhost:${dts.dashboardPort}/hubs/${hub}/orchestrations?version=1.5&sub=1`)).text();
  const listed = [...page.matchAll(/<td class="id"><a [^>]*>([^<]+)<\/a><\/td>\s*<td>[^<]*(?:<span[^>]*>\(sub\)<\/span>)?<\/td>\s*<td class="mono">([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
  expect(listed.sort()).toEqual([["default", "1.5"], ["default-child", "1.5"]]);
  expect(page).toContain('name="version" value="1.5"');
});
