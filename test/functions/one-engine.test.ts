// One engine behind both worlds: an orchestration started by the portable SDK's client is run by the
// Functions host's durable worker (and the reverse is visible to the SDK); a backlog queued before
// any Functions worker connects shows in BackendService's GetMetrics (the scale signal) and drains
// once the host starts; and `dts start` runs scheduler and app together, stopping both on Ctrl-C.
import { pb } from "../../src/proto";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { connectionString, FuncHostProcess, http, pollStatus, REPO_ROOT, spawnHost, startFuncHost } from "../helpers/func-process";
import { RawClient } from "../helpers/raw";
import { client, completed } from "../helpers/sdk";

const GREETINGS = ["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!", "Hello, Cairo!", "Hello, Lima!"];

describe("the scheduler with the sample app's host", () => {
  let dts: DtsProcess;
  let host: FuncHostProcess | undefined;

  beforeAll(async () => {
    dts = await startDts(["--store", "memory", "--hubs", "default,backlog"]);
  });
  afterAll(async () => {
    await host?.stop();
    await dts?.stop();
  });

  test("GetMetrics shows the backlog queued before the Functions worker connects; the host drains it", async () => {
    const backend = new RawClient(dts.address, "backlog", backendDefinition);
    const sdk = client(dts.address, "backlog");
    try {
      const ids = ["bl-1", "bl-2", "bl-3"];
      for (const id of ids) await backend.call("CreateInstance", { instanceId: id, name: "HelloCities" });
      const before = (await backend.call("GetMetrics", {})).metrics;
      expect(before.orchestratorWorkItems.pending).toBe(3);
      expect(before.connectedWorkers?.count ?? 0).toBe(0);

      host = await startFuncHost(REPO_ROOT, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port, "backlog"), TASKHUB_NAME: "backlog" });
      for (const id of ids) {
        const s = await completed(sdk, id);
        expect(JSON.parse(s.serializedOutput ?? "null")).toEqual(GREETINGS);
      }
      const after = (await backend.call("GetMetrics", {})).metrics;
      expect(after.orchestratorWorkItems.pending ?? 0).toBe(0);
      expect(after.activityWorkItems.pending ?? 0).toBe(0);
      expect(after.connectedWorkers.count).toBeGreaterThanOrEqual(1);

      // The host's management API reads the same instances (its hub is 'backlog').
      const viaHttp = await http("GET", `${host.origin}/runtime/webhooks/durabletask/instances/bl-1`);
      expect(viaHttp.body).toMatchObject({ runtimeStatus: "Completed", output: GREETINGS });
    } finally {
      backend.close();
      await sdk.stop();
      expect(await host?.stop()).toBe(0);
      host = undefined;
    }
  });

  test("an orchestration started by the portable SDK client is completed by the Functions worker, and the reverse", async () => {
    host = await startFuncHost(REPO_ROOT, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
    const sdk = client(dts.address);
    try {
      const id = await sdk.scheduleNewOrchestration("HelloCities");
      const state = await completed(sdk, id);
      expect(state.runtimeStatus).toBe(pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED as number);
      expect(JSON.parse(state.serializedOutput ?? "null")).toEqual(GREETINGS);
      // The host logs an episode once the scheduler has answered its completion, which may be after the client saw the end.
      await host.waitForOutput(new RegExp(`orchestrator 'HelloCities' \\(instance '${id}'\\)`));

      // Started through the app's HTTP starter, read through the SDK.
      const started = await http("POST", `${host.origin}/api/orchestrators/FanOutFanIn`, { items: ["one"] });
      await pollStatus(started.body.statusQueryGetUri);
      const viaSdk = await sdk.getOrchestrationState(started.body.id, true);
      expect(JSON.parse(viaSdk?.serializedOutput ?? "null")).toMatchObject({ count: 1, totalLength: 3 });
    } finally {
      await sdk.stop();
    }
  });
});

test("dts start runs the scheduler and the sample app in one process and stops both on SIGINT", async () => {
  const both = await spawnHost(["start", "--port", "0", "--func-port", "0", "--dashboard-port", "0", "--store", "memory", "--app", REPO_ROOT]);
  let code: number | null = null;
  try {
    expect(both.output()).toMatch(/gRPC listening on localhost:\d+/);
    await both.waitForOutput(/Ctrl-C stops both/);
    expect(both.output()).toContain(`Try:        curl -s -X POST ${both.origin}/api/orchestrators/HelloCities`);
    // The dashboard runs in the same process and serves the hub.
    const dashboard = /Dashboard: +(http:\/\/localhost:\d+\/)/.exec(both.output());
    expect(dashboard).not.toBeNull();
    const home = await fetch(dashboard![1]);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('href="/hubs/default/orchestrations"');
    const r = await http("POST", `${both.origin}/api/orchestrators/HelloCities`);
    expect(r.status).toBe(202);
    const done = await pollStatus(r.body.statusQueryGetUri);
    expect(done.body.output).toEqual(GREETINGS);
  } finally {
    code = await both.stop("SIGINT");
  }
  expect(code).toBe(0);
});
