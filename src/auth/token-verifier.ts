// Checks bearer tokens with jose: signature against the issuer's published keys, issuer, audience,
// expiry and not-before. Every refusal is UNAUTHENTICATED with a reason the caller can act on, and
// never repeats what the token says.
import * as fs from "fs";
import { SchedulerError } from "../core/errors";
import { readOpenIdConfiguration } from "./discovery";
import { Jose, loadJose } from "./jose";
import { isLoopbackUrl } from "./loopback";

/** Asymmetric only: `none` and HMAC (which a public key would "verify") are never accepted. */
export const ALGORITHMS = ["RS256", "ES256", "PS256"];
export const DEFAULT_AUDIENCE = "https://durabletask.io";
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;
/** jose refetches an issuer's keys on an unknown `kid`, but not more often than this. */
const KEY_REFETCH_COOLDOWN_MS = 60_000;

export interface TokenVerifierOptions {
  /** Trusted issuers; each one's keys come from OpenID Connect discovery unless `jwks` is given. */
  issuers: string[];
  /** A fixed key set (a JSON file or an http(s) URL) used instead of discovery. */
  jwks?: string;
  /** Entra ID tenant: trusts its v1 and v2 issuers, keys from the tenant's discovery document. */
  tenant?: string;
  audiences: string[];
  clockSkewSeconds?: number;
}

export class AuthConfigError extends Error {}

type KeySet = ReturnType<typeof Jose.createRemoteJWKSet> | ReturnType<typeof Jose.createLocalJWKSet>;
type Claims = Jose.JWTPayload;

/** An issuer and where its keys are found. */
interface TrustedIssuer {
  issuer: string;
  /** Discovery document URL; its jwks_uri gives the keys. */
  discovery: string;
  /** The issuer the discovery document must name (the Entra v1 issuer shares v2's document). */
  expectedInDocument: string;
}

export const unauthenticated = (reason: string) => new SchedulerError("UNAUTHENTICATED", reason);

export class TokenVerifier {
  private readonly trusted = new Map<string, TrustedIssuer>();
  private readonly keysByIssuer = new Map<string, Promise<KeySet>>();
  /** --auth-jwks: a URL, or the key set read from the file at start. */
  private readonly fixedKeySource?: URL | Jose.JSONWebKeySet;
  private fixedKeys?: KeySet;
  private readonly skew: number;

  constructor(private readonly options: TokenVerifierOptions) {
    this.skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    for (const issuer of options.issuers) this.trust(issuer, `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, issuer);
    if (options.tenant) {
      const t = encodeURIComponent(options.tenant);
      const v2 = `https://login.microsoftonline.com/${t}/v2.0`;
      const discovery = `${v2}/.well-known/openid-configuration`;
      this.trust(v2, discovery, v2);
      this.trust(`https://sts.windows.net/${t}/`, discovery, v2);
    }
    if (options.jwks) this.fixedKeySource = readKeySetSource(options.jwks);
    if (this.trusted.size === 0 && !this.fixedKeySource) throw new AuthConfigError("auth needs --auth-issuer, --auth-tenant or --auth-jwks");
    if (options.audiences.length === 0) throw new AuthConfigError("auth needs at least one --auth-audience");
  }

  get clockSkewSeconds(): number {
    return this.skew;
  }

