// End-to-end: `dts serve --tls-cert --tls-key [--tls-client-ca]` (issue #15). A renewed certificate is
// served to new connections while open ones (a worker's stream among them) carry on; a broken renewal
// keeps the last good certificate; with a client CA, only clients with a certificate it signed get in.
// The KEDA scaler takes the same flags.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { sidecarDefinition } from "../../src/proto/services";
import { externalScalerDefinition } from "../../scale/keda/proto";
import { DtsProcess, runCli, spawnCli, startDts, tempDir } from "../helpers/dts-process";
import { http, pollStatus, REPO_ROOT, startFuncHost } from "../helpers/func-process";
import { pollUntil, within } from "../helpers/poll";

/* eslint-disable @typescript-eslint/no-explicit-any */

let dir: string;
const closers: (() => unknown)[] = [];

beforeAll(() => {
  dir = tempDir("dts-tls-");
  // Two certificate authorities, a server certificate for localhost from each, and a client certificate from the first.
  for (const ca of ["ca1", "ca2"]) openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${ca}`, "-keyout", f(`${ca}.key`), "-out", f(`${ca}.pem`)]);
  issue("server1", "ca1", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  issue("server2", "ca2", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  issue("client", "ca1", "worker", "extendedKeyUsage=clientAuth");
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

const f = (name: string) => path.join(dir, name);

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

function issue(name: string, ca: string, cn: string, ext: string): void {
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`)]);
  fs.writeFileSync(f(`${name}.ext`), ext + "\n");
  openssl(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f(`${ca}.pem`), "-CAkey", f(`${ca}.key`), "-CAcreateserial", "-days", "2", "-extfile", f(`${name}.ext`), "-out", f(`${name}.pem`)]);
}

/** Replaces a file the way renewals do: write beside it, then rename over it. */
function replace(file: string, content: Buffer | string): void {
  fs.writeFileSync(file + ".new", content);
  fs.renameSync(file + ".new", file);
}

function sidecar(port: number, trust: string, client?: string): grpc.Client & Record<string, any> {
  const Ctor = grpc.makeGenericClientConstructor(sidecarDefinition as any, "Sidecar");
  const creds = grpc.credentials.createSsl(fs.readFileSync(f(`${trust}.pem`)), client ? fs.readFileSync(f(`${client}.key`)) : null, client ? fs.readFileSync(f(`${client}.pem`)) : null);
  const c = new Ctor(`localhost:${port}`, creds) as any;
  closers.push(() => c.close());
  return c;
}

function hello(c: grpc.Client & Record<string, any>): Promise<number> {
  return new Promise((resolve) => c.Hello({}, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK)));
}

async function serve(args: string[]): Promise<DtsProcess> {
  const p = await startDts(["--store", "memory", ...args]);
  closers.push(async () => {
    await p.stop();
    fs.rmSync(p.dataDir, { recursive: true, force: true });
  });
  return p;
}

test("a renewed certificate reaches new connections without dropping open ones; a broken renewal keeps the last good one", async () => {
  fs.copyFileSync(f("server1.pem"), f("tls.pem"));
  fs.copyFileSync(f("server1.key"), f("tls.key"));
  const dts = await serve(["--tls-cert", f("tls.pem"), "--tls-key", f("tls.key")]);
  expect(dts.output()).toMatch(/gRPC listening on localhost:\d+ \(TaskHubSidecarService, BackendService; TLS\)/);

  const old = sidecar(dts.port, "ca1");
  expect(await hello(old)).toBe(grpc.status.OK);
  const stream = old.GetWorkItems({}, new grpc.Metadata()) as grpc.ClientReadableStream<unknown>;
  let streamEnded = false;
  stream.on("error", () => (streamEnded = true));
  stream.on("end", () => (streamEnded = true));
  await within(new Promise((resolve) => stream.once("metadata", resolve)), "the work item stream to open");

  // The renewal: key first, then the certificate (each renamed into place).
  replace(f("tls.key"), fs.readFileSync(f("server2.key")));
  replace(f("tls.pem"), fs.readFileSync(f("server2.pem")));
  await pollUntil(async () => dts.output(), (o) => /TLS certificate reloaded/.test(o), "the certificate to be reloaded");
  expect(await hello(sidecar(dts.port, "ca2"))).toBe(grpc.status.OK);
  expect(await hello(sidecar(dts.port, "ca1"))).toBe(grpc.status.UNAVAILABLE);
  // The connection opened before the renewal is still the same, working one.
  expect(await hello(old)).toBe(grpc.status.OK);
  expect(streamEnded).toBe(false);
  stream.cancel();

  replace(f("tls.pem"), "not a certificate");
  await pollUntil(async () => dts.output(), (o) => /TLS files not reloaded: .*tls\.pem and .*tls\.key do not load/.test(o), "the broken renewal to be logged");
  expect(await hello(sidecar(dts.port, "ca2"))).toBe(grpc.status.OK);
});

