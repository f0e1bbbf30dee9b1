// dts serve's logs: JSON lines with level, hub, instanceId and workItem (--log-format json), filtered by
// level (--log-level, DTS_LOG_LEVEL), the text start-up lines unchanged by default, and bad values
// refused with exit code 2 and a message naming the flag.
import { TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { CliProcess, runCli, spawnCli, tempDir } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { addSampleWork, client, completed, worker } from "../helpers/sdk";
import { startDurableWorker } from "../../src/provider/durable-worker";
import { providerConfig, TestApp } from "../provider/harness";

/* eslint-disable @typescript-eslint/no-explicit-any */

interface Line {
  time: string;
  level: string;
  msg: string;
  hub?: string;
  instanceId?: string;
  workItem?: string;
  at?: number;
  durationMs?: number;
}

const started: CliProcess[] = [];
const sdk: (TaskHubGrpcClient | TaskHubGrpcWorker)[] = [];

afterAll(async () => {
  for (const s of sdk) await s.stop();
  for (const p of started) await p.stop();
});

/** dts serve with these flags and environment; resolves once gRPC listens (in either format). */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  const p = await spawnCli(["serve", "--port", "0", "--store", "memory", "--data", tempDir(), "--no-dashboard", ...args], /gRPC listening on [^:]+:(\d+)/, { env });
  started.push(p);
  return p;
}

/** Runs one orchestration with an activity on the server and returns its instance id. */
async function runOne(port: number): Promise<string> {
  const c = client(`localhost:${port}`);
  const w = worker(`localhost:${port}`);
  sdk.push(w, c);
  addSampleWork(w);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  w.addOrchestrator(async function* hello(ctx: any): any {
    return yield ctx.callActivity("sayHello", "Oslo");
  });
  await w.start();
  const id = await c.scheduleNewOrchestration("hello");
  await completed(c, id);
  return id;
}

const lines = (p: CliProcess) => p.output().split("\n").filter((l) => l.trim() !== "");

test("--log-format json: every line is a JSON object; at debug level each work item's lines name its hub, instance and work item", async () => {
  const p = await serve(["--log-format", "json", "--log-level", "debug"]);
  const id = await runOne(p.port);
  const mine = (l: Line[]) => l.filter((x) => x.instanceId === id);
  const parsed = await pollUntil(async () => lines(p).map((l) => JSON.parse(l) as Line),
    (l) => mine(l).some((x) => x.msg.startsWith("orchestration work item completed")) && mine(l).some((x) => x.msg.startsWith("orchestration 'hello' execution ended")),
    "the instance's work-item lines");

  const listening = parsed.find((l) => l.msg.startsWith("gRPC listening on"))!;
  expect(listening.level).toBe("information");
  expect(Number.isNaN(Date.parse(listening.time))).toBe(false);
  const own = mine(parsed);
  expect(own.every((l) => l.level === "debug" && l.hub === "default")).toBe(true);
  const activity = own.find((l) => l.msg.startsWith("activity work item dispatched"))!;
  expect(activity.msg).toContain("activity 'sayHello'");
  expect(typeof activity.workItem).toBe("string");
  // Its completion line names the same work item.
  expect(own.some((l) => l.msg === "activity work item completed" && l.workItem === activity.workItem)).toBe(true);
  // Work item lines carry `at`, epoch milliseconds finer than `time`, for lining steps up with a worker's own clock.
  expect(Math.abs(activity.at! - Date.parse(activity.time))).toBeLessThan(1000);
  // Each group commit has a line of its own, with its duration.
  expect(parsed.some((l) => l.msg.startsWith("group commit written") && typeof l.durationMs === "number")).toBe(true);
});

test("by default: text lines as before, and no debug lines; DTS_LOG_FORMAT=json without debug has none either", async () => {
  const text = await serve([]);
  await runOne(text.port);
  expect(lines(text)[0]).toMatch(/^dts: gRPC listening on localhost:\d+ \(TaskHubSidecarService, BackendService; plaintext\)$/);
  expect(text.output()).not.toContain("work item");

  const json = await serve([], { DTS_LOG_FORMAT: "json", DTS_LOG_LEVEL: "info" });
  const id = await runOne(json.port);
  const parsed = lines(json).map((l) => JSON.parse(l) as Line);
  expect(parsed.some((l) => l.msg.startsWith("gRPC listening on"))).toBe(true);
  expect(parsed.some((l) => l.level === "debug" || l.instanceId === id)).toBe(false);
});

test("a bad --log-format or --log-level: exit code 2 and a message naming the flag and the choices", async () => {
  const format = await runCli(["serve", "--log-format", "xml"]);
  expect(format.code).toBe(2);
  expect(format.stderr.trim()).toBe("dts: --log-format must be text or json, got 'xml'");
  const level = await runCli(["serve", "--store", "memory"], { DTS_LOG_LEVEL: "loud" });
  expect(level.code).toBe(2);
  expect(level.stderr).toContain("--log-level must be one of trace, debug, information, warning, error, critical, none, got 'loud'");
});

test("at debug level, each activity a Functions host ran inline is a line of its instance", async () => {
  const p = await serve(["--log-format", "json", "--log-level", "debug"]);
  const app = new TestApp()
    .orchestration("greet", function* (ctx: any) {
      return yield ctx.df.callActivity("sayHello", "Oslo");
    })
    .activity("sayHello", (city: string) => `Hello, ${city}!`);
  const host = await startDurableWorker(app, providerConfig(`localhost:${p.port}`), { log: () => undefined });
  const c = client(`localhost:${p.port}`);
  sdk.push(c);
  try {
    const id = await c.scheduleNewOrchestration("greet");
    await completed(c, id);
    const parsed = await pollUntil(async () => lines(p).map((l) => JSON.parse(l) as Line), (l) => l.some((x) => x.instanceId === id && x.msg.includes("ran inline")), "the inline activity's line");
    const line = parsed.find((x) => x.instanceId === id && x.msg.includes("ran inline"))!;
    expect(line).toMatchObject({ level: "debug", hub: "default", msg: "activity 'sayHello', task 0, ran inline with its orchestrator's episode: completed" });
    expect(parsed.some((x) => x.instanceId === id && x.msg.startsWith("activity work item dispatched"))).toBe(false);
  } finally {
    await host.stop();
  }
});
