// Integration: the real scheduler (`dts serve --store memory`), a real Durable Functions app
// (test/provider/fixtures/durable-app, written with @azure/functions and durable-functions' df.app.*)
// loaded by the host's loader in its own process, and the provider's worker talking BackendService.
// Orchestrations are started and observed with the portable SDK client, as any other client would.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { OrchestrationStatus, TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil, untilTrue } from "../helpers/poll";
import { client, completed } from "../helpers/sdk";

const S = OrchestrationStatus;
const HUB = "functions-hub";
// The fixture app is plain JavaScript with JSON files: run it from the source tree.
const APP_DIR = path.resolve(__dirname, "../../../test/provider/fixtures/durable-app");

let dts: DtsProcess;
let worker: ChildProcess;
let workerOutput = "";
let c: TaskHubGrpcClient;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--dynamic-hubs"]);
  worker = spawn(process.execPath, [path.join(__dirname, "fixtures/run-worker.js"), APP_DIR], {
    env: {
      ...process.env,
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=http://localhost:${dts.port};TaskHub=ignored;Authentication=None`,
      TASKHUB_NAME: HUB,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  worker.stdout!.on("data", (b: Buffer) => (workerOutput += b.toString()));
  worker.stderr!.on("data", (b: Buffer) => (workerOutput += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (workerOutput.includes("worker ready")) {
        clearInterval(check);
        resolve();
      }
    }, 20);
    worker.on("exit", (code) => {
      clearInterval(check);
      reject(new Error(`the worker exited with ${code}:\n${workerOutput}`));
    });
  });
  c = client(dts.address, HUB);
});

afterAll(async () => {
  await c?.stop();
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.on("exit", resolve));
    worker.kill("SIGTERM");
    await exited;
  }
  await dts?.stop();
});

const json = (s?: string) => (s === undefined ? undefined : JSON.parse(s));

async function run(name: string, input?: unknown, instanceId?: string) {
  const id = await c.scheduleNewOrchestration(name, input, instanceId);
  const s = await completed(c, id, 45);
  if (s.runtimeStatus !== S.COMPLETED && name !== "Unhandled") {
    throw new Error(`${name} ended ${S[s.runtimeStatus]}: ${s.failureDetails?.message}\n--- worker output ---\n${workerOutput}`);
  }
  return { id, s, output: json(s.serializedOutput) };
}

test("the worker connects with the hub from host.json and logs what it runs", () => {
  expect(workerOutput).toMatch(/listening to task hub 'functions-hub' at http:\/\/localhost:\d+ \(at most 4 orchestrator, 4 activity, 2 entity/);
  expect(workerOutput).toMatch(/The task hub is 'functions-hub' \(from host\.json hubName\); the connection string's TaskHub 'ignored' is not used/);
});

test("a sequence of activities", async () => {
  const { output } = await run("Sequence");
  expect(output).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
  // The worker logs once the scheduler has acknowledged a completion, which may be after the client saw it.
  await logged(/activity 'SayHello' \(instance '[^']+', task 2\): succeeded in \d+ ms/);
  await logged(/orchestrator 'Sequence' \(instance '[^']+'\): completed in \d+ ms/);
});

test("fan-out/fan-in over 20 activities", async () => {
  const { output } = await run("FanOutFanIn", 20);
  expect(output).toEqual({ count: 20, first: "Hello, #0!", last: "Hello, #19!" });
});

test("an activity retried by the host until it succeeds", async () => {
  const { output } = await run("WithRetry");
  expect(output).toEqual({ result: "ok after 3 attempts", after: "Hello, after retry!" });
});

test("a durable timer", async () => {
  const { output } = await run("WithTimer");
  expect(output.waitedMs).toBeGreaterThanOrEqual(1500);
});

test("an external event raised with the portable client, with custom status", async () => {
  const id = await c.scheduleNewOrchestration("Approval");
  const waiting = await withOutput(pollUntil(() => c.getOrchestrationState(id, true), (s) => s?.serializedCustomStatus === '"waiting for approval"', "the orchestration to wait"));
  expect(waiting!.runtimeStatus).toBe(S.RUNNING);
  await c.raiseOrchestrationEvent(id, "Approve", { by: "alice" });
  const s = await completed(c, id);
  expect(s.runtimeStatus).toBe(S.COMPLETED);
  expect(json(s.serializedOutput)).toEqual({ approvedBy: "alice" });
  expect(s.serializedCustomStatus).toBe('"approved"');
});

test("sub-orchestrations, with a generated and a given instance id", async () => {
  const { id, output } = await run("Parent", undefined, "parent-1");
  expect(output).toEqual({ greetings: ["Hello, Paris!", "Hello, Rome!"], fan: { count: 3, first: "Hello, #0!", last: "Hello, #2!" } });
  const child = await c.getOrchestrationState(`${id}-child`, true);
  expect(child?.runtimeStatus).toBe(S.COMPLETED);
});

test("entity signal and calls (result and failure) from an orchestration", async () => {
  const { output } = await run("EntityCalls");
  expect(output).toEqual({ afterAdd: 15, value: 15, failure: "failed" });
});

test("a critical section over two entities", async () => {
  const { output } = await run("Locked");
  expect(output).toBe(3);
});

test("continue-as-new", async () => {
  const { output } = await run("Countdown", 2);
  expect(output).toBe("liftoff");
});

test("an unhandled activity failure fails the orchestration with the function name and the cause", async () => {
  const { s } = await run("Unhandled");
  expect(s.runtimeStatus).toBe(S.FAILED);
  expect(s.failureDetails?.message).toBe("Orchestrator function 'Unhandled' failed: RangeError: the activity exploded");
  await logged(/activity 'Explode' .*: failed \(RangeError: the activity exploded\)/);
});

test("one orchestration using everything: sub-orchestration, fan-out, retry, timer, external event, entity", async () => {
  const id = await c.scheduleNewOrchestration("Everything");
  await withOutput(untilTrue(async () => /orchestrator 'Everything' \(instance '[^']+'\): running/.test(workerOutput) && (await c.getOrchestrationState(id))?.runtimeStatus === S.RUNNING, "the orchestration to run"));
  // The event may arrive before the orchestrator waits for it: it is kept until then.
  await c.raiseOrchestrationEvent(id, "Continue", { amount: 7 });
  const s = await completed(c, id, 45);
  expect(S[s.runtimeStatus]).toBe("COMPLETED");
  expect(json(s.serializedOutput)).toEqual({
    seq: ["Hello, A!", "Hello, B!"], fan: ["Hello, f1!", "Hello, f2!", "Hello, f3!"], retried: "ok after 2 attempts",
    event: { amount: 7 }, counter: 7,
  });
});

function logged(line: RegExp): Promise<void> {
  return withOutput(untilTrue(() => line.test(workerOutput), `the worker to log ${line}`, 20_000));
}

/** A failed wait shows what the worker printed. */
async function withOutput<T>(wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- worker output ---\n${workerOutput}`);
  }
}
