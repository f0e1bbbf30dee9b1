// node dist/test/bench/auth-cost.js: what the access check adds to one gRPC call, measured on the
// guard alone (no sockets, so a loaded machine blurs it less than a whole HelloCities5 run):
// a call with a token seen before, and the first call with a new token (its RS256 signature check).
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { TokenAccess } from "../../src/auth/access";
import { loadJose } from "../../src/auth/jose";
import { TokenVerifier } from "../../src/auth/token-verifier";
import { sidecarDefinition } from "../../src/proto/services";
import { guardService } from "../../src/server/access-guard";
import { tempDir } from "../helpers/dts-process";

async function main(): Promise<void> {
  const jose = await loadJose();
  const { privateKey, publicKey } = await jose.generateKeyPair("RS256");
  const dir = tempDir("dts-auth-cost-");
  const jwks = path.join(dir, "jwks.json");
  fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k", alg: "RS256" }] }));
  const verifier = new TokenVerifier({ issuers: [], jwks, audiences: ["https://durabletask.io"] });
  const access = new TokenAccess({ verifier, assignments: () => [{ principal: "app", role: "Durable Task Worker", scope: "*" }], trustTokenRoles: false });
  const sign = (i: number) => new jose.SignJWT({ sub: "app", aud: "https://durabletask.io", n: i })
    .setProtectedHeader({ alg: "RS256", kid: "k" }).setIssuedAt().setExpirationTime("1h").sign(privateKey);

  let answered = 0;
  const handlers: grpc.UntypedServiceImplementation = { CompleteActivityTask: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}) };
  const guarded = guardService(sidecarDefinition, handlers, access).CompleteActivityTask as (call: unknown, cb: grpc.sendUnaryData<unknown>) => void;
  const open = handlers.CompleteActivityTask as (call: unknown, cb: grpc.sendUnaryData<unknown>) => void;
  const callWith = (token: string) => {
    const metadata = new grpc.Metadata();
    metadata.set("taskhub", "default");
    metadata.set("authorization", `Bearer ${token}`);
    return { metadata, request: {} };
  };
  const done: grpc.sendUnaryData<unknown> = (err) => {
    if (err) throw new Error(`refused: ${err.details}`);
    answered++;
  };

  const token = await sign(0);
  const call = callWith(token);
  await new Promise<void>((resolve) => guarded(call, (e, r) => (done(e, r), resolve())));
  const N = 200_000;
  const time = (fn: (c: unknown, cb: grpc.sendUnaryData<unknown>) => void) => {
    const t0 = process.hrtime.bigint();
    // A fresh Metadata per call, as grpc-js builds one for every request.
    for (let i = 0; i < N; i++) fn(callWith(token), done);
    return Number(process.hrtime.bigint() - t0) / N / 1000;
  };
  for (let round = 0; round < 3; round++) {
    const bare = time(open);
    const checked = time(guarded);
    console.log(`known token: ${(checked - bare).toFixed(2)} µs per call added (guarded ${checked.toFixed(2)} µs, bare ${bare.toFixed(2)} µs; ${N} calls)`);
  }
  const fresh = await Promise.all(Array.from({ length: 500 }, (_, i) => sign(i + 1)));
  const t0 = process.hrtime.bigint();
  for (const t of fresh) await new Promise<void>((resolve) => guarded(callWith(t), (e, r) => (done(e, r), resolve())));
  console.log(`new token: ${(Number(process.hrtime.bigint() - t0) / fresh.length / 1e6).toFixed(3)} ms for its first call (RS256 verify; ${fresh.length} tokens)`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
