// `dts durable <verb>` end to end: the real `dts serve`, an SDK worker in this process running the
// orchestration fixtures, and the CLI run to completion as a child process for every verb: text and
// --json output, the connection sources, and the exit codes for not found, bad arguments, an
// unreachable scheduler and refusals.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { DtsProcess, deadPort, runCli, tempDir } from "../helpers/dts-process";
import { connectionString } from "../helpers/func-process";
import { pollUntil } from "../helpers/poll";
import { completion, flakyAttempts, json, newId, S, serveWithWorker } from "../e2e/orchestration-fixtures";

let dts: DtsProcess;
let c: TaskHubGrpcClient;

serveWithWorker(["--store", "memory", "--dynamic-hubs"], (s) => ({ dts, c } = s));

/** `dts durable <verb> --connection-string <this scheduler, hub default> ...args`. */
function durable(verb: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runCli(["durable", verb, "--connection-string", connectionString(dts.port), ...args], env);
}

/** The same with --json, expecting exit 0; the parsed output. */
async function durableJson(verb: string, args: string[] = []): Promise<any> {
  const r = await durable(verb, [...args, "--json"]);
  if (r.code !== 0) throw new Error(`dts durable ${verb} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const statusOf = async (id: string) => (await c.getOrchestrationState(id))?.runtimeStatus;

describe("instances", () => {
  test("start-new (input from @file), get-runtime-status and get-history, as text and JSON", async () => {
    const id = newId("seq");
    const file = path.join(tempDir("dts-durable-input-"), "cities.json");
    fs.writeFileSync(file, JSON.stringify(["Tokyo", "Lima"]));
    const started = await durable("start-new", ["--function-name", "Sequence", "--id", id, "--input", `@${file}`]);
    expect(started).toMatchObject({ code: 0, stdout: `Started 'Sequence' as instance '${id}' in task hub 'default'.\n` });
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);

    const status = await durableJson("get-runtime-status", ["--id", id, "--show-input", "--show-output"]);
    expect(status).toEqual({
      name: "Sequence", instanceId: id, runtimeStatus: "Completed", input: ["Tokyo", "Lima"], customStatus: null,
      output: ["Hello, Tokyo!", "Hello, Lima!"], createdTime: expect.stringMatching(/Z$/), lastUpdatedTime: expect.stringMatching(/Z$/),
    });
    // Without --show-input/--show-output the payloads are left out (null), the fields stay.
    expect(await durableJson("get-runtime-status", ["--id", id])).toMatchObject({ input: null, output: null, runtimeStatus: "Completed" });
    const text = await durable("get-runtime-status", ["--id", id, "--show-output"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Instance ID:\s+/m);
    expect(text.stdout).toMatch(/^Runtime status:\s+Completed$/m);
    expect(text.stdout).toMatch(/^Output:\s+\["Hello, Tokyo!","Hello, Lima!"\]$/m);
    expect(text.stdout).not.toMatch(/^Input:/m);

    const history = await durableJson("get-history", ["--id", id]);
    expect(history.map((e: any) => e.EventType)).toEqual(["ExecutionStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]);
    expect(history[1]).toMatchObject({ FunctionName: "Hello", Result: "Hello, Tokyo!" });
    expect(history[3]).toMatchObject({ OrchestrationStatus: "Completed", Result: ["Hello, Tokyo!", "Hello, Lima!"] });
    const table = await durable("get-history", ["--id", id]);
    expect(table.stdout).toMatch(/^EVENT ID\s+EVENT TYPE\s+TIMESTAMP\s+DETAILS$/m);
    expect(table.stdout).toMatch(/TaskCompleted\s+\S+\s+FunctionName=Hello Result=Hello, Lima!$/m);
  });

  test("raise-event delivers JSON event data to a waiting instance", async () => {
    const { instanceId: id } = await durableJson("start-new", ["--function-name", "WaitEvent", "--input", '"Approval"']);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await c.waitForOrchestrationStart(id, false, 30);
    const r = await durable("raise-event", ["--id", id, "--event-name", "Approval", "--event-data", '{"approved":true}']);
    expect(r).toMatchObject({ code: 0, stdout: `Raised event 'Approval' on instance '${id}'.\n` });
    const s = await completion(c, id);
    expect(json(s.serializedOutput)).toEqual({ approved: true });
  });

  test("suspend, resume and terminate (with a reason)", async () => {
    const id = newId("wait");
    await c.scheduleNewOrchestration("WaitForever", undefined, id);
    await c.waitForOrchestrationStart(id, false, 30);
    expect(await durableJson("suspend", ["--id", id, "--reason", "pause"])).toEqual({ instanceId: id, taskHub: "default", result: "suspend requested" });
    await pollUntil(() => statusOf(id), (st) => st === S.SUSPENDED, "the instance to be suspended");
    expect((await durable("resume", ["--id", id])).code).toBe(0);
    await pollUntil(() => statusOf(id), (st) => st === S.RUNNING, "the instance to resume");
    // Its id is taken while it runs.
    const taken = await durable("start-new", ["--function-name", "WaitForever", "--id", id]);
    expect(taken.code).toBe(5);
    expect(taken.stderr).toMatch(/ALREADY_EXISTS: An orchestration with instance id '.*' already exists/);
    const t = await durable("terminate", ["--id", id, "--reason", "done here"]);
    expect(t).toMatchObject({ code: 0, stdout: `Instance '${id}': termination requested.\n` });
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.TERMINATED);
    expect(json(s.serializedOutput)).toBe("done here");
    // A finished instance cannot be terminated again: the scheduler refuses (5), saying why.
    const again = await durable("terminate", ["--id", id]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/^dts durable terminate: FAILED_PRECONDITION: /);
  });

  test("rewind reruns what failed; rewinding a completed instance is refused", async () => {
    const id = newId("rewind");
    await c.scheduleNewOrchestration("Rewindable", id, id);
    expect((await completion(c, id)).runtimeStatus).toBe(S.FAILED);
    expect((await durableJson("get-runtime-status", ["--id", id, "--show-output"])).output).toMatch(/transient failure/);
    expect((await durable("rewind", ["--id", id, "--reason", "try again"])).code).toBe(0);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(flakyAttempts.get(id)).toBe(2);
    const refused = await durable("rewind", ["--id", id]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/only Failed instances can be rewound/);
  });

  test("restart under a new id (the default) and under its own", async () => {
    const id = newId("restart");
    await c.scheduleNewOrchestration("Echo", { n: 1 }, id);
    await completion(c, id);
    const fresh = await durableJson("restart", ["--id", id]);
    expect(fresh.restartedFrom).toBe(id);
    expect(fresh.instanceId).not.toBe(id);
    expect(json((await completion(c, fresh.instanceId)).serializedOutput)).toEqual({ n: 1 });
    const same = await durableJson("restart", ["--id", id, "--restart-with-new-id", "false"]);
    expect(same).toEqual({ instanceId: id, restartedFrom: id, taskHub: "default" });
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
  });
});

describe("listing and purging", () => {
  const hub = "listing";
  const conn = () => connectionString(dts.port, hub);
  const run = (verb: string, args: string[]) => runCli(["durable", verb, "--connection-string", conn(), ...args]);
  const runJson = async (verb: string, args: string[]) => {
    const r = await run(verb, [...args, "--json"]);
    if (r.code !== 0) throw new Error(`dts durable ${verb} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  test("get-instances filters by time and status and pages; purge-history by id and by filter", async () => {
    // A hub of its own (dynamic), with no worker: instances stay Pending unless terminated.
    const before = new Date(Date.now() - 1000).toISOString();
    const ids = ["p-1", "p-2", "p-3"];
    for (const id of ids) expect((await run("start-new", ["--function-name", "Anything", "--id", id, "--input", "7"])).code).toBe(0);
    for (const id of ids.slice(0, 2)) expect((await run("terminate", ["--id", id])).code).toBe(0);

    const all = await runJson("get-instances", ["--created-after", before, "--show-input"]);
    expect(all.taskHub).toBe(hub);
    expect(all.instances.map((i: any) => i.instanceId).sort()).toEqual(ids);
    expect(all.instances[0]).toMatchObject({ name: "Anything", input: 7 });
    expect(all.continuationToken).toBeNull();
    const terminated = await runJson("get-instances", ["--runtime-status", "terminated", "--top", "1"]);
    expect(terminated.instances).toHaveLength(1);
    expect(terminated.instances[0].runtimeStatus).toBe("Terminated");
    expect(terminated.continuationToken).toEqual(expect.any(String));
    const next = await runJson("get-instances", ["--runtime-status", "Terminated", "--top", "1", "--continuation-token", terminated.continuationToken]);
    expect(next.instances.map((i: any) => i.instanceId)).toEqual(ids.slice(0, 2).filter((id) => id !== terminated.instances[0].instanceId));
    expect((await runJson("get-instances", ["--created-before", "2000-01-01T00:00:00Z"])).instances).toEqual([]);
    const table = await run("get-instances", ["--runtime-status", "Pending,Terminated"]);
    expect(table.stdout).toMatch(/^INSTANCE ID\s+NAME\s+STATUS\s+CREATED\s+LAST UPDATED$/m);
    expect(table.stdout).toMatch(/^p-3\s+Anything\s+Pending\s+/m);

    // By id: a running instance is refused, an unknown one is not found.
    expect((await run("purge-history", ["--id", "p-3"])).code).toBe(5);
    expect((await run("purge-history", ["--id", "nobody"])).code).toBe(3);
    expect(await runJson("purge-history", ["--id", "p-1"])).toEqual({ taskHub: hub, instancesDeleted: 1 });
    // By filter: the remaining terminated instance; the pending one stays.
    const bad = await run("purge-history", ["--runtime-status", "Pending"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/only finished instances/);
    expect(await runJson("purge-history", ["--created-after", before, "--runtime-status", "Terminated"])).toEqual({ taskHub: hub, instancesDeleted: 1 });
    expect((await runJson("get-instances", [])).instances.map((i: any) => i.instanceId)).toEqual(["p-3"]);
    expect((await run("purge-history", ["--created-after", before])).stdout).toBe(`Purged 0 instance(s) from task hub '${hub}'.\n`);
  });

  test("delete-task-hub removes a dynamic hub and everything in it", async () => {
    const scratch = ["--task-hub-name", "scratch"];
    const keep = ["--task-hub-name", "keep"];
    expect((await run("start-new", [...scratch, "--function-name", "Anything", "--id", "s-1"])).code).toBe(0);
    expect((await run("start-new", [...keep, "--function-name", "Anything", "--id", "k-1"])).code).toBe(0);
    expect((await run("get-runtime-status", [...scratch, "--id", "s-1"])).code).toBe(0);
    const del = await run("delete-task-hub", scratch);
    expect(del).toMatchObject({ code: 0, stdout: "Deleted task hub 'scratch'.\n" });
    // The scheduler makes dynamic hubs again on use: empty now.
    expect((await run("get-runtime-status", [...scratch, "--id", "s-1"])).code).toBe(3);
    // Other hubs are not touched.
    expect((await runJson("get-instances", keep)).instances.map((i: any) => i.instanceId)).toEqual(["k-1"]);
  });
});

describe("connection sources", () => {
  test("the environment variable, --connection-string-setting, and an app's settings (--app)", async () => {
    const id = newId("conn");
    await c.scheduleNewOrchestration("Echo", 1, id);
    await completion(c, id);
    const own = { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) };
    expect((await runCli(["durable", "get-runtime-status", "--id", id], own)).code).toBe(0);
    const named = await runCli(["durable", "get-runtime-status", "--id", id, "--connection-string-setting", "MY_DTS"], { MY_DTS: connectionString(dts.port, "elsewhere") });
    expect(named.code).toBe(3); // the hub in that string has no such instance
    expect(named.stderr).toMatch(/no instance .* in task hub 'elsewhere'/);
    expect((await runCli(["durable", "get-runtime-status", "--id", id, "--connection-string-setting", "MY_DTS", "--task-hub-name", "default"], { MY_DTS: connectionString(dts.port, "elsewhere") })).code).toBe(0);

    const app = tempDir("dts-durable-app-");
    fs.writeFileSync(path.join(app, "host.json"), JSON.stringify({ version: "2.0", extensions: { durableTask: { hubName: "%TASKHUB_NAME%", storageProvider: { type: "azureManaged", connectionStringName: "DTS" } } } }));
    fs.writeFileSync(path.join(app, "local.settings.json"), JSON.stringify({ IsEncrypted: false, Values: { DTS: `Endpoint=http://localhost:${dts.port};Authentication=None`, TASKHUB_NAME: "default" } }));
    const viaApp = await runCli(["durable", "get-runtime-status", "--id", id, "--app", app, "--json"], { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: "" });
    expect(viaApp.code).toBe(0);
    expect(JSON.parse(viaApp.stdout).instanceId).toBe(id);
  });
});

