// End-to-end: `dts start` with auth on (issue #15). The app keeps its connection string's own
// Authentication (here a Worker token from a file) and is pointed at the scheduler dts start runs;
// an app whose connection string says Authentication=None is refused at start with the fix.
import * as fs from "fs";
import * as path from "path";
import { CONTRIBUTOR, WORKER } from "../../src/auth/roles";
import { runCli, tempDir } from "../helpers/dts-process";
import { http, pollStatus, REPO_ROOT, spawnHost } from "../helpers/func-process";
import { IdentityProvider, startIdentityProvider } from "../helpers/identity-provider";

let idp: IdentityProvider;
let dir: string;
let roles: string;

beforeAll(async () => {
  idp = await startIdentityProvider([{ id: "sample-app" }, { id: "contributor-app" }]);
  dir = tempDir("dts-start-auth-");
  roles = path.join(dir, "roles.json");
  fs.writeFileSync(roles, JSON.stringify([{ principal: "sample-app", role: WORKER, scope: "*" }, { principal: "contributor-app", role: CONTRIBUTOR, scope: "*" }]));
});

afterAll(async () => {
  await idp?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("the sample app runs HelloCities with its own token from its connection string, pointed at this scheduler", async () => {
  const tokenFile = path.join(dir, "app.token");
  fs.writeFileSync(tokenFile, await idp.token("sample-app"));
  // The setting names another endpoint; dts start replaces only that, and keeps the token source.
  const both = await spawnHost(["start", "--port", "0", "--func-port", "0", "--dashboard-port", "0", "--store", "memory", "--app", REPO_ROOT,
    "--auth-issuer", idp.issuer, "--role-assignments", roles, "--host", "localhost"], {
    DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=http://localhost:1;TaskHub=default;Authentication=TokenFile;TokenFilePath=${tokenFile}`,
  });
  try {
    await both.waitForOutput(/Ctrl-C stops both/);
    expect(both.output()).toMatch(/the app uses this scheduler: DURABLE_TASK_SCHEDULER_CONNECTION_STRING=Endpoint=http:\/\/localhost:\d+;TaskHub=default;Authentication=TokenFile \(its other keys/);
    expect(both.output()).not.toContain(tokenFile);
    const r = await http("POST", `${both.origin}/api/orchestrators/HelloCities`);
    expect(r.status).toBe(202);
    const done = await pollStatus(r.body.statusQueryGetUri);
    expect(done.body.runtimeStatus).toBe("Completed");
    // The app's own token is a Worker's: purging through its management API is refused.
    expect((await http("DELETE", r.body.purgeHistoryDeleteUri)).status).toBe(403);
  } finally {
    expect(await both.stop("SIGINT")).toBe(0);
  }
});

test("an app whose connection string says Authentication=None is refused, with the fix", async () => {
  const r = await runCli(["start", "--port", "0", "--func-port", "0", "--no-dashboard", "--store", "memory", "--app", REPO_ROOT, "--auth-issuer", idp.issuer, "--role-assignments", roles]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/auth is on, and the app's DURABLE_TASK_SCHEDULER_CONNECTION_STRING .* says Authentication=None/);
  expect(r.stderr).toMatch(/Authentication=TokenFile;TokenFilePath=<file>/);
});
