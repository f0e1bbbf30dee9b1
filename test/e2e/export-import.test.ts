// Export and import end to end: instances run by the official SDK on one `dts serve` (completed,
// failed, terminated, with a sub-orchestration) are exported with `dts export` (plain and gzipped,
// and resumed with --after), imported with `dts import` into a fresh server, and found there equal
// event by event; conflicts are refused unless told, and bad files are refused with a clear error.
import * as fs from "fs";
import * as path from "path";
import { OrchestrationContext, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, runCli, startDts, tempDir } from "../helpers/dts-process";
import { client, worker } from "../helpers/sdk";
import { encodeEvent } from "../../src/store/encoded-batch";
import { SqliteStore } from "../../src/store";

const dirs: string[] = [];
const servers: DtsProcess[] = [];
let c: TaskHubGrpcClient | undefined;
let w: TaskHubGrpcWorker | undefined;
afterAll(async () => {
  await w?.stop();
  await c?.stop();
  for (const s of servers) await s.stop();
  dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

async function serve(): Promise<DtsProcess> {
  const s = await startDts(["--store", "sqlite"], { dataDir: dir() });
  servers.push(s);
  return s;
}

const cli = (s: DtsProcess, args: string[]) => runCli([...args, "--dashboard-url", `http://localhost:${s.dashboardPort}`]);

/** Every instance of the hub with its record and its history's protobuf bytes, read from the data directory. */
function contents(dataDir: string): Record<string, { instance: unknown; history: string[] }> {
  const store = new SqliteStore(dataDir, { dataDirLock: false });
  try {
    const out: Record<string, { instance: unknown; history: string[] }> = {};
    for (const id of store.findInstanceIds("default", {}, 0)) {
      out[id] = { instance: store.getInstance("default", id), history: store.getHistory("default", id).map((e) => Buffer.from(encodeEvent(e)).toString("base64")) };
    }
    return out;
  } finally {
    store.close();
  }
}

test("export -> import into a fresh server: equal event by event; resumable; conflicts refused unless told", async () => {
  const a = await serve();
  c = client(a.address);
  w = worker(a.address);
  w.addActivity(function sayHello(_ctx, city: string) {
    return `Hello, ${city}!`;
  });
  w.addActivity(function fail() {
    throw new Error("boom");
  });
  w.addOrchestrator(async function* hello(ctx: OrchestrationContext): any {
    const out: string[] = [];
    for (const city of ["Tokyo", "Lima", "Cairo"]) out.push(yield ctx.callActivity("sayHello", city));
    return out;
  });
  w.addOrchestrator(async function* parent(ctx: OrchestrationContext): any {
    return yield ctx.callSubOrchestrator("hello", undefined, { instanceId: "child-of-parent" });
  });
  w.addOrchestrator(async function* failing(ctx: OrchestrationContext): any {
    yield ctx.callActivity("fail");
  });
  w.addOrchestrator(async function* waiting(ctx: OrchestrationContext): any {
    yield ctx.waitForExternalEvent("never");
  });
  await w.start();
  for (let i = 0; i < 12; i++) await c.scheduleNewOrchestration("hello", undefined, `hello-${String(i).padStart(2, "0")}`);
  await c.scheduleNewOrchestration("parent", undefined, "parent");
  await c.scheduleNewOrchestration("failing", undefined, "failing");
  await c.scheduleNewOrchestration("waiting", undefined, "terminated");
  await c.scheduleNewOrchestration("waiting", undefined, "still-running");
  for (const id of [...Array.from({ length: 12 }, (_, i) => `hello-${String(i).padStart(2, "0")}`), "parent", "child-of-parent", "failing"]) await c.waitForOrchestrationCompletion(id, false, 30);
  await c.waitForOrchestrationStart("terminated", false, 30);
  await c.terminateOrchestration("terminated", "stop");
  await c.waitForOrchestrationCompletion("terminated", false, 30);
  await c.waitForOrchestrationStart("still-running", false, 30);

  const out = dir();
  const plain = path.join(out, "all.jsonl");
  let r = await cli(a, ["export", "--to", plain]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/dts export: 17 instance\(s\) from task hub 'default' to .*all.jsonl; last terminated/);
  const lines = fs.readFileSync(plain, "utf8").trim().split("\n").map((l) => JSON.parse(l).instance.instanceId);
  expect(lines).toEqual([...lines].sort());

  // Only finished ones, gzipped, in two parts: the second resumes after the first's last id.
  const gz = path.join(out, "finished.jsonl.gz");
  r = await cli(a, ["export", "--status", "Completed,Failed,Terminated", "--created-to", new Date(Date.now() + 60_000).toISOString(), "--to", gz, "--gzip"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/16 instance\(s\)/);
  const firstPart = path.join(out, "part.jsonl.gz");
  r = await cli(a, ["export", "--status", "Completed,Failed,Terminated", "--to", firstPart, "--gzip", "--created-to", new Date(0).toISOString()]);
  expect(r.stderr).toMatch(/0 instance\(s\)/);
  r = await cli(a, ["export", "--status", "Completed,Failed,Terminated", "--to", firstPart, "--gzip", "--after", "hello-05"]);
  expect(r.stderr).toMatch(/dts export: 8 instance\(s\)/);

  // A running instance is not imported: the plain export (which has one) is refused at its line.
  const b = await serve();
  r = await cli(b, ["import", plain]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/instance 'still-running' is Running; only finished instances .* are imported/)]);

  r = await cli(b, ["import", gz, "--skip-existing"]);
  expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/Imported \d+ instance\(s\) into task hub 'default'/)]);
  await w.stop();
  w = undefined;
  await a.stop();
  await b.stop();
  const source = contents(a.dataDir);
  delete source["still-running"];
  expect(Object.keys(source)).toHaveLength(16);
  expect(contents(b.dataDir)).toEqual(source);

  // Again into the same server: refused (nothing changed), skipped, overwritten.
  const b2 = await startDts(["--store", "sqlite"], { dataDir: b.dataDir });
  servers.push(b2);
  r = await cli(b2, ["import", firstPart]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 409: Instance 'hello-06' already exists in task hub 'default'.*run again with --skip-existing/)]);
  r = await cli(b2, ["import", firstPart, "--skip-existing"]);
  expect(r.stdout).toMatch(/Imported 0 instance\(s\) into task hub 'default', skipped 8 already there/);
  r = await cli(b2, ["import", firstPart, "--overwrite"]);
  expect(r.stdout).toMatch(/Imported 0 instance\(s\) into task hub 'default', overwrote 8/);
  await b2.stop();
  expect(contents(b.dataDir)).toEqual(source);
});

