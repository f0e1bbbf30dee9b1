// The host loads apps other than ours the way the Node worker does: a plain-JavaScript CommonJS app
// (hooks, route parameters, app settings from local.settings.json) and an ES module app whose
// package.json "main" is a glob, each served by `dts func start` with no scheduler at all.
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "../helpers/dts-process";
import { FIXTURES, FuncHostProcess, http, spawnHost, startFuncHost } from "../helpers/func-process";

describe("a plain-JavaScript CommonJS app", () => {
  let host: FuncHostProcess;
  beforeAll(async () => {
    host = await startFuncHost(path.join(FIXTURES, "cjs-app"));
  });
  afterAll(async () => {
    expect(await host?.stop()).toBe(0);
  });

  test("serves its HTTP trigger with route parameters, app settings and hooks", async () => {
    const r = await http("GET", `${host.origin}/api/hello/Ann`);
    expect(r.status).toBe(200);
    // GREETING comes from local.settings.json Values; "appStart ran" from the appStart hook.
    expect(r.text).toBe("Hello, Ann! (appStart ran)");
    // The postInvocation hook replaced the result.
    expect(r.headers.get("x-post-invocation")).toBe("yes");
  });

  test("an optional route parameter may be left out; the body and query reach the function", async () => {
    expect((await http("POST", `${host.origin}/api/hello`, "Bob")).text).toBe("Hello, Bob! (appStart ran)");
    expect((await http("GET", `${host.origin}/api/hello?name=Cy`)).text).toBe("Hello, Cy! (appStart ran)");
  });

  test("methods, unknown routes and failing functions get 405, 404 and 500", async () => {
    expect((await http("DELETE", `${host.origin}/api/hello/x`)).status).toBe(405);
    expect((await http("GET", `${host.origin}/api/nothing-here`)).status).toBe(404);
    expect((await http("GET", `${host.origin}/api/fails`)).status).toBe(500);
    expect(host.output()).toContain("this function always fails");
  });

  test("the host prints each function with its URL and logs each invocation on one line", () => {
    expect(host.output()).toMatch(new RegExp(`hello: \\[GET,POST\\] http://localhost:${host.port}/api/hello/\\{name\\?\\}`));
    expect(host.output()).toMatch(/Executed 'hello': GET \/api\/hello\/Ann -> 200 \(\d+ ms\)/);
    // The app's own context.log lines are printed too.
    expect(host.output()).toContain("hello called for Ann");
  });
});

describe("an ES module app with a glob as main", () => {
  let host: FuncHostProcess;
  beforeAll(async () => {
    host = await startFuncHost(path.join(FIXTURES, "esm-app"));
  });
  afterAll(async () => {
    expect(await host?.stop()).toBe(0);
  });

  test("loads every file the glob matches and serves them at the empty route prefix", async () => {
    expect((await http("GET", `${host.origin}/ping`)).text).toBe("pong");
    const r = await http("GET", `${host.origin}/items/42?tag=blue`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: 42, tag: "blue", method: "GET" });
  });

  test("route constraints reject what they do not match; JSON bodies and cookies go both ways", async () => {
    expect((await http("GET", `${host.origin}/items/abc`)).status).toBe(404);
    const r = await http("POST", `${host.origin}/items`, { name: "x" });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ created: { name: "x" } });
    expect(r.headers.get("set-cookie")).toBe("session=abc; HttpOnly");
  });
});

test("an app with HTTP streaming enabled gets the raw request and streams its response back", async () => {
  const host = await startFuncHost(path.join(FIXTURES, "stream-app"));
  try {
    const body = "x".repeat(200_000);
    const r = await http("POST", `${host.origin}/api/echo/zoe`, body, { "x-test": "on" });
    expect(r.status).toBe(200);
    expect(r.text).toBe("200000 bytes, header on");
    expect(r.headers.get("x-who")).toBe("zoe");
    expect(r.headers.get("x-ms-invocation-id")).toBeNull();
  } finally {
    expect(await host.stop()).toBe(0);
  }
});

test("an app without package.json main stops the host with a message saying what to set", async () => {
  const dir = tempDir("dts-func-nomain-");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "x" }));
  fs.writeFileSync(path.join(dir, "host.json"), JSON.stringify({ version: "2.0" }));
  const err = await spawnHost(["func", "start", "--port", "0", "--app", dir]).then(() => undefined, (e: Error) => e);
  expect(err?.message).toMatch(/exited with 1/);
  expect(err?.message).toMatch(/has no "main"/);
});