test("--tls-client-ca: only clients with a certificate from that CA get in", async () => {
  const dts = await serve(["--tls-cert", f("server1.pem"), "--tls-key", f("server1.key"), "--tls-client-ca", f("ca1.pem")]);
  expect(dts.output()).toMatch(/TLS, client certificates required/);
  expect(await hello(sidecar(dts.port, "ca1", "client"))).toBe(grpc.status.OK);
  expect(await hello(sidecar(dts.port, "ca1"))).toBe(grpc.status.UNAVAILABLE);
});

test("clients reach a TLS scheduler at an https:// endpoint, trusting a private CA through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", async () => {
  const dts = await serve(["--tls-cert", f("server1.pem"), "--tls-key", f("server1.key")]);
  const cs = `Endpoint=https://localhost:${dts.port};TaskHub=default;Authentication=None`;
  const trusted = await runCli(["durable", "get-instances", "--connection-string", cs, "--json"], { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: f("ca1.pem") });
  expect(trusted.code).toBe(0);
  expect(JSON.parse(trusted.stdout)).toMatchObject({ taskHub: "default", instances: [] });
  const untrusted = await runCli(["durable", "get-instances", "--connection-string", cs, "--timeout", "3"]);
  expect(untrusted.code).toBe(4);
  expect(untrusted.stderr).toMatch(/unable to verify the first certificate/);
});

test("our own clients (dts durable, dts scale, the Functions host and its provider adapter) present DTS_CLIENT_CERT and DTS_CLIENT_KEY for mutual TLS", async () => {
  const dts = await serve(["--tls-cert", f("server1.pem"), "--tls-key", f("server1.key"), "--tls-client-ca", f("ca1.pem")]);
  const cs = `Endpoint=https://localhost:${dts.port};TaskHub=default;Authentication=None`;
  const env = { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: f("ca1.pem"), DTS_CLIENT_CERT: f("client.pem"), DTS_CLIENT_KEY: f("client.key") };
  const list = await runCli(["durable", "get-instances", "--connection-string", cs, "--json"], env);
  expect([list.code, list.stderr]).toEqual([0, ""]);
  const status = await runCli(["scale", "status", "--connection-string", cs, "--json"], env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ state: "ok" });
  // Without the certificate the scheduler ends the handshake.
  const without = await runCli(["durable", "get-instances", "--connection-string", cs, "--timeout", "3"], { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: f("ca1.pem") });
  expect(without.code).toBe(4);
  // Half a pair, or a file that is not there: exit code 2 naming the variable.
  const half = await runCli(["durable", "get-instances", "--connection-string", cs], { ...env, DTS_CLIENT_KEY: "" });
  expect(half.code).toBe(2);
  expect(half.stderr).toMatch(/DTS_CLIENT_CERT and DTS_CLIENT_KEY go together/);
  const missing = await runCli(["scale", "status", "--connection-string", cs], { ...env, DTS_CLIENT_KEY: f("no-such.key") });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/DTS_CLIENT_KEY names '.*no-such\.key', which cannot be read \(ENOENT\)/);

  const host = await startFuncHost(REPO_ROOT, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: cs, TASKHUB_NAME: "default", ...env });
  closers.push(() => host.stop());
  const r = await http("POST", `${host.origin}/api/orchestrators/HelloCities`);
  expect(r.status).toBe(202);
  expect((await pollStatus(r.body.statusQueryGetUri)).body.runtimeStatus).toBe("Completed");
});

