// The local Functions host's HTTP hygiene, against a real scheduler and `dts func start`: the Durable
// management API takes state-changing requests only with JSON bodies (415 otherwise, changing
// nothing), the URLs the host hands out name this server whatever Host or X-Forwarded-* headers a
// client sends, and listing pages are capped at 1000.
import * as http from "http";
import * as path from "path";
import { ManagementApi } from "../../src/host/management-api";
import { SidecarClient } from "../../src/host/sidecar-client";
import { publicOrigin } from "../../src/host/webhook-urls";
import { pb } from "../../src/proto";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { connectionString, FIXTURES, FuncHostProcess, startFuncHost } from "../helpers/func-process";
import { RawClient } from "../helpers/raw";

const APP = path.join(FIXTURES, "client-app"); // its Waiter orchestration runs until it gets a "Go" event
const S = pb.OrchestrationStatus;

let dts: DtsProcess;
let host: FuncHostProcess;
let api: string;
let raw: RawClient;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--hubs", "default,paging"]);
  host = await startFuncHost(APP, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
  api = `${host.origin}/runtime/webhooks/durabletask`;
  raw = new RawClient(`localhost:${dts.port}`, "default");
});
afterAll(async () => {
  raw?.close();
  const code = await host?.stop();
  await dts?.stop();
  expect(code).toBe(0);
});

interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * One request with exactly the given headers and body: fetch would add a Content-Type to a string
 * body and would not let a test choose the Host header.
 */