describe("errors and exit codes", () => {
  test("an unknown instance is not found (3) for reads and operations", async () => {
    const nobody = newId("nobody");
    const results = await Promise.all([
      durable("get-runtime-status", ["--id", nobody]),
      durable("get-history", ["--id", nobody]),
      durable("raise-event", ["--id", nobody, "--event-name", "x"]),
      durable("terminate", ["--id", nobody, "--json"]),
    ]);
    for (const r of results) {
      expect(r.code).toBe(3);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(nobody);
    }
  });

  test("bad arguments exit 2 naming what to fix, before anything is sent", async () => {
    const cases: [string[], RegExp][] = [
      [["durable", "frobnicate"], /unknown verb 'frobnicate'; verbs: start-new, /],
      [["durable", "get-instances", "--bogus"], /Unknown option '--bogus'/],
      [["durable", "get-runtime-status"], /--id is required/],
      [["durable", "start-new", "--id", "x"], /--function-name is required/],
      [["durable", "start-new", "--function-name", "F", "--input", "{oops"], /--input is not valid JSON.*a string needs quotes/],
      [["durable", "start-new", "--function-name", "F", "--input", "@/no/such/file.json"], /cannot read \/no\/such\/file.json: ENOENT/],
      [["durable", "raise-event", "--id", "x", "--event-name", "e", "--event-data", "not json"], /--event-data is not valid JSON/],
      [["durable", "get-instances", "--top", "0"], /--top must be a whole number >= 1/],
      [["durable", "get-instances", "--runtime-status", "Sleeping"], /--runtime-status: runtimeStatus 'Sleeping' is not one of/],
      [["durable", "get-instances", "--created-after", "yesterday"], /--created-after must be a date and time/],
      [["durable", "purge-history", "--id", "x", "--runtime-status", "Completed"], /--id purges one instance/],
      [["durable", "restart", "--id", "x", "--restart-with-new-id", "maybe"], /must be true or false/],
      [["durable", "get-instances", "--connection-string", "Endpoint=http://localhost:1;TaskHub=x"], /has no Authentication/],
    ];
    const withScheduler = (args: string[]) => (args.includes("--connection-string") || args[1] === "frobnicate" ? args : [...args, "--connection-string", connectionString(dts.port)]);
    const results = await Promise.all(cases.map(([args]) => runCli(withScheduler(args))));
    results.forEach((r, i) => {
      expect({ args: cases[i][0], code: r.code }).toEqual({ args: cases[i][0], code: 2 });
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stdout).toBe("");
    });
    const none = await runCli(["durable", "get-instances"], { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: "" });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no scheduler given: pass --connection-string/);
    // Nothing was started by the refused start-new calls.
    expect(await c.getOrchestrationState("x")).toBeUndefined();
  });

  test("an unreachable scheduler exits 4 and names the endpoint", async () => {
    const port = await deadPort();
    const r = await runCli(["durable", "get-instances", "--connection-string", connectionString(port)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`the scheduler at http://localhost:${port} did not answer \\(UNAVAILABLE: .*check that it is running`));
  });

  test("a scheduler that accepts connections but never answers exits 4 after --timeout", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const r = await runCli(["durable", "get-instances", "--timeout", "1", "--connection-string", connectionString(port)]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/did not answer \(DEADLINE_EXCEEDED: /);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("a connection string needing a token goes through the provider's credentials: none to be had is a refusal (5)", async () => {
    const noIdentity = { AZURE_TENANT_ID: "", AZURE_CLIENT_ID: "", AZURE_CLIENT_SECRET: "" };
    const r = await runCli(["durable", "get-instances", "--connection-string", `Endpoint=http://localhost:${dts.port};TaskHub=default;Authentication=Environment`], noIdentity);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/Could not get a token for https:\/\/durabletask.io\/.default: EnvironmentCredential is unavailable.*check Authentication=/);
  });

  test("help: dts durable --help and dts durable <verb> --help print usage and exit 0", async () => {
    const top = await runCli(["durable", "--help"]);
    expect(top.code).toBe(0);
    for (const verb of ["start-new", "get-runtime-status", "get-history", "get-instances", "raise-event", "terminate", "suspend", "resume", "rewind", "restart", "purge-history", "delete-task-hub"]) {
      expect(top.stdout).toContain(`  ${verb} `);
    }
    expect(top.stdout).toMatch(/Exit codes: 0 done; 2 bad arguments; 3 .*not found; 4 scheduler unreachable/);
    const verb = await runCli(["durable", "get-instances", "--help"]);
    expect(verb.code).toBe(0);
    expect(verb.stdout).toMatch(/^Usage: dts durable get-instances/);
    expect(verb.stdout).toContain("--continuation-token");
    const dts = await runCli(["--help"]);
    expect(dts.stdout).toContain("durable");
  });
});
