// Starts the test OpenID Connect provider (identity-provider-main.ts) in a child process and asks it
// for tokens: real client-credentials grants, and crafted tokens for the negative cases.
import { ChildProcess } from "child_process";
import * as path from "path";
import { spawnCli } from "./dts-process";

export interface TestClient {
  id: string;
  ttl?: number;
  roles?: string[];
  /** A browser sign-in client: authorization code + PKCE, sent back to these URIs. */
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
}

export interface IdentityProvider {
  issuer: string;
  proc: ChildProcess;
  /** A client-credentials access token for `clientId` (audience https://durabletask.io unless `resource` says otherwise). */
  token(clientId: string, resource?: string): Promise<string>;
  /** A token made by hand: `claims` over the defaults (this issuer, the audience, valid 10 min), signed as `key` says. */
  crafted(claims: Record<string, unknown>, key?: "issuer" | "other" | "rotated" | "none", alg?: string, kid?: string): Promise<string>;
  /** Publishes a second signing key (kid k2) beside the first. */
  rotate(): Promise<void>;
  /** How often the provider's key set was read. */
  jwksFetches(): Promise<number>;
  stop(): Promise<unknown>;
}

export async function startIdentityProvider(clients: TestClient[]): Promise<IdentityProvider> {
  const main = path.resolve(__dirname, "identity-provider-main.js");
  // spawnCli with node as the executable runs the script; the pattern's group is the port.
  const p = await spawnCli([main, JSON.stringify(clients)], /identity provider listening on http:\/\/localhost:(\d+)/, { cli: process.execPath });
  const issuer = `http://localhost:${p.port}`;
  return {
    issuer,
    proc: p.proc,
    token: async (clientId, resource = "https://durabletask.io") => {
      const res = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${clientId}:secret`).toString("base64")}` },
        body: new URLSearchParams({ grant_type: "client_credentials", resource }).toString(),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`token for ${clientId}: ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    crafted: async (claims, key = "issuer", alg, kid) => {
      const res = await fetch(`${issuer}/test/sign`, { method: "POST", body: JSON.stringify({ claims, key, alg, kid }) });
      if (!res.ok) throw new Error(`crafting a token: ${await res.text()}`);
      return res.text();
    },
    rotate: async () => {
      const res = await fetch(`${issuer}/test/rotate`, { method: "POST" });
      if (!res.ok) throw new Error(`rotating the keys: ${await res.text()}`);
    },
    jwksFetches: async () => Number(await (await fetch(`${issuer}/test/jwks-fetches`)).text()),
    stop: () => p.stop(),
  };
}
