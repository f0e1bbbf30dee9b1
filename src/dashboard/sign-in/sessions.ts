// Signed-in sessions, held in memory: the cookie carries only a random id, so signing out ends the
// session on the server too (a copied cookie is worthless afterwards), and a restart ends them all.
// A session ends when its ID token expires.
import { randomBytes } from "crypto";
import type { IncomingMessage } from "http";
import { SignedIn } from "../../auth";
import { cookieOf, setCookie } from "./cookies";

export const SESSION_COOKIE = "dts_session";
/** Sessions kept at most; the oldest go first (one per sign-in, so a flood of sign-ins cannot grow memory). */
const MAX_SESSIONS = 10_000;

export class Sessions {
  private readonly byId = new Map<string, SignedIn>();

  /** The request's live session, if any. */
  of(req: IncomingMessage): SignedIn | undefined {
    const id = cookieOf(req, SESSION_COOKIE);
    const session = id === undefined ? undefined : this.byId.get(id);
    if (session && session.expiresAt <= Date.now()) this.byId.delete(id!);
    return session && session.expiresAt > Date.now() ? session : undefined;
  }

  /** Starts a session; returns its Set-Cookie value. */
  start(signedIn: SignedIn): string {
    for (const [id, s] of this.byId) if (s.expiresAt <= Date.now()) this.byId.delete(id);
    if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value as string);
    const id = randomBytes(32).toString("base64url");
    this.byId.set(id, signedIn);
    return setCookie(SESSION_COOKIE, id, (signedIn.expiresAt - Date.now()) / 1000);
  }

  /** Ends the request's session; returns it (for the provider's sign-out) and the Set-Cookie value that clears the cookie. */
  end(req: IncomingMessage): { ended?: SignedIn; cookie: string } {
    const id = cookieOf(req, SESSION_COOKIE);
    const ended = id === undefined ? undefined : this.byId.get(id);
    if (id !== undefined) this.byId.delete(id);
    return { ended, cookie: setCookie(SESSION_COOKIE, "", 0) };
  }
}
