// Integration: the provider's worker survives a scheduler restart. The scheduler (SQLite, so state
// survives) is stopped while an orchestration waits for an event, started again on the same port,
// and the worker's GetWorkItems stream reconnects by itself and finishes the work.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { OrchestrationStatus } from "@microsoft/durabletask-js";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { untilTrue } from "../helpers/poll";
import { client, completed } from "../helpers/sdk";

const S = OrchestrationStatus;
const APP_DIR = path.resolve(__dirname, "../../../test/provider/fixtures/durable-app");
const dataDir = tempDir();
let dts: DtsProcess;
let worker: ChildProcess;
let output = "";

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.on("exit", resolve));
    worker.kill("SIGTERM");
    await exited;
  }
  await dts?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A failed wait shows what the worker printed. */
async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  try {
    await untilTrue(probe, what, 30_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- worker output ---\n${output}`);
  }
}

test("the worker reconnects after the scheduler restarts and finishes what was in flight", async () => {
  dts = await startDts(["--store", "sqlite"], { dataDir });
  const port = dts.port;
  worker = spawn(process.execPath, [path.join(__dirname, "fixtures/run-worker.js"), APP_DIR], {
    env: { ...process.env, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=http://localhost:${port};TaskHub=default;Authentication=None`, TASKHUB_NAME: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  worker.stdout!.on("data", (b: Buffer) => (output += b.toString()));
  worker.stderr!.on("data", (b: Buffer) => (output += b.toString()));
  await until(() => output.includes("worker ready"), "the worker");

  let c = client(dts.address);
  const id = await c.scheduleNewOrchestration("Approval");
  await until(async () => (await c.getOrchestrationState(id, true))?.serializedCustomStatus === '"waiting for approval"', "the orchestration to wait");
  await c.stop();

  await dts.stop();
  await until(() => /work item stream lost/.test(output), "the worker to notice");
  // The same port and data: a restarted scheduler (the later --port wins over startDts' --port 0).
  dts = await startDts(["--store", "sqlite", "--port", String(port)], { dataDir });
  c = client(dts.address);
  await c.raiseOrchestrationEvent(id, "Approve", { by: "after restart" });
  const s = await completed(c, id, 45);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(JSON.parse(s.serializedOutput!)).toEqual({ approvedBy: "after restart" });
  const fresh = await c.scheduleNewOrchestration("Sequence", ["X"]);
  expect(JSON.parse((await completed(c, fresh, 45)).serializedOutput!)).toEqual(["Hello, X!"]);
  await c.stop();
  expect(output).toMatch(/work item stream lost \(.+\); reconnecting in 1 s/);
});
