// `dts scale status`: the table, --json, limits from an app's host.json, an unreachable scheduler
// (exit 1 with the reason) and usage errors (exit 2).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { connectionString } from "../helpers/func-process";
import { RawClient } from "../helpers/raw";
import { createBacklog, deadPort, runCli } from "./helpers";

let dts: DtsProcess;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--hubs", "default,cli"]);
  const raw = new RawClient(dts.address, "cli", backendDefinition);
  await createBacklog(raw, "c", 7);
  raw.close();
});
afterAll(async () => {
  await dts?.stop();
});

test("a table with each kind, the target and the vote", async () => {
  const r = await runCli(["scale", "status", "--connection-string", connectionString(dts.port, "cli")]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Task hub 'cli' on http:\/\/localhost:\d+ at /);
  expect(r.stdout).toMatch(/^orchestrator\s+7\s+0\s+\d+\s+10\s+1$/m);
  expect(r.stdout).toMatch(/^activity\s+0\s+0\s+0\s+10\s+0$/m);
  expect(r.stdout).toContain("Connected workers: 0");
  expect(r.stdout).toContain("Target workers:    1");
  expect(r.stdout).toMatch(/Vote:\s+ScaleOut \(7 work item\(s\) pending and no worker connected; 1 of 1 samples\)/);
});

test("--json, --task-hub over the connection string's, and limits from --app's host.json", async () => {
  const app = tempDir("dts-scale-app-");
  fs.writeFileSync(path.join(app, "host.json"), JSON.stringify({
    version: "2.0",
    extensions: { durableTask: { hubName: "default", storageProvider: { type: "azureManaged" }, maxConcurrentOrchestratorFunctions: 2 } },
  }));
  const r = await runCli(["scale", "status", "--connection-string", connectionString(dts.port, "default"), "--task-hub", "cli", "--app", app, "--json"]);
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout);
  expect(s).toMatchObject({ taskHub: "cli", state: "ok", limits: { orchestrator: 2, activity: 10 * os.availableParallelism(), entity: 10 * os.availableParallelism() }, targetWorkers: 4, vote: "ScaleOut" });
  // The app alone (its connection string from the environment, its hub from host.json).
  const own = await runCli(["scale", "status", "--app", app, "--json"], { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port, "x") });
  expect(own.code).toBe(0);
  expect(JSON.parse(own.stdout)).toMatchObject({ taskHub: "default", targetWorkers: 0, limits: { orchestrator: 2 } });
});

test("an unreachable scheduler: exit 1, the reason, no numbers", async () => {
  const port = await deadPort();
  const r = await runCli(["scale", "status", "--connection-string", connectionString(port), "--json"]);
  expect(r.code).toBe(1);
  const s = JSON.parse(r.stdout);
  expect(s).toMatchObject({ state: "error", metrics: null, targetWorkers: null, vote: null });
  expect(s.error).toMatch(/UNAVAILABLE/);
  const table = await runCli(["scale", "status", "--connection-string", connectionString(port)]);
  expect(table.code).toBe(1);
  expect(table.stdout).toMatch(/ERROR: GetMetrics from .* failed: UNAVAILABLE/);
});

test("usage errors exit 2 with a message", async () => {
  const none = await runCli(["scale", "status"], { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: "" });
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/no scheduler to watch/);
  const bad = await runCli(["scale", "status", "--connection-string", "Endpoint=http://x"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/Authentication/);
  const verb = await runCli(["scale", "nope"]);
  expect(verb.code).toBe(2);
  const help = await runCli(["scale", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("dts scale keda");
});