  private trust(issuer: string, discovery: string, expectedInDocument: string): void {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new AuthConfigError(`--auth-issuer '${issuer}' is not a URL`);
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackUrl(url))) {
      throw new AuthConfigError(`--auth-issuer '${issuer}' must be https:// (http:// is accepted only on a loopback address, for local identity providers)`);
    }
    this.trusted.set(issuer, { issuer, discovery, expectedInDocument });
  }

  /** The discovery document URL of a trusted issuer (the dashboard's sign-in reads it too); undefined for one not trusted. */
  discoveryOf(issuer: string): string | undefined {
    return this.trusted.get(issuer)?.discovery;
  }

  /** The first trusted issuer with discovery (--auth-issuer's first, else the tenant's v2 issuer). */
  get firstIssuer(): string | undefined {
    return this.trusted.keys().next().value;
  }

  /**
   * The token's claims once every check passed; UNAUTHENTICATED with the reason otherwise. `audiences`:
   * the accepted audiences (default --auth-audience; the dashboard's ID tokens are for its client id).
   */
  async verify(token: string, audiences: string[] = this.options.audiences): Promise<Claims> {
    const jose = await loadJose();
    let unverified: Claims;
    try {
      jose.decodeProtectedHeader(token);
      unverified = jose.decodeJwt(token);
    } catch {
      throw unauthenticated("The bearer token is not a well-formed JWT: send 'authorization: Bearer <access token>' with a token from your identity provider");
    }
    const issuer = typeof unverified.iss === "string" ? unverified.iss : undefined;
    let keys: KeySet;
    if (this.fixedKeySource) {
      if (this.trusted.size > 0 && (issuer === undefined || !this.trusted.has(issuer))) throw this.untrustedIssuer();
      const source = this.fixedKeySource;
      keys = this.fixedKeys ??= source instanceof URL ? jose.createRemoteJWKSet(source, { cooldownDuration: KEY_REFETCH_COOLDOWN_MS }) : jose.createLocalJWKSet(source);
    } else {
      const trusted = issuer === undefined ? undefined : this.trusted.get(issuer);
      if (!trusted) throw this.untrustedIssuer();
      keys = await this.keysOf(trusted);
    }
    let claims: Claims;
    try {
      ({ payload: claims } = await jose.jwtVerify(token, keys, {
        issuer: this.trusted.size > 0 ? [...this.trusted.keys()] : undefined,
        audience: audiences,
        algorithms: ALGORITHMS,
        clockTolerance: this.skew,
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      throw this.refusal(err, audiences);
    }
    return claims;
  }

  private untrustedIssuer(): SchedulerError {
    return unauthenticated(`The token was not issued by an issuer this scheduler trusts (${[...this.trusted.keys()].join(", ")}): get a token from one of them, or add its issuer with --auth-issuer`);
  }

  /** The issuer's key set, from its discovery document; a failed discovery is retried on the next call. */
  private keysOf(trusted: TrustedIssuer): Promise<KeySet> {
    let keys = this.keysByIssuer.get(trusted.discovery);
    if (!keys) {
      keys = discoverKeys(trusted);
      this.keysByIssuer.set(trusted.discovery, keys);
      keys.catch(() => this.keysByIssuer.delete(trusted.discovery));
    }
    return keys;
  }

  private refusal(err: unknown, audiences: string[]): SchedulerError {
    if (err instanceof SchedulerError) return err;
    const code = (err as { code?: string }).code;
    const claim = (err as { claim?: string }).claim;
    switch (code) {
      case "ERR_JWT_EXPIRED":
        return unauthenticated("The bearer token has expired: get a new one (clients using a token file or command must refresh it)");
      case "ERR_JWT_CLAIM_VALIDATION_FAILED":
        if (claim === "nbf" || claim === "iat") return unauthenticated(`The bearer token is not valid yet: check the clocks of this server and the identity provider (allowed skew ${this.skew} s)`);
        if (claim === "aud") return unauthenticated(`The bearer token is for another audience: request a token for ${audiences.join(" or ")} (scope '${audiences[0]}/.default' on Entra ID)`);
        if (claim === "iss") return this.untrustedIssuer();
        if (claim === "exp") return unauthenticated("The bearer token has no expiry ('exp'); this scheduler accepts only tokens that expire");
        return unauthenticated(`The bearer token's '${claim}' claim is not acceptable`);
      case "ERR_JOSE_ALG_NOT_ALLOWED":
        return unauthenticated(`The bearer token is signed with an algorithm this scheduler does not accept; use one of ${ALGORITHMS.join(", ")}`);
      case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
        return unauthenticated("The bearer token's signature does not verify against its issuer's keys: it was altered or signed by someone else");
      case "ERR_JWKS_NO_MATCHING_KEY":
      case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
        return unauthenticated("The bearer token is signed with a key its issuer does not publish: get a new token from the issuer");
      case "ERR_JWKS_TIMEOUT":
      case "ERR_JOSE_GENERIC":
        return new SchedulerError("UNAVAILABLE", `The scheduler could not fetch its identity provider's signing keys (${(err as Error).message}); try again`);
      default:
        return unauthenticated("The bearer token is not a valid signed JWT: send a token from your identity provider");
    }
  }
}

async function discoverKeys(trusted: TrustedIssuer): Promise<KeySet> {
  const doc = await readOpenIdConfiguration(trusted.discovery, trusted.expectedInDocument);
  return (await loadJose()).createRemoteJWKSet(new URL(doc.jwks_uri), { cooldownDuration: KEY_REFETCH_COOLDOWN_MS });
}

/** `--auth-jwks`: a URL (fetched and refreshed like an issuer's keys) or a JSON file read once at start. */
function readKeySetSource(source: string): URL | Jose.JSONWebKeySet {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    if (url.protocol === "http:" && !isLoopbackUrl(url)) throw new AuthConfigError(`--auth-jwks '${source}' must be https:// (http:// only on a loopback address)`);
    return url;
  }
  let jwks: Jose.JSONWebKeySet;
  try {
    jwks = JSON.parse(fs.readFileSync(source, "utf8")) as Jose.JSONWebKeySet;
  } catch (err) {
    throw new AuthConfigError(`--auth-jwks '${source}' cannot be read as a JSON key set (${(err as Error).message})`);
  }
  if (!Array.isArray(jwks?.keys)) throw new AuthConfigError(`--auth-jwks '${source}' has no "keys" array`);
  return jwks;
}