test("bad input: a file that is not an export, a missing file, conflicting flags, an unknown hub", async () => {
  const s = await serve();
  const d = dir();
  const bad = path.join(d, "bad.jsonl");
  fs.writeFileSync(bad, '{"instance": {"instanceId": "x"}, "history": []}\n');
  let r = await cli(s, ["import", bad]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 400: line 1: instance.executionId must be a string/)]);
  const finished = { instanceId: "nul", executionId: "e", name: "n", status: 1, createdAt: 1, lastUpdatedAt: 2, completedAt: 2, output: "\"a\u0000\"" };
  fs.writeFileSync(bad, `${JSON.stringify({ instance: finished, history: [] })}\n`);
  r = await cli(s, ["import", bad]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 400: line 1: instance.output of 'nul' holds the character U\+0000 \(NUL\)/)]);
  fs.writeFileSync(bad, "not json\n");
  r = await cli(s, ["import", bad]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/line 1 is not JSON/)]);
  r = await cli(s, ["import", path.join(d, "missing.jsonl")]);
  expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/missing.jsonl does not exist/)]);
  r = await cli(s, ["import", bad, "--skip-existing", "--overwrite"]);
  expect(r.code).toBe(2);
  r = await cli(s, ["export", "--hub", "nope"]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 404: Task hub 'nope' is not served here/)]);
  r = await cli(s, ["export", "--status", "Bogus"]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/answered 400: Unknown orchestration status "Bogus"/)]);
  r = await cli(s, ["export", "--to", bad]);
  expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/exists: remove it, or pass --after/)]);
});
