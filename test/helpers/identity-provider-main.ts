// A real OpenID Connect provider (oidc-provider) for the auth tests, run as its own node process:
// oidc-provider and jose are ES modules, which plain Node loads from CommonJS and jest does not.
// It issues client-credentials access tokens (JWT, RS256) for the clients named on the command line,
// signs people in (its development login and consent pages: any login name, any password; the login
// name becomes `sub`) for clients with redirect URIs, and at POST /test/sign makes the tokens no
// honest issuer would (expired, foreign key, alg none...) so the tests can show each is refused.
// POST /test/rotate publishes a second signing key (kid k2) beside the first; GET /test/jwks-fetches
// counts how often its key set was read.
import * as http from "http";
import * as jose from "jose";

interface ClientSpec {
  id: string;
  /** Access token lifetime in seconds (default 3600). */
  ttl?: number;
  /** App roles put in the token's `roles` claim. */
  roles?: string[];
  /** A browser sign-in client (authorization code + PKCE, no secret) sent back to these URIs. */
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
}

export const AUDIENCE = "https://durabletask.io";

async function main(): Promise<void> {
  const clients = JSON.parse(process.argv[2] ?? "[]") as ClientSpec[];
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: "k1", alg: "RS256", use: "sig" };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingJwk;
  // Same kid, another key: a token signed with it names a published key but does not verify.
  const other = await jose.generateKeyPair("RS256", { extractable: true });
  // The key a rotation publishes (kid k2).
  const next = await jose.generateKeyPair("RS256", { extractable: true });
  const nextJwk = { ...(await jose.exportJWK(next.publicKey)), kid: "k2", alg: "RS256", use: "sig" };
  const published = [publicJwk as object];
  let jwksFetches = 0;

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://localhost:${(server.address() as { port: number }).port}`;

  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Provider } = require("oidc-provider") as { Provider: new (issuer: string, config: object) => { callback(): http.RequestListener } };
  const byId = new Map(clients.map((c) => [c.id, c]));
  const provider = new Provider(issuer, {
    clients: clients.map((c) => c.redirectUris
      ? { client_id: c.id, token_endpoint_auth_method: "none", grant_types: ["authorization_code"], response_types: ["code"], redirect_uris: c.redirectUris, post_logout_redirect_uris: c.postLogoutRedirectUris ?? [] }
      : { client_id: c.id, client_secret: "secret", grant_types: ["client_credentials"], redirect_uris: [], response_types: [] }),
    jwks: { keys: [signingJwk] },
    features: {
      clientCredentials: { enabled: true },
      // The library's own login and consent pages: a real form to fill in, for the dashboard's sign-in tests.
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => ({
          scope: "", audience: resource, accessTokenFormat: "jwt",
          accessTokenTTL: byId.get(client.clientId)?.ttl ?? 3600,
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => {
      const roles = token.clientId ? byId.get(token.clientId)?.roles : undefined;
      return roles ? { roles } : undefined;
    },
  });
  const oidc = provider.callback();

  server.on("request", (req, res) => {
    // The key set is served here (not by the library) so that a rotation can add a key while it runs.
    if (req.method === "GET" && req.url === "/jwks") {
      jwksFetches++;
      res.setHeader("content-type", "application/jwk-set+json");
      res.end(JSON.stringify({ keys: published }));
      return;
    }
    if (req.method === "POST" && req.url === "/test/rotate") {
      if (!published.includes(nextJwk)) published.push(nextJwk);
      res.end("rotated");
      return;
    }
    if (req.method === "GET" && req.url === "/test/jwks-fetches") {
      res.end(String(jwksFetches));
      return;
    }
    if (req.method === "POST" && req.url === "/test/sign") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        sign(JSON.parse(body), issuer, { k1: privateKey, other: other.privateKey, k2: next.privateKey }, publicJwk).then(
          (token) => res.end(token),
          (err: Error) => {
            res.statusCode = 500;
            res.end(err.message);
          });
      });
      return;
    }
    oidc(req, res);
  });
  process.stdout.write(`identity provider listening on ${issuer}\n`);
}

interface SignRequest {
  claims: jose.JWTPayload;
  /** "issuer" (the provider's own key, default), "other" (a key it never published under kid k1), "rotated" (kid k2), or "none" (unsigned). */
  key?: "issuer" | "other" | "rotated" | "none";
  /** The header's kid (default k1, or k2 for "rotated"). */
  kid?: string;
  alg?: string;
}

type Key = Awaited<ReturnType<typeof jose.generateKeyPair>>["privateKey"];

async function sign(r: SignRequest, issuer: string, keys: Record<"k1" | "other" | "k2", Key>, publicJwk: object): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer, aud: AUDIENCE, sub: "crafted", iat: now, exp: now + 600, ...r.claims };
  if (r.key === "none") return new jose.UnsecuredJWT(claims).encode();
  // HMAC "signed" with the issuer's public key as the secret: the classic algorithm confusion.
  const key = r.alg?.startsWith("HS") ? new TextEncoder().encode(JSON.stringify(publicJwk)) : r.key === "other" ? keys.other : r.key === "rotated" ? keys.k2 : keys.k1;
  const kid = r.kid ?? (r.key === "rotated" ? "k2" : "k1");
  return new jose.SignJWT(claims).setProtectedHeader({ alg: r.alg ?? "RS256", kid, typ: "at+jwt" }).sign(key);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
