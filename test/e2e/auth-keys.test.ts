// End-to-end: where token signing keys come from (issue #15). An issuer that rotates its key: a token
// with the new `kid` is accepted after one refetch of the key set, and the key set is fetched at most
// once a minute however many unknown kids arrive (the scheduler's clock is moved on by a test shim
// instead of waiting a minute). --auth-tenant: both Entra ID issuers of the tenant are trusted.
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { NoOpLogger, TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { READER } from "../../src/auth/roles";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { IdentityProvider, startIdentityProvider } from "../helpers/identity-provider";
import { pollUntil } from "../helpers/poll";

let idp: IdentityProvider;
let dir: string;
let roles: string;
const processes: DtsProcess[] = [];
const clients: TaskHubGrpcClient[] = [];

beforeAll(async () => {
  idp = await startIdentityProvider([{ id: "reader-app" }]);
  dir = tempDir("dts-auth-keys-");
  roles = path.join(dir, "roles.json");
  fs.writeFileSync(roles, JSON.stringify([{ principal: "reader-app", role: READER, scope: "*" }, { principal: "rotated", role: READER, scope: "*" }]));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  for (const p of processes) {
    await p.stop();
    fs.rmSync(p.dataDir, { recursive: true, force: true });
  }
  await idp?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(args: string[], nodeArgs: string[] = []): Promise<DtsProcess> {
  const dashboard = args.includes("--dashboard-port") ? [] : ["--no-dashboard"];
  const p = await startDts(["--store", "memory", ...dashboard, "--role-assignments", roles, ...args], { nodeArgs });
  processes.push(p);
  return p;
}

/** A read (GetInstance) with `token`: undefined when allowed (no such instance), else the refusal. */
async function read(p: DtsProcess, token: string): Promise<grpc.ServiceError | undefined> {
  const c = new TaskHubGrpcClient({
    hostAddress: p.address, logger: new NoOpLogger(),
    metadataGenerator: async () => {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${token}`);
      return md;
    },
  });
  clients.push(c);
  return c.getOrchestrationState("nothing").then(() => undefined, (e: grpc.ServiceError) => e);
}

test("a rotated signing key: refused while the key set is fresh, accepted after one refetch a minute on, and no more fetches than one a minute", async () => {
  const dts = await serve(["--auth-issuer", idp.issuer], ["--require", path.resolve(__dirname, "../helpers/clock-shim.js")]);
  expect(await read(dts, await idp.token("reader-app"))).toBeUndefined();
  const fetchedAtStart = await idp.jwksFetches();
  expect(fetchedAtStart).toBe(1);

  await idp.rotate();
  const rotated = await idp.crafted({ sub: "rotated" }, "rotated");
  // Within the minute after the last fetch: the unknown kid is refused and the key set is not fetched again.
  const early = await read(dts, rotated);
  expect(early?.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(early?.details).toMatch(/signed with a key its issuer does not publish/);
  expect(await idp.jwksFetches()).toBe(fetchedAtStart);

  dts.proc.kill("SIGUSR2");
  await pollUntil(async () => dts.output(), (o) => /test clock: \+61 s/.test(o), "the scheduler's clock to move on a minute");
  expect(await read(dts, rotated)).toBeUndefined();
  expect(await idp.jwksFetches()).toBe(fetchedAtStart + 1);

  // Another unknown kid right after that refetch: refused without fetching again.
  const unknown = await idp.crafted({ sub: "rotated" }, "rotated", undefined, "k3");
  expect((await read(dts, unknown))?.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(await idp.jwksFetches()).toBe(fetchedAtStart + 1);
  // The old key still works: a rotation adds before it removes.
  expect(await read(dts, await idp.crafted({ sub: "rotated" }))).toBeUndefined();
});

test("--auth-tenant trusts the tenant's two Entra ID issuers (v1 and v2) and no other, and signs people in at v2", async () => {
  const dts = await serve(["--auth-tenant", "contoso-tenant", "--dashboard-client-id", "dashboard-app", "--dashboard-port", "0"]);
  expect(dts.output()).toMatch(/sign-in at https:\/\/login\.microsoftonline\.com\/contoso-tenant\/v2\.0 as client dashboard-app/);
  const foreign = await read(dts, await idp.crafted({ sub: "reader-app" }));
  expect(foreign?.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(foreign?.details).toContain("not issued by an issuer this scheduler trusts (https://login.microsoftonline.com/contoso-tenant/v2.0, https://sts.windows.net/contoso-tenant/)");
});
