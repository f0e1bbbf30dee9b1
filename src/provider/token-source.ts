// What every client of the scheduler asks for a bearer token, whatever the token comes from.

/** Tokens are fetched again this long before they expire, as the SDKs do. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** Gives the current access token; callers put it in `authorization: Bearer <token>`. */
export interface TokenSource {
  getToken(): Promise<string>;
}

export class CredentialError extends Error {}
