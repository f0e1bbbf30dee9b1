// `npm run bench -- --auth`: the same paths with authentication on. A real OpenID Connect provider
// (the tests' oidc-provider process) issues a Worker token for the worker processes and the functions
// host and a Contributor token for the bench's client; the scheduler checks them on every call.
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { tempDir } from "../helpers/dts-process";
import { IdentityProvider, startIdentityProvider } from "../helpers/identity-provider";
import { track } from "./procfs";
import type { BenchAuth } from "./targets";

/** Metadata that carries `authorization: Bearer <token>` on every call. */
export function bearerMetadata(token: string): () => Promise<grpc.Metadata> {
  return async () => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    return md;
  };
}

export async function startBenchAuth(): Promise<{ auth: BenchAuth; idp: IdentityProvider; dir: string }> {
  const idp = await startIdentityProvider([{ id: "bench-worker" }, { id: "bench-client" }]);
  track(idp.proc);
  const dir = tempDir("dts-bench-auth-");
  const assignments = path.join(dir, "roles.json");
  fs.writeFileSync(assignments, JSON.stringify([
    { principal: "bench-worker", role: "Durable Task Worker", scope: "*" },
    { principal: "bench-client", role: "Durable Task Data Contributor", scope: "*" },
  ]));
  const [workerToken, clientToken] = [await idp.token("bench-worker"), await idp.token("bench-client")];
  const workerTokenFile = path.join(dir, "worker.token");
  fs.writeFileSync(workerTokenFile, workerToken);
  return { idp, dir, auth: { serveArgs: ["--auth-issuer", idp.issuer, "--role-assignments", assignments], workerToken, clientToken, workerTokenFile } };
}
