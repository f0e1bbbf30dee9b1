// End-to-end: identity and roles (issue #15) against `dts serve` with a real OpenID Connect provider.
// Tokens come from client-credentials grants of oidc-provider; the tokens no honest issuer makes
// (expired, foreign key, alg none...) are crafted by the same provider process. Every refusal is
// checked for its exact gRPC code, and every RPC of both services against the role table.
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { ActivityContext, NoOpLogger, OrchestrationContext, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { PERMISSIONS, READER, ROLES, WORKER, CONTRIBUTOR, Role, includes } from "../../src/auth/roles";
import { backendDefinition, completionStreamDefinition, sidecarDefinition } from "../../src/proto/services";
import { DtsProcess, runCli, startDts, tempDir } from "../helpers/dts-process";
import { http, pollStatus, REPO_ROOT, startFuncHost } from "../helpers/func-process";
import { IdentityProvider, startIdentityProvider } from "../helpers/identity-provider";
import { pollUntil, within } from "../helpers/poll";
import { RawClient } from "../helpers/raw";
import { completed, grpcCode, retriesEndAtStop } from "../helpers/sdk";

/* eslint-disable @typescript-eslint/no-explicit-any */
const UNAUTHENTICATED = grpc.status.UNAUTHENTICATED;
const PERMISSION_DENIED = grpc.status.PERMISSION_DENIED;

let idp: IdentityProvider;
let dts: DtsProcess;
let dir: string;
let assignmentsFile: string;
const tokens: Record<string, string> = {};
const clients: TaskHubGrpcClient[] = [];
const workers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];

const ASSIGNMENTS = [
  { principal: "contributor-app", role: CONTRIBUTOR, scope: "*" },
  { principal: "reader-app", role: READER, scope: "*" },
  { principal: "worker-app", role: WORKER, scope: "*" },
  { principal: "hub-a-app", role: CONTRIBUTOR, scope: "a" },
  { principal: "removable-app", role: CONTRIBUTOR, scope: "*" },
  { principal: "short-lived-app", role: WORKER, scope: "*" },
];

beforeAll(async () => {
  idp = await startIdentityProvider([
    { id: "contributor-app" }, { id: "reader-app" }, { id: "worker-app" }, { id: "hub-a-app" }, { id: "removable-app" },
    { id: "nobody-app" }, { id: "short-lived-app", ttl: 2 }, { id: "token-roles-app", roles: [CONTRIBUTOR] },
  ]);
  dir = tempDir("dts-auth-");
  assignmentsFile = path.join(dir, "roles.json");
  fs.writeFileSync(assignmentsFile, JSON.stringify(ASSIGNMENTS));
  dts = await startDts(["--store", "memory", "--hubs", "default,a,b", "--auth-issuer", idp.issuer, "--role-assignments", assignmentsFile,
    "--auth-trust-token-roles", "--auth-clock-skew", "1"]);
  for (const id of ["contributor-app", "reader-app", "worker-app", "hub-a-app", "removable-app", "nobody-app", "token-roles-app"]) tokens[id] = await idp.token(id);
});

afterAll(async () => {
  for (const r of raws) r.close();
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(clients.map((c) => c.stop()));
  await dts?.stop();
  await idp?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (dts) fs.rmSync(dts.dataDir, { recursive: true, force: true });
});

/** Metadata the SDK sends with every call: the hub and `authorization: Bearer <token>` (the token read at each call). */
function bearer(token: () => string | undefined, hub?: string) {
  return async () => {
    const md = new grpc.Metadata();
    if (hub) md.set("taskhub", hub);
    const t = token();
    if (t !== undefined) md.set("authorization", t.startsWith("Bearer ") || t === "" ? t : `Bearer ${t}`);
    return md;
  };
}

function sdkClient(token: string | undefined, hub?: string): TaskHubGrpcClient {
  const c = new TaskHubGrpcClient({ hostAddress: dts.address, logger: new NoOpLogger(), metadataGenerator: bearer(() => token, hub) });
  clients.push(c);
  return c;
}

function raw(token: string | undefined, hub?: string, definition?: grpc.ServiceDefinition): RawClient {
  const r = new RawClient(dts.address, hub, definition);
  r.token = token;
  raws.push(r);
  return r;
}

