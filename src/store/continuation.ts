// Continuation tokens for queryInstances: an opaque base64url encoding of the keyset position
// (createdAt, instanceId) of the last instance on the previous page. Both stores use this module, so a
// token issued by one means the same thing to the other, and the format exists in one place only.
import { InvalidContinuationTokenError } from "./store";

/** A position in (createdAt, instanceId) order; the next page starts strictly after it. */
export interface Cursor {
  createdAt: number;
  instanceId: string;
}

// Bumped if the encoded shape ever changes, so old tokens are rejected rather than misread.
const TOKEN_VERSION = 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeContinuationToken(cursor: Cursor): string {
  const json = JSON.stringify([TOKEN_VERSION, cursor.createdAt, cursor.instanceId]);
  return Buffer.from(json, "utf8").toString("base64url");
}

/** Throws InvalidContinuationTokenError for anything encodeContinuationToken did not produce. */
export function decodeContinuationToken(token: string): Cursor {
  // Buffer's base64url decoder silently skips invalid characters; check the alphabet first.
  if (!BASE64URL.test(token)) throw invalid(token);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid(token);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== TOKEN_VERSION ||
    typeof parsed[1] !== "number" ||
    !Number.isFinite(parsed[1]) ||
    typeof parsed[2] !== "string"
  ) {
    throw invalid(token);
  }
  return { createdAt: parsed[1], instanceId: parsed[2] };
}

function invalid(token: string): InvalidContinuationTokenError {
  const shown = token.length > 64 ? `${token.slice(0, 64)}…` : token;
  return new InvalidContinuationTokenError(`invalid continuation token "${shown}"`);
}
