// Large payloads on the durable-functions 4 path: outputs through the status URL and through the
// client's query over the host's gRPC channel (whose messages may exceed gRPC's 4 MiB default), and
// the scheduler's clear PayloadTooLarge failure when one exceeds --max-payload-bytes.
import { DF4_APP } from "../helpers/df4-app";
import { AppOnScheduler, FuncHostProcess, http, pollStatus, startAppOnScheduler } from "../helpers/func-process";

const KB65 = 65 * 1024;
const MB4_5 = 4.5 * 1024 * 1024;

async function startLargeOutput(host: FuncHostProcess, bytes: number, instanceId: string) {
  const r = await http("POST", `${host.origin}/api/orchestrators/LargeOutput/${instanceId}`, bytes);
  expect(r.status).toBe(202);
  return pollStatus(r.body.statusQueryGetUri, undefined, 60_000);
}

describe("with --max-payload-bytes raised to 8 MB", () => {
  let app: AppOnScheduler;
  beforeAll(async () => {
    app = await startAppOnScheduler(DF4_APP, ["--max-payload-bytes", "8000000"]);
  });
  afterAll(() => app?.stop());

  test("a 65 KB output reads back through the status URL", async () => {
    const status = await startLargeOutput(app.host, KB65, "large-65k");
    expect(status.body.runtimeStatus).toBe("Completed");
    expect(status.body.output).toHaveLength(KB65);
  });

  test("a 4.5 MB output reads back through a client query over the gRPC channel", async () => {
    const status = await startLargeOutput(app.host, MB4_5, "large-4-5m");
    expect(status.body.runtimeStatus).toBe("Completed");
    const q = await http("POST", `${app.host.origin}/api/client/query`, { prefix: "large-4-5m", withOutput: true });
    expect(q.status).toBe(200);
    // The serialized output: the string and its two quotes.
    expect(q.body.result.instances).toEqual([expect.objectContaining({ id: "large-4-5m", status: 1, outputLength: MB4_5 + 2 })]);
  }, 90_000);
});

describe("at the default 1 MiB limit", () => {
  let app: AppOnScheduler;
  beforeAll(async () => {
    app = await startAppOnScheduler(DF4_APP);
  });
  afterAll(() => app?.stop());

  test("a 4.5 MB activity result fails the orchestration with PayloadTooLarge, saying the size and the limit", async () => {
    const status = await startLargeOutput(app.host, MB4_5, "too-large");
    expect(status.body.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(status.body.output)).toMatch(/The result of activity 'MakeBlob' is \d+ bytes; the limit is 1048576 bytes/);
  }, 90_000);
});
