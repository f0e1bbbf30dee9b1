// The project as its users get it: `npm pack`, then `npm install <tgz>` into a new project (runtime
// dependencies only, better-sqlite3's install script included), then the installed `dts` run from a
// directory unrelated to the repository, with the official SDK as client and worker.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { ActivityContext, OrchestrationContext, OrchestrationStatus, Task, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { client, completed, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../.."); // dist/test/package -> the repository
const tmp = tempDir("dts-package-");
const project = path.join(tmp, "project");
const elsewhere = path.join(tmp, "elsewhere");
const installed = path.join(project, "node_modules");
const dts = path.join(installed, ".bin", "dts");

let packed: string[] = [];
const servers: DtsProcess[] = [];
const workers: TaskHubGrpcWorker[] = [];
const clients: TaskHubGrpcClient[] = [];

/**
 * A new project to install into. better-sqlite3's install script (prebuild-install, else node-gyp) downloads a prebuilt binary from
 * GitHub, which this machine cannot reach, and compiling SQLite instead takes minutes on two cores.
 * So the script is offered the binary the repository's own install built, as a prebuild-install
 * "local prebuild" (named by a .prebuild-installrc in the project): the script still runs, as it does
 * for a user, without the download.
 */
async function createProject(): Promise<void> {
  fs.mkdirSync(project);
  const dir = path.join(tmp, "prebuilds");
  fs.mkdirSync(dir);
  const pkgDir = path.dirname(require.resolve("better-sqlite3/package.json"));
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  // prebuild-install's file name (no libc part on glibc Linux, macOS, Windows); any other name only
  // means it compiles, slowly. The project pins better-sqlite3 to this version so the name matches.
  const file = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await run("tar", ["-czf", path.join(dir, file), "-C", pkgDir, "build/Release/better_sqlite3.node"]);
  fs.writeFileSync(path.join(project, ".prebuild-installrc"), `local-prebuilds=${dir}\n`);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, overrides: { "better-sqlite3": version } }));
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, "dist/src/cli.js"))) throw new Error("run `npm run build` first");
  // The suite runs on a fresh build, so prepack's own build is skipped (it would take half a minute).
  const pack = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], { cwd: ROOT });
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  packed = info.files.map((f) => f.path);

  fs.mkdirSync(elsewhere);
  await createProject();
  await run("npm", ["install", path.join(tmp, info.filename), "--no-audit", "--no-fund", "--prefer-offline"], { cwd: project });
}, 150_000);

afterAll(async () => {
  await stopAll({ workers, clients, servers });
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("the tarball holds the compiled CLI and scale monitor, the generated codecs and the .proto files; no sources or tests", () => {
  for (const f of [
    "package.json", "README.md", "dist/src/cli.js", "dist/src/store/sqlite-writer.js", "dist/src/proto/gen/codec.js", "dist/scale/cli.js",
    "dist/scale/gen/codec.js", "src/proto/orchestrator_service.proto", "src/proto/backend_service.proto", "scale/externalscaler.proto",
  ]) expect(packed).toContain(f);
  expect(packed.filter((f) => /^(dist\/)?test\/|\.ts$|\.map$|build-codec\.js$/.test(f))).toEqual([]);
});

test("npm install brings the runtime dependencies only, and better-sqlite3's install script runs", () => {
  expect(JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")).dependencies["durable-task-scheduler"]).toMatch(/\.tgz$/);
  for (const dep of ["durable-task-scheduler", "@grpc/grpc-js", "better-sqlite3", "protobufjs", "@azure/identity"]) {
    expect(fs.existsSync(path.join(installed, dep, "package.json"))).toBe(true);
  }
  for (const dev of ["typescript", "jest", "@microsoft/durabletask-js", "protobufjs-cli", "durable-functions", "@azure/functions"]) {
    expect(fs.existsSync(path.join(installed, dev))).toBe(false);
  }
  expect(fs.existsSync(path.join(installed, "better-sqlite3/build/Release/better_sqlite3.node"))).toBe(true);
});

test("the dts bin is an executable node script", () => {
  const target = fs.realpathSync(dts);
  expect(target).toBe(path.join(installed, "durable-task-scheduler/dist/src/cli.js"));
  expect(fs.readFileSync(target, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  expect(fs.statSync(target).mode & 0o111).not.toBe(0);
});

test("every verb of the installed dts prints its help", async () => {
  const verbs: [string[], RegExp][] = [
    [["--help"], /^Usage: dts <command>/], [["serve", "--help"], /^Usage: dts serve/], [["func", "--help"], /^Usage: dts func start/],
    [["func", "start", "--help"], /^Usage: dts func start/], [["start", "--help"], /^Usage: dts start/], [["scale", "--help"], /^Usage: dts scale/],
    [["scale", "status", "--help"], /^Usage: dts scale/], [["scale", "keda", "--help"], /^Usage: dts scale/],
  ];
  const outputs = await Promise.all(verbs.map(([args]) => run(dts, args, { cwd: elsewhere })));
  outputs.forEach(({ stdout }, i) => expect(stdout).toMatch(verbs[i][1]));
});

test("dts start outside a function app says what to do", async () => {
  const err = await run(dts, ["start", "--store", "memory", "--port", "0"], { cwd: elsewhere }).then(() => undefined, (e) => e);
  expect(err?.code).toBe(2);
  expect(err?.stderr).toMatch(/is not a function app \(no host\.json\).*--app <dir>.*dts serve/);
});

test("the installed dts serve, started outside the repository, runs an orchestration for the SDK and answers dts scale status", async () => {
  const server = await startDts([], { cli: dts, cwd: elsewhere, dataDir: path.join(tmp, "data") });
  servers.push(server);
  const w = worker(server.address);
  const c = client(server.address);
  workers.push(w);
  clients.push(c);
  w.addNamedActivity("Greet", (_ctx: ActivityContext, name: string) => `Hello, ${name}!`);
  w.addNamedOrchestrator("Hello", async function* (ctx: OrchestrationContext): AsyncGenerator<Task<any>, any, any> {
    return [yield ctx.callActivity("Greet", "Tokyo"), yield ctx.callActivity("Greet", "Seattle")];
  });
  await w.start();
  const id = await c.scheduleNewOrchestration("Hello");
  const state = await completed(c, id);
  expect(state.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  expect(JSON.parse(state.serializedOutput!)).toEqual(["Hello, Tokyo!", "Hello, Seattle!"]);
  expect(fs.existsSync(path.join(tmp, "data", "dts.sqlite"))).toBe(true);
  // The scale monitor (its own codec) reads the same server.
  const scale = await run(dts, ["scale", "status", "--json", "--connection-string", `Endpoint=http://${server.address};TaskHub=default;Authentication=None`], { cwd: elsewhere });
  expect(JSON.parse(scale.stdout)).toMatchObject({ state: "ok", taskHub: "default" });
  await w.stop();
  workers.length = 0;
  expect(await server.stop()).toBe(0);
});