function send(method: string, url: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Sent> {
  return new Promise((resolve, reject) => {
    // Node frames a DELETE body only with an explicit Content-Length.
    const length = options.body === undefined ? {} : { "content-length": String(Buffer.byteLength(options.body)) };
    const req = http.request(url, { method, headers: { ...length, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text && /json/.test(res.headers["content-type"] ?? "") ? JSON.parse(text) : text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Starts a Waiter through the management API and resolves once it runs. */
async function startWaiter(id: string, headers: Record<string, string> = {}): Promise<Sent> {
  const r = await send("POST", `${api}/orchestrators/Waiter/${id}`, { headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify({ id }) });
  expect(r.status).toBe(202);
  await raw.call("WaitForInstanceStart", { instanceId: id });
  return r;
}

async function finished(id: string): Promise<pb.IOrchestrationState> {
  const res = await raw.call<pb.GetInstanceResponse>("WaitForInstanceCompletion", { instanceId: id, getInputsAndOutputs: true });
  return res.orchestrationState!;
}

describe("state-changing management calls take JSON bodies only", () => {
  test("text/plain, form and multipart bodies, and bodies without a Content-Type, get 415 and change nothing", async () => {
    const id = "hy-refused";
    await startWaiter(id);
    // What an HTML form or a "simple" cross-site request can send.
    const notJson: { headers: Record<string, string>; body: string }[] = [
      { headers: { "content-type": "text/plain;charset=UTF-8" }, body: '{"x":1}' },
      { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "x=1" },
      { headers: { "content-type": "multipart/form-data; boundary=b" }, body: '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n' },
      { headers: {}, body: '{"x":1}' },
      { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" }, // a form without fields
    ];
    const calls: [string, string][] = [
      ["POST", `${api}/orchestrators/Waiter/hy-never-started`],
      ["POST", `${api}/instances/${id}/raiseEvent/Go`],
      ["POST", `${api}/instances/${id}/terminate?reason=x`],
      ["POST", `${api}/instances/${id}/suspend?reason=x`],
      ["POST", `${api}/instances/${id}/rewind?reason=x`],
      ["POST", `${api}/instances/${id}/restart`],
      ["POST", `${api}/entities/Box/hy-never-signalled?op=set`],
      ["DELETE", `${api}/instances/${id}`],
      ["POST", `${host.origin}/durabletask/instances/${id}/terminate?reason=x`], // the client's rpcBaseUrl
    ];
    for (const [method, url] of calls) {
      for (const request of notJson) {
        const r = await send(method, url, request);
        expect({ method, url, sent: request.headers, status: r.status }).toEqual({ method, url, sent: request.headers, status: 415 });
        expect(r.body).toMatch(/accepts only JSON.*'Content-Type: application\/json'/);
      }
    }
    expect((await send("GET", `${api}/instances/hy-never-started`)).status).toBe(404);
    expect((await send("GET", `${api}/entities/Box/hy-never-signalled`)).status).toBe(404);
    // Had any refused event, terminate or suspend gone through, the Waiter would not end with this event's data.
    expect((await send("POST", `${api}/instances/${id}/raiseEvent/Go`, { headers: JSON_HEADERS, body: '{"ok":true}' })).status).toBe(202);
    const state = await finished(id);
    expect(state.orchestrationStatus).toBe(S.ORCHESTRATION_STATUS_COMPLETED);
    expect(JSON.parse(state.output!.value!)).toEqual({ got: { ok: true }, input: { id } });
  });

  test("JSON with parameters or a +json type is accepted; so is an empty body without a Content-Type", async () => {
    const r = await send("POST", `${api}/orchestrators/Waiter/hy-json`, { headers: { "content-type": "application/vnd.example+json" }, body: '{"n":1}' });
    expect(r.status).toBe(202);
    await raw.call("WaitForInstanceStart", { instanceId: "hy-json" });
    const raised = await send("POST", `${api}/instances/hy-json/raiseEvent/Go`, { headers: { "content-type": "Application/JSON; charset=utf-8" }, body: '"go"' });
    expect(raised.status).toBe(202);
    expect(JSON.parse((await finished("hy-json")).output!.value!)).toEqual({ got: "go", input: { n: 1 } });

    // What durable-functions' client (and `curl -X POST`) send for these operations: no body, no Content-Type.
    await startWaiter("hy-empty");
    for (const op of ["suspend", "resume", "terminate"]) {
      expect((await send("POST", `${api}/instances/hy-empty/${op}?reason=${op}`)).status).toBe(202);
    }
    const state = await finished("hy-empty");
    expect(state.orchestrationStatus).toBe(S.ORCHESTRATION_STATUS_TERMINATED);
    expect(state.output?.value).toBe('"terminate"');

    // Declared JSON that is not JSON stays a 400.
    expect((await send("POST", `${api}/orchestrators/Waiter/hy-bad`, { headers: JSON_HEADERS, body: "{not json" })).status).toBe(400);
    // Reads take no body and are not affected.
    expect((await send("GET", `${api}/instances/hy-json`, { headers: { "content-type": "text/plain" } })).status).toBe(200);
  });
});

describe("the URLs the host hands out name this server", () => {
  const evil = { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };
  const urlsOf = (body: Record<string, string>) => Object.entries(body).filter(([k]) => k !== "id").map(([, v]) => v);

  test("X-Forwarded-Host/-Proto and a foreign Host header are ignored by the management API", async () => {
    const forwarded = await startWaiter("hy-links", evil);
    expect(forwarded.body.statusQueryGetUri).toBe(`${api}/instances/hy-links?taskHub=default&connection=DURABLE_TASK_SCHEDULER_CONNECTION_STRING`);
    expect(forwarded.headers.location).toBe(forwarded.body.statusQueryGetUri);
    for (const u of urlsOf(forwarded.body)) expect(u.startsWith(`${host.origin}/`)).toBe(true);

    for (const foreign of ["evil.example", `evil.example:${host.port}`, `localhost:${host.port + 1}`]) {
      const running = await send("GET", `${api}/instances/hy-links`, { headers: { host: foreign, ...evil } });
      expect(running.status).toBe(202);
      expect(running.headers.location).toBe(`${api}/instances/hy-links`);
    }
    const viaForeignHost = await startWaiter("hy-links-2", { host: "evil.example", ...evil });
    for (const u of urlsOf(viaForeignHost.body)) expect(u.startsWith(`${host.origin}/`)).toBe(true);

    // A loopback name with this server's port is this server: the links keep the name the caller used.
    const loopback = await send("GET", `${api}/instances/hy-links`, { headers: { host: `127.0.0.1:${host.port}` } });
    expect(loopback.headers.location).toBe(`http://127.0.0.1:${host.port}/runtime/webhooks/durabletask/instances/hy-links`);
  });

  test("the app's own HTTP function sees this server's URL (durable-functions builds its check-status links from it)", async () => {
    await startWaiter("hy-app-links");
    const r = await send("POST", `${host.origin}/api/client/waitOrCheck`, {
      headers: { ...JSON_HEADERS, host: "evil.example", ...evil }, body: JSON.stringify({ id: "hy-app-links", timeoutMs: 100 }),
    });
    expect(r.status).toBe(202);
    expect(r.body.statusQueryGetUri).toBe(`${api}/instances/hy-app-links?taskHub=default&connection=DURABLE_TASK_SCHEDULER_CONNECTION_STRING`);
    for (const u of urlsOf(r.body)) expect(u.startsWith(`${host.origin}/`)).toBe(true);
  });

  test("WEBSITE_HOSTNAME names the host for links when the request's Host does not", async () => {
    const named = await startFuncHost(APP, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port), WEBSITE_HOSTNAME: "devbox.example" });
    try {
      const own = `http://devbox.example:${named.port}/runtime/webhooks/durabletask/instances/hy-named`;
      const start = (headers: Record<string, string>) => send("POST", `${named.origin}/runtime/webhooks/durabletask/orchestrators/Waiter/hy-named`, { headers: { ...JSON_HEADERS, ...headers }, body: "{}" });
      const first = await start({ host: "evil.example", ...evil });
      expect(first.status).toBe(202);
      expect(first.headers.location).toBe(`${own}?taskHub=default&connection=DURABLE_TASK_SCHEDULER_CONNECTION_STRING`);
      await raw.call("WaitForInstanceStart", { instanceId: "hy-named" });
      const named2 = await send("GET", `${named.origin}/runtime/webhooks/durabletask/instances/hy-named`, { headers: { host: `DevBox.example:${named.port}` } });
      expect(named2.headers.location).toBe(own);
    } finally {
      expect(await named.stop()).toBe(0);
    }
  });

  test("publicOrigin: which Host headers name this server", () => {
    expect(publicOrigin(undefined, 7071)).toBe("http://localhost:7071");
    expect(publicOrigin("localhost:7071", 7071)).toBe("http://localhost:7071");
    expect(publicOrigin("127.0.0.1:7071", 7071)).toBe("http://127.0.0.1:7071");
    expect(publicOrigin("[::1]:7071", 7071)).toBe("http://[::1]:7071");
    for (const other of ["evil.example", "evil.example:7071", "localhost", "localhost:8080", "localhost:7071/x", "me@localhost:7071", "[::1"]) {
      expect(publicOrigin(other, 7071)).toBe("http://localhost:7071");
    }
    expect(publicOrigin("evil.example", 7071, "devbox.example")).toBe("http://devbox.example:7071");
    expect(publicOrigin("DEVBOX.example:7071", 7071, "devbox.example")).toBe("http://devbox.example:7071");
    expect(publicOrigin("devbox.example:7071", 7071, "devbox.example:80")).toBe("http://devbox.example:80");
    expect(publicOrigin("devbox.example", 7071, "devbox.example:80")).toBe("http://devbox.example:80");
    expect(publicOrigin("127.0.0.1:7071", 7071, "devbox.example")).toBe("http://127.0.0.1:7071");
    // A loopback setting (the host fills in WEBSITE_HOSTNAME=localhost:<port> for durable-functions) adds nothing.
    expect(publicOrigin("evil.example", 7071, "localhost:9999")).toBe("http://localhost:7071");
  });
});

describe("listing pages are capped at 1000", () => {
  test("top=1000000 returns 1000 instances and a continuation token for the rest", async () => {
    // A hub no worker serves, so the instances stay as created.
    const paging = new RawClient(`localhost:${dts.port}`, "paging");
    try {
      const ids = Array.from({ length: 1001 }, (_, i) => `p-${String(i).padStart(4, "0")}`);
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(ids.slice(i, i + 100).map((instanceId) => paging.call("StartInstance", { instanceId, name: "Nobody" })));
      }
      const first = await send("GET", `${api}/instances?taskHub=paging&top=1000000&showInput=false`);
      expect(first.status).toBe(200);
      expect(first.body).toHaveLength(1000);
      const token = first.headers["x-ms-continuation-token"] as string;
      expect(token).toBeTruthy();
      const rest = await send("GET", `${api}/instances?taskHub=paging&top=1000000&showInput=false`, { headers: { "x-ms-continuation-token": token } });
      expect(rest.body).toHaveLength(1);
      expect([...first.body, ...rest.body].map((s: { instanceId: string }) => s.instanceId).sort()).toEqual(ids);
    } finally {
      paging.close();
    }
  });

  test("the page size the host asks the scheduler for is clamped, for instances and entities", async () => {
    const sent: { method: string; request: { query: { maxInstanceCount?: number; pageSize?: { value: number } } } }[] = [];
    const client = {
      call: async (method: string, request: never) => {
        sent.push({ method, request });
        return {};
      },
    };
    const mgmt = new ManagementApi({ client: client as unknown as SidecarClient, hub: { hubName: "h", connectionName: "c" } });
    const get = (rel: string) => mgmt.handle({ method: "GET", url: new URL(`http://localhost:7071/runtime/webhooks/durabletask/${rel}`), headers: {}, body: Buffer.alloc(0) });
    for (const rel of ["instances?top=1000000", "entities?top=1000000", "entities/Box?top=1001", "instances?top=5", "instances"]) {
      expect((await get(rel)).status).toBe(200);
    }
    expect(sent.map((s) => [s.method, s.request.query.maxInstanceCount ?? s.request.query.pageSize?.value])).toEqual([
      ["QueryInstances", 1000], ["QueryEntities", 1000], ["QueryEntities", 1000], ["QueryInstances", 5], ["QueryInstances", 100],
    ]);
    expect((await get("instances?top=-1")).status).toBe(400);
  });
});
