// An issuer's OpenID Connect discovery document: where its keys are (token checks) and its sign-in,
// token and sign-out endpoints (the dashboard's sign-in). Unreachable or wrong: UNAVAILABLE, with the URL.
import { SchedulerError } from "../core/errors";

export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  end_session_endpoint?: string;
}

/** Reads the document at `url`; it must name `expectedIssuer` and have a jwks_uri. */
export async function readOpenIdConfiguration(url: string, expectedIssuer: string): Promise<OpenIdConfiguration> {
  let doc: Partial<Record<keyof OpenIdConfiguration, unknown>>;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as typeof doc;
  } catch (err) {
    throw new SchedulerError("UNAVAILABLE", `The scheduler could not read the OpenID configuration of ${expectedIssuer} at ${url} (${(err as Error).message}); try again`);
  }
  if (doc.issuer !== expectedIssuer || typeof doc.jwks_uri !== "string") {
    throw new SchedulerError("UNAVAILABLE", `The OpenID configuration at ${url} does not describe issuer ${expectedIssuer} with a jwks_uri; check --auth-issuer`);
  }
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  return {
    issuer: doc.issuer, jwks_uri: doc.jwks_uri,
    authorization_endpoint: text(doc.authorization_endpoint), token_endpoint: text(doc.token_endpoint), end_session_endpoint: text(doc.end_session_endpoint),
  };
}