/** The dashboard's answer over TLS trusting `trust`'s CA (with `client`'s certificate): the HTTP status, or the TLS error's code. */
function dashboardGet(port: number, trust: string, client?: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get({
      host: "localhost", port, path: "/", ca: fs.readFileSync(f(`${trust}.pem`)),
      key: client ? fs.readFileSync(f(`${client}.key`)) : undefined, cert: client ? fs.readFileSync(f(`${client}.pem`)) : undefined,
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test("the dashboard is served over TLS with the same files, renewed with them; with a client CA it requires client certificates too", async () => {
  fs.copyFileSync(f("server1.pem"), f("dash.pem"));
  fs.copyFileSync(f("server1.key"), f("dash.key"));
  const dts = await serve(["--tls-cert", f("dash.pem"), "--tls-key", f("dash.key")]);
  expect(dts.output()).toMatch(/dts: dashboard at https:\/\/localhost:\d+\//);
  expect(await dashboardGet(dts.dashboardPort!, "ca1")).toBe(200);
  expect(await dashboardGet(dts.dashboardPort!, "ca2")).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  replace(f("dash.key"), fs.readFileSync(f("server2.key")));
  replace(f("dash.pem"), fs.readFileSync(f("server2.pem")));
  await pollUntil(() => dashboardGet(dts.dashboardPort!, "ca2"), (s) => s === 200, "the dashboard to serve the renewed certificate");

  const mutual = await serve(["--tls-cert", f("server1.pem"), "--tls-key", f("server1.key"), "--tls-client-ca", f("ca1.pem")]);
  expect(await dashboardGet(mutual.dashboardPort!, "ca1", "client")).toBe(200);
  expect(await dashboardGet(mutual.dashboardPort!, "ca1")).not.toBe(200);
});

test("bad TLS flags stop the start with exit code 2", async () => {
  const only = await runCli(["serve", "--port", "0", "--store", "memory", "--tls-cert", f("server1.pem")]);
  expect(only.code).toBe(2);
  expect(only.stderr).toMatch(/--tls-cert and --tls-key go together/);
  const mismatched = await runCli(["serve", "--port", "0", "--store", "memory", "--tls-cert", f("server1.pem"), "--tls-key", f("server2.key")]);
  expect(mismatched.code).toBe(2);
  expect(mismatched.stderr).toMatch(/do not load as a certificate and its private key/);
});

test("the KEDA scaler serves TLS with the same flags", async () => {
  const p = await spawnCli(["scale", "keda", "--port", "0", "--host", "localhost", "--tls-cert", f("server1.pem"), "--tls-key", f("server1.key")],
    /listening on [^:]+:(\d+)/);
  closers.push(() => p.stop());
  expect(p.output()).toMatch(/\(TLS\)/);
  const Ctor = grpc.makeGenericClientConstructor(externalScalerDefinition as any, "Scaler");
  const c = new Ctor(`localhost:${p.port}`, grpc.credentials.createSsl(fs.readFileSync(f("ca1.pem")))) as any;
  closers.push(() => c.close());
  // No scheduler is configured: the call gets through TLS and is answered (INVALID_ARGUMENT/FAILED_PRECONDITION), not UNAVAILABLE.
  const code = await new Promise<number>((resolve) => c.GetMetricSpec({ scalerMetadata: {} }, (err: grpc.ServiceError | null) => resolve(err ? err.code : 0)));
  expect(code).not.toBe(grpc.status.UNAVAILABLE);
});
