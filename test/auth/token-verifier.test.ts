// The token verifier's trusted issuers, without the network: --auth-tenant's two Entra ID issuers share
// the v2 discovery document (Entra's v1 issuer has no document of its own that names it).
import { AuthConfigError } from "../../src/auth";
import { TokenVerifier } from "../../src/auth/token-verifier";

const AUDIENCES = ["https://durabletask.io"];

test("--auth-tenant trusts sts.windows.net/<id>/ and login.microsoftonline.com/<id>/v2.0, both keyed by the v2 discovery document", () => {
  const v = new TokenVerifier({ issuers: [], tenant: "contoso-id", audiences: AUDIENCES });
  const v2Discovery = "https://login.microsoftonline.com/contoso-id/v2.0/.well-known/openid-configuration";
  expect(v.discoveryOf("https://login.microsoftonline.com/contoso-id/v2.0")).toBe(v2Discovery);
  expect(v.discoveryOf("https://sts.windows.net/contoso-id/")).toBe(v2Discovery);
  expect(v.discoveryOf("https://sts.windows.net/other-tenant/")).toBeUndefined();
  expect(v.discoveryOf("https://login.microsoftonline.com/contoso-id/v2.0/")).toBeUndefined();
  // The dashboard's sign-in goes to the v2 issuer.
  expect(v.firstIssuer).toBe("https://login.microsoftonline.com/contoso-id/v2.0");
});

test("--auth-issuer comes first for sign-in; a tenant id is escaped into its URLs", () => {
  const v = new TokenVerifier({ issuers: ["https://idp.example.com/realms/x"], tenant: "a/b", audiences: AUDIENCES });
  expect(v.firstIssuer).toBe("https://idp.example.com/realms/x");
  expect(v.discoveryOf("https://idp.example.com/realms/x")).toBe("https://idp.example.com/realms/x/.well-known/openid-configuration");
  expect(v.discoveryOf("https://sts.windows.net/a%2Fb/")).toBe("https://login.microsoftonline.com/a%2Fb/v2.0/.well-known/openid-configuration");
});

test("plaintext issuers only on loopback; no issuer and no key set is a configuration error", () => {
  expect(() => new TokenVerifier({ issuers: ["http://idp.example.com"], audiences: AUDIENCES })).toThrow(AuthConfigError);
  expect(() => new TokenVerifier({ issuers: ["http://127.0.0.1:9000"], audiences: AUDIENCES })).not.toThrow();
  expect(() => new TokenVerifier({ issuers: [], audiences: AUDIENCES })).toThrow(/needs --auth-issuer, --auth-tenant or --auth-jwks/);
});