const hello = async function* (ctx: OrchestrationContext, name: string): any {
  return yield ctx.callActivity(greet, name);
};
const greet = async (_: ActivityContext, name: string) => `Hello, ${name}!`;

describe("with tokens from the identity provider", () => {
  test("the official SDK worker (Worker role) and client (Contributor) run an orchestration", async () => {
    const w = retriesEndAtStop(new TaskHubGrpcWorker({ hostAddress: dts.address, logger: new NoOpLogger(), metadataGenerator: bearer(() => tokens["worker-app"]), shutdownTimeoutMs: 2000 }));
    w.addOrchestrator(hello);
    w.addActivity(greet);
    workers.push(w);
    await w.start();
    const c = sdkClient(tokens["contributor-app"]);
    const id = await c.scheduleNewOrchestration(hello, "Tokyo");
    const state = await completed(c, id);
    expect(state.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    expect(state.serializedOutput).toBe(JSON.stringify("Hello, Tokyo!"));
    // A Reader reads it.
    expect((await sdkClient(tokens["reader-app"]).getOrchestrationState(id))?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  });

  test("roles in the token's roles claim count with --auth-trust-token-roles", async () => {
    const id = await sdkClient(tokens["token-roles-app"]).scheduleNewOrchestration("NoSuchOrchestrator");
    expect(id).toBeTruthy();
  });
});

describe("UNAUTHENTICATED, with a reason and nothing of the token", () => {
  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ["no token", async () => undefined, /requires a bearer token/],
    ["not Bearer", async () => "Basic dXNlcjpwYXNz", /must be 'Bearer <token>'/],
    ["garbage", async () => "Bearer not.a.jwt-at-all", /not a well-formed JWT/],
    ["alg none", () => idp.crafted({ sub: "contributor-app" }, "none"), /algorithm this scheduler does not accept/],
    ["HS256 with the issuer's public key as secret", () => idp.crafted({ sub: "contributor-app" }, "issuer", "HS256"), /algorithm this scheduler does not accept/],
    ["a key the issuer never published", () => idp.crafted({ sub: "contributor-app" }, "other"), /signature does not verify/],
    ["another issuer", () => idp.crafted({ sub: "contributor-app", iss: "https://evil.example" }), /not issued by an issuer this scheduler trusts/],
    ["another audience", () => idp.crafted({ sub: "contributor-app", aud: "https://other.example" }), /another audience: request a token for https:\/\/durabletask\.io/],
    ["expired", () => idp.crafted({ sub: "contributor-app", exp: Math.floor(Date.now() / 1000) - 3600 }), /has expired/],
    ["not yet valid", () => idp.crafted({ sub: "contributor-app", nbf: Math.floor(Date.now() / 1000) + 3600 }), /not valid yet/],
  ];
  test.each(cases)("%s", async (_name, make, reason) => {
    const token = await make();
    const err = await grpcCode(sdkClient(token).getOrchestrationState("x"));
    expect(err.code).toBe(UNAUTHENTICATED);
    expect(err.details).toMatch(reason);
    if (token) for (const part of token.replace(/^\S+ /, "").split(".")) if (part.length > 8) expect(err.details).not.toContain(part);
  });

  test("a real token for another resource (audience) is refused", async () => {
    const token = await idp.token("contributor-app", "https://other.example");
    const err = await grpcCode(sdkClient(token).scheduleNewOrchestration("X"));
    expect(err.code).toBe(UNAUTHENTICATED);
  });
});

describe("PERMISSION_DENIED naming the role and the hub", () => {
  test("a Reader starting an instance", async () => {
    const err = await grpcCode(sdkClient(tokens["reader-app"]).scheduleNewOrchestration("X"));
    expect(err.code).toBe(PERMISSION_DENIED);
    expect(err.details).toMatch(/StartInstance needs the role Durable Task Worker or above on task hub 'default'.*'reader-app'/);
  });

  test("a Worker purging", async () => {
    const err = await grpcCode(sdkClient(tokens["worker-app"]).purgeOrchestration("x"));
    expect(err.code).toBe(PERMISSION_DENIED);
    expect(err.details).toMatch(/PurgeInstances needs the role Durable Task Data Contributor on task hub 'default'/);
  });

  test("a Contributor of hub a touching hub b, and creating a hub", async () => {
    const inA = await sdkClient(tokens["hub-a-app"], "a").scheduleNewOrchestration("X");
    expect(inA).toBeTruthy();
    const err = await grpcCode(sdkClient(tokens["hub-a-app"], "b").scheduleNewOrchestration("X"));
    expect(err.code).toBe(PERMISSION_DENIED);
    expect(err.details).toMatch(/task hub 'b'/);
    const create = await grpcCode(raw(tokens["hub-a-app"], "a").call("CreateTaskHub", {}));
    expect(create.code).toBe(PERMISSION_DENIED);
    expect(create.details).toMatch(/CreateTaskHub needs the role Durable Task Data Contributor on the whole scheduler \(scope "\*"\)/);
  });

  test("a valid token with no role at all", async () => {
    expect((await grpcCode(sdkClient(tokens["nobody-app"]).getOrchestrationState("x"))).code).toBe(PERMISSION_DENIED);
  });

  test("a refused call changes nothing: the instance a Reader tried to start does not exist", async () => {
    await grpcCode(sdkClient(tokens["reader-app"]).scheduleNewOrchestration("X", undefined, "reader-tried"));
    expect(await sdkClient(tokens["contributor-app"]).getOrchestrationState("reader-tried")).toBeUndefined();
  });
});

describe("the role assignments file", () => {
  test("a removed assignment stops working once the file changes; a bad file keeps the last good one", async () => {
    const c = sdkClient(tokens["removable-app"]);
    expect(await c.scheduleNewOrchestration("X")).toBeTruthy();
    // A bad file first: logged, and the assignments in force stay.
    fs.writeFileSync(assignmentsFile, "[{ not json");
    await pollUntil(async () => dts.output(), (o) => /role assignments not reloaded: .*roles\.json is not JSON/.test(o), "the bad file to be logged");
    expect(await c.scheduleNewOrchestration("X")).toBeTruthy();
    fs.writeFileSync(assignmentsFile, JSON.stringify(ASSIGNMENTS.filter((a) => a.principal !== "removable-app")));
    await pollUntil(async () => dts.output(), (o) => /role assignments reloaded from .*roles\.json \(5\)/.test(o), "the new file to be loaded");
    const err = await grpcCode(c.scheduleNewOrchestration("X"));
    expect(err.code).toBe(PERMISSION_DENIED);
  });
});

describe("a worker stream", () => {
  test("is closed with UNAUTHENTICATED when its token expires", async () => {
    const token = await idp.token("short-lived-app");
    const r = raw(token);
    const stream = r.workItems();
    // Opened: the server sends headers at once.
    await within(new Promise((resolve) => stream.call.once("metadata", resolve)), "the stream to open");
    const err = await within(stream.closed(), "the stream to be closed at expiry", 10_000);
    expect(err?.code).toBe(UNAUTHENTICATED);
    expect(err?.details).toMatch(/expired: reconnect with a new token/);
    // Reopening with the same token is refused; a new token opens it again.
    const again = raw(token).workItems();
    expect((await within(again.closed(), "the reopened stream to be refused"))?.code).toBe(UNAUTHENTICATED);
  });
});

describe("an SDK worker whose token expires", () => {
  test("has its stream closed, reconnects with a new token from its metadata generator, and keeps working", async () => {
    let expired!: () => void;
    const streamClosed = new Promise<void>((resolve) => (expired = resolve));
    class ExpiryWatcher extends NoOpLogger {
      logEvent(_level: string, _event: unknown, message: string): void {
        if (/expired: reconnect with a new token/.test(message)) expired();
      }
      error(message: string): void {
        if (/expired: reconnect with a new token/.test(String(message))) expired();
      }
      info(message: string): void {
        if (/expired: reconnect with a new token/.test(String(message))) expired();
      }
    }
    // A new token from the identity provider for every call: 2-second ones until the first expiry was
    // seen, then hour-long ones, so the reconnected stream stays (the SDK's retry loop must not race the test's end).
    let shortLived = true;
    const w = retriesEndAtStop(new TaskHubGrpcWorker({
      hostAddress: dts.address, logger: new ExpiryWatcher(), shutdownTimeoutMs: 2000,
      metadataGenerator: async () => {
        const md = new grpc.Metadata();
        md.set("taskhub", "a");
        md.set("authorization", `Bearer ${await idp.token(shortLived ? "short-lived-app" : "worker-app")}`);
        return md;
      },
    }));
    w.addOrchestrator(hello);
    w.addActivity(greet);
    await w.start();
    try {
      await within(streamClosed, "the worker's stream to be closed at its token's expiry", 15_000);
      shortLived = false;
      const c = sdkClient(tokens["contributor-app"], "a");
      const id = await c.scheduleNewOrchestration(hello, "Lima");
      expect((await completed(c, id)).serializedOutput).toBe(JSON.stringify("Hello, Lima!"));
    } finally {
      await w.stop();
    }
  });
});

describe("every RPC of every service against the role table", () => {
  const services: [string, grpc.ServiceDefinition][] = [
    ["TaskHubSidecarService", sidecarDefinition],
    ["durabletask.protos.backend.v1.BackendService", backendDefinition],
    ["dts.v1.CompletionStream", completionStreamDefinition],
  ];
  const principalOf: Record<Role, string> = { [READER]: "reader-app", [WORKER]: "worker-app", [CONTRIBUTOR]: "contributor-app" };

  /** The status code a call ends with, or "opened" for a stream the server accepted. */
  async function outcome(r: RawClient, method: string, attrs: grpc.MethodDefinition<unknown, unknown>): Promise<number | "opened"> {
    if (!attrs.responseStream) return r.call(method, {}).then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code);
    // A bidirectional stream (the completion stream) takes no first request.
    const call = (attrs.requestStream ? r.grpc[method](r.metadata()) : r.grpc[method]({}, r.metadata())) as grpc.ClientReadableStream<unknown>;
    const result = await new Promise<number | "opened">((resolve) => {
      call.on("metadata", () => resolve("opened"));
      call.on("error", (e: grpc.ServiceError) => resolve(e.code));
      call.on("data", () => resolve("opened"));
      call.on("end", () => resolve(grpc.status.OK));
    });
    call.cancel();
    return result;
  }

  test("the table names every RPC, and nothing else", () => {
    for (const [name, def] of services) expect(Object.keys(PERMISSIONS[name]).sort()).toEqual(Object.keys(def).sort());
  });

  for (const [name, def] of services) {
    test(`${name}: no token is UNAUTHENTICATED; each role gets PERMISSION_DENIED exactly below the RPC's role`, async () => {
      const rows: string[] = [];
      for (const [method, attrs] of Object.entries(def)) {
        const needed = PERMISSIONS[name][method];
        // A hub that does not exist: an allowed call reaches the engine and fails there (NOT_FOUND), touching nothing.
        const anonymous = await outcome(raw(undefined, "no-such-hub", def), method, attrs);
        if (anonymous !== UNAUTHENTICATED) rows.push(`${method} without a token: ${anonymous}`);
        for (const role of ROLES) {
          const got = await outcome(raw(tokens[principalOf[role]], "no-such-hub", def), method, attrs);
          const allowed = includes(role, needed.role);
          if (allowed ? got === PERMISSION_DENIED || got === UNAUTHENTICATED : got !== PERMISSION_DENIED) rows.push(`${method} as ${role}: ${got}`);
        }
      }
      expect(rows).toEqual([]);
    });
  }
});

