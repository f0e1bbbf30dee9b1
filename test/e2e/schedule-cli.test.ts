// End-to-end: `dts schedule create|list|get|pause|resume|delete` against a real `dts serve`, through
// its dashboard port, with the official SDK's worker running the instances a schedule starts.
import { OrchestrationContext, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { deadPort, DtsProcess, runCli, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { client, completed, worker } from "../helpers/sdk";

let dts: DtsProcess;
let w: TaskHubGrpcWorker;
let c: TaskHubGrpcClient;
let target: string[];

beforeAll(async () => {
  dts = await startDts(["--store", "sqlite"]);
  target = ["--dashboard-url", `http://localhost:${dts.dashboardPort}`];
  w = worker(dts.address);
  // eslint-disable-next-line require-yield
  w.addNamedOrchestrator("nightly", async function* (_ctx: OrchestrationContext, input: unknown): AsyncGenerator<never, unknown, unknown> {
    return input;
  });
  await w.start();
  c = client(dts.address);
});

afterAll(async () => {
  await w?.stop().catch(() => undefined);
  await c?.stop().catch(() => undefined);
  await dts?.stop();
});

const dtsSchedule = (...args: string[]) => runCli(["schedule", ...args, ...target]);

test("create, list, get, pause, resume and delete a schedule; its occurrences run", async () => {
  const created = await dtsSchedule("create", "cli-every", "--orchestration", "nightly", "--every", "1s", "--input", `{"n":1}`, "--catch-up", "skip");
  expect(created).toMatchObject({ code: 0, stderr: "" });
  expect(created.stdout).toMatch(/^Created schedule 'cli-every' in task hub 'default'; first run \d{4}-\d\d-\d\dT[\d:.]+Z\.$/m);
  expect((await dtsSchedule("create", "cli-cron", "--orchestration", "nightly", "--cron", "0 30 2 * * *", "--time-zone", "Europe/Paris")).code).toBe(0);

  const first = await pollUntil(async () => {
    for await (const s of c.getAllInstances({ instanceIdPrefix: "cli-every@" })) return s.instanceId;
    return undefined;
  }, (id) => id !== undefined, "an occurrence of cli-every");
  expect((await completed(c, first!)).serializedOutput).toBe(`{"n":1}`);

  const list = await dtsSchedule("list");
  expect(list.code).toBe(0);
  const lines = list.stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^ID\s+ORCHESTRATION\s+WHEN\s+STATE\s+NEXT RUN\s+LAST RUN\s+LAST INSTANCE$/);
  expect(lines.find((l) => l.startsWith("cli-cron "))).toMatch(/nightly\s+cron 0 30 2 \* \* \* \(Europe\/Paris\)\s+active\s+\S+Z\s+-\s+-$/);
  expect(lines.find((l) => l.startsWith("cli-every "))).toMatch(/nightly\s+every 1s\s+active\s+\S+Z\s+\S+Z\s+cli-every@\S+Z$/);
  const json = JSON.parse((await dtsSchedule("list", "--json")).stdout);
  expect(json.map((s: { scheduleId: string }) => s.scheduleId)).toEqual(["cli-cron", "cli-every"]);

  const paused = await dtsSchedule("pause", "cli-every");
  expect(paused).toMatchObject({ code: 0, stdout: "Schedule 'cli-every' is paused.\n" });
  expect(JSON.parse((await dtsSchedule("get", "cli-every")).stdout)).toMatchObject({ scheduleId: "cli-every", state: "paused", nextRunAt: null, catchUp: "skip" });
  const resumed = await dtsSchedule("resume", "cli-every");
  expect(resumed.stdout).toMatch(/^Schedule 'cli-every' is active; next run \S+Z\.$/m);

  expect(await dtsSchedule("delete", "cli-every")).toMatchObject({ code: 0, stdout: "Deleted schedule 'cli-every' from task hub 'default'.\n" });
  expect(JSON.parse((await dtsSchedule("list", "--json")).stdout).map((s: { scheduleId: string }) => s.scheduleId)).toEqual(["cli-cron"]);
}, 120_000); // a dozen CLI processes, each a Node start-up on a busy machine

test("bad input: usage errors exit 2, what the server refuses exits 1 with its message; nothing is created", async () => {
  const noOrchestration = await dtsSchedule("create", "x", "--every", "1m");
  expect(noOrchestration.code).toBe(2);
  expect(noOrchestration.stderr).toMatch(/--orchestration <name>/);
  const both = await dtsSchedule("create", "x", "--orchestration", "nightly", "--every", "1m", "--cron", "0 0 * * * *");
  expect(both.code).toBe(2);
  expect(both.stderr).toMatch(/either --cron <expr> or --every <interval>/);
  const badCron = await dtsSchedule("create", "x", "--orchestration", "nightly", "--cron", "0 0 25 * * *");
  expect(badCron.code).toBe(1);
  expect(badCron.stderr).toMatch(/answered 400: cron: The schedule expression '0 0 25 \* \* \*' was not recognized as a valid cron expression/);
  const badZone = await dtsSchedule("create", "x", "--orchestration", "nightly", "--cron", "0 0 2 * * *", "--time-zone", "Nowhere/Land");
  expect(badZone.stderr).toMatch(/timeZone 'Nowhere\/Land' is not a time zone/);
  const missing = await dtsSchedule("pause", "no-such");
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/answered 404: Schedule 'no-such' not found in task hub 'default'/);
  const verb = await dtsSchedule("frobnicate", "x");
  expect(verb.code).toBe(2);
  expect(verb.stderr).toMatch(/unknown verb 'schedule frobnicate'/);
  const nobody = await runCli(["schedule", "list", "--dashboard-url", `http://localhost:${await deadPort()}`]);
  expect(nobody.code).toBe(1);
  expect(nobody.stderr).toMatch(/cannot reach the dashboard/);
  expect(JSON.parse((await dtsSchedule("list", "--json")).stdout).map((s: { scheduleId: string }) => s.scheduleId)).not.toContain("x");
}, 120_000);
