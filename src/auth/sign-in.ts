// The dashboard's sign-in: OpenID Connect authorization code with PKCE against the first trusted
// issuer. The ID token is checked by the same verifier as bearer tokens (audience: the dashboard's
// client id) and its claims become a caller through the same access decision, so a person signed in
// has exactly the roles a token with their `oid`/`sub` would have on gRPC.
import { createHash, randomBytes } from "crypto";
import { SchedulerError } from "../core/errors";
import { Caller, TokenAccess } from "./access";
import { OpenIdConfiguration, readOpenIdConfiguration } from "./discovery";
import { TokenVerifier, unauthenticated } from "./token-verifier";

export interface SignInSettings {
  clientId: string;
  /** For providers that register the dashboard as a confidential client; PKCE alone otherwise. */
  clientSecret?: string;
}

/** What the browser keeps (sealed, HttpOnly) between leaving for the provider and coming back. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  /** The dashboard path to go back to. */
  returnTo: string;
}

export interface SignedIn {
  caller: Caller;
  /** Who, for the page header: name, preferred_username, email or sub. */
  name: string;
  idToken: string;
  /** When the ID token expires (ms since the epoch); the session ends then. */
  expiresAt: number;
}

const random = () => randomBytes(32).toString("base64url");

export class OidcSignIn {
  private config?: Promise<OpenIdConfiguration>;

  constructor(
    readonly issuer: string,
    private readonly settings: SignInSettings,
    private readonly verifier: TokenVerifier,
    private readonly access: TokenAccess,
  ) {}

  get clientId(): string {
    return this.settings.clientId;
  }

  /** The issuer's endpoints, read once (again after a failure). */
  private configuration(): Promise<OpenIdConfiguration> {
    if (!this.config) {
      const discovery = this.verifier.discoveryOf(this.issuer) ?? `${this.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
      this.config = readOpenIdConfiguration(discovery, this.issuer);
      this.config.catch(() => (this.config = undefined));
    }
    return this.config;
  }

  /** Where to send the browser to sign in, and what it must bring back. */
  async begin(redirectUri: string, returnTo: string): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.configuration();
    if (!config.authorization_endpoint) throw new SchedulerError("UNAVAILABLE", `${this.issuer} publishes no authorization_endpoint: it cannot sign people in`);
    const pending: PendingSignIn = { state: random(), nonce: random(), verifier: random(), redirectUri, returnTo };
    const url = new URL(config.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: "code", client_id: this.settings.clientId, redirect_uri: redirectUri, scope: "openid profile email",
      state: pending.state, nonce: pending.nonce,
      code_challenge: createHash("sha256").update(pending.verifier).digest("base64url"), code_challenge_method: "S256",
    }).toString();
    return { url: url.toString(), pending };
  }

  /** The provider's answer at the redirect URI: the code exchanged and its ID token checked. */
  async finish(query: URLSearchParams, pending: PendingSignIn): Promise<SignedIn> {
    if (query.get("state") !== pending.state) throw unauthenticated("This sign-in answer does not belong to the sign-in this browser started (state does not match): sign in again");
    const error = query.get("error");
    if (error) throw unauthenticated(`The identity provider refused the sign-in (${error}${query.get("error_description") ? `: ${query.get("error_description")}` : ""})`);
    const code = query.get("code");
    if (!code) throw unauthenticated("The identity provider's answer has no code: sign in again");
    const config = await this.configuration();
    if (!config.token_endpoint) throw new SchedulerError("UNAVAILABLE", `${this.issuer} publishes no token_endpoint: it cannot sign people in`);
    const idToken = await this.exchange(config.token_endpoint, code, pending);
    const claims = await this.verifier.verify(idToken, [this.settings.clientId]);
    if (claims.nonce !== pending.nonce) throw unauthenticated("The ID token was not issued for this sign-in (nonce does not match): sign in again");
    const name = [claims.name, claims.preferred_username, claims.email, claims.sub].find((v): v is string => typeof v === "string" && v !== "") ?? "signed in";
    return { caller: this.access.fromClaims(claims, this.settings.clientId), name, idToken, expiresAt: (claims.exp as number) * 1000 };
  }

  private async exchange(tokenEndpoint: string, code: string, pending: PendingSignIn): Promise<string> {
    const { clientId, clientSecret } = this.settings;
    const form = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: pending.redirectUri, code_verifier: pending.verifier, client_id: clientId });
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if (clientSecret !== undefined) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64")}`;
    let body: { id_token?: unknown; error?: unknown; error_description?: unknown };
    try {
      const res = await fetch(tokenEndpoint, { method: "POST", headers, body: form.toString(), signal: AbortSignal.timeout(10_000) });
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new SchedulerError("UNAVAILABLE", `The identity provider's token endpoint did not answer (${(err as Error).message}); try again`);
    }
    if (typeof body.id_token !== "string") {
      const why = typeof body.error === "string" ? `${body.error}${typeof body.error_description === "string" ? `: ${body.error_description}` : ""}` : "no id_token";
      throw unauthenticated(`The identity provider did not complete the sign-in (${why}); check --dashboard-client-id${this.settings.clientSecret === undefined ? " (and --dashboard-client-secret-file if the provider registered a confidential client)" : ""}`);
    }
    return body.id_token;
  }

  /** The provider's sign-out page for this session, when it has one. */
  async endSessionUrl(idToken: string, postLogoutRedirectUri: string): Promise<string | undefined> {
    const config = await this.configuration().catch(() => undefined);
    if (!config?.end_session_endpoint) return undefined;
    const url = new URL(config.end_session_endpoint);
    url.search = new URLSearchParams({ id_token_hint: idToken, client_id: this.settings.clientId, post_logout_redirect_uri: postLogoutRedirectUri }).toString();
    return url.toString();
  }
}