describe("clients with a token from a file or a command (self-hosted identity providers)", () => {
  test("the Functions host path: the sample app runs HelloCities with a Worker token from TokenFilePath", async () => {
    const file = path.join(dir, "worker.token");
    fs.writeFileSync(file, tokens["worker-app"]);
    const host = await startFuncHost(REPO_ROOT, {
      // Hub b: the SDK worker of the first test serves other orchestrations on the default hub.
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=http://localhost:${dts.port};TaskHub=b;Authentication=TokenFile;TokenFilePath=${file}`,
      TASKHUB_NAME: "b",
    });
    try {
      const r = await http("POST", `${host.origin}/api/orchestrators/HelloCities`);
      expect(r.status).toBe(202);
      const done = await pollStatus(r.body.statusQueryGetUri);
      expect(done.body.runtimeStatus).toBe("Completed");
      // The management API's purge needs Contributor: the app's Worker token is refused, and the API says so.
      const purge = await http("DELETE", r.body.purgeHistoryDeleteUri);
      expect(purge.status).toBe(403);
    } finally {
      expect(await host.stop()).toBe(0);
    }
  });

  test("dts durable and dts scale status with TokenCommand; a Reader's terminate exits with code 5", async () => {
    const file = path.join(dir, "reader.token");
    fs.writeFileSync(file, tokens["reader-app"]);
    const cs = `Endpoint=http://localhost:${dts.port};TaskHub=default;Authentication=TokenCommand;TokenCommand="cat '${file}'"`;
    const status = await runCli(["scale", "status", "--connection-string", cs, "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: "ok" });
    const list = await runCli(["durable", "get-instances", "--connection-string", cs, "--json"]);
    expect(list.code).toBe(0);
    const terminate = await runCli(["durable", "terminate", "--id", "x", "--connection-string", cs]);
    expect(terminate.code).toBe(5);
    expect(terminate.stderr).toMatch(/Durable Task Worker or above on task hub 'default'/);
    const none = await runCli(["durable", "get-instances", "--connection-string", `Endpoint=http://localhost:${dts.port};TaskHub=default;Authentication=None`]);
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/requires a bearer token/);
  });
});

describe("--auth-jwks", () => {
  test("a fixed key set file: tokens signed with its keys are accepted from any issuer, others refused", async () => {
    const config = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
    const file = path.join(dir, "jwks.json");
    fs.writeFileSync(file, await (await fetch(config.jwks_uri)).text());
    const fixed = await startDts(["--store", "memory", "--auth-jwks", file, "--role-assignments", assignmentsFile]);
    try {
      const c = new TaskHubGrpcClient({ hostAddress: fixed.address, logger: new NoOpLogger(), metadataGenerator: bearer(() => tokens["reader-app"]) });
      clients.push(c);
      expect(await c.getOrchestrationState("x")).toBeUndefined();
      const foreign = await idp.crafted({ sub: "reader-app", iss: "https://elsewhere.example" });
      const withOtherKey = await idp.crafted({ sub: "reader-app" }, "other");
      const refused = new TaskHubGrpcClient({ hostAddress: fixed.address, logger: new NoOpLogger(), metadataGenerator: bearer(() => withOtherKey) });
      clients.push(refused);
      expect((await grpcCode(refused.getOrchestrationState("x"))).code).toBe(UNAUTHENTICATED);
      const fromElsewhere = new TaskHubGrpcClient({ hostAddress: fixed.address, logger: new NoOpLogger(), metadataGenerator: bearer(() => foreign) });
      clients.push(fromElsewhere);
      expect(await fromElsewhere.getOrchestrationState("x")).toBeUndefined();
    } finally {
      await fixed.stop();
      fs.rmSync(fixed.dataDir, { recursive: true, force: true });
    }
  });

  test("an http:// issuer that is not on a loopback address is refused at start", async () => {
    const r = await runCli(["serve", "--port", "0", "--store", "memory", "--auth-issuer", "http://idp.example.com"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must be https:\/\/ \(http:\/\/ is accepted only on a loopback address/);
  });
});

describe("listening", () => {
  test("with auth on and no --host, every interface; without auth, loopback only, and a warning when exposed", async () => {
    expect(dts.output()).toMatch(/gRPC listening on 0\.0\.0\.0:/);
    // With auth on and no --dashboard-client-id, the dashboard takes bearer tokens only (its sign-in is tested in dashboard-sign-in.test.ts).
    expect(dts.output()).toMatch(/dts: dashboard at http:\/\/localhost:\d+\/ \(auth on and sign-in off/);
    const local = await startDts(["--store", "memory"]);
    const exposed = await startDts(["--store", "memory", "--host", "0.0.0.0"]);
    try {
      expect(local.output()).toMatch(/gRPC listening on localhost:/);
      expect(local.output()).not.toMatch(/without authentication/);
      await pollUntil(async () => exposed.output(), (o) => /warning: listening on 0\.0\.0\.0 without authentication/.test(o), "the warning");
    } finally {
      await Promise.all([local.stop(), exposed.stop()]);
      for (const p of [local, exposed]) fs.rmSync(p.dataDir, { recursive: true, force: true });
    }
  });
});
