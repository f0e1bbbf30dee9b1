// The sign-in routes under /auth/: sign-in (off to the identity provider with state, nonce and a PKCE
// challenge; what to check on return sealed in a short-lived cookie), the callback (code exchanged,
// ID token checked, session started), sign-out (session ended here, then at the provider when it
// offers that) and the page after it. With sign-in off they say how to turn it on.
import type { IncomingMessage, ServerResponse } from "http";
import { OidcSignIn, PendingSignIn } from "../../auth";
import { html, Html } from "../html";
import { checkSameOrigin, HttpError, send, sendHtml } from "../http";
import { page } from "../layout";
import { cookieOf, setCookie } from "./cookies";
import { Sealer } from "./sealed";
import { Sessions } from "./sessions";

const PENDING_COOKIE = "dts_sign_in";
const CALLBACK = "/auth/callback";
/** How long a person has at the identity provider before the sign-in must start again. */
const PENDING_SECONDS = 600;

/** A dashboard path to return to: local only (no //host or scheme), else the start page. */
export function localPath(text: string | null | undefined): string {
  return text && text.startsWith("/") && !text.startsWith("//") && !text.startsWith("/\\") ? text : "/";
}

function isPending(v: unknown): v is PendingSignIn & { until: number } {
  const p = v as Record<string, unknown> | undefined;
  return !!p && ["state", "nonce", "verifier", "redirectUri", "returnTo"].every((k) => typeof p[k] === "string") && typeof p.until === "number";
}

export class SignInRoutes {
  private readonly sealer = new Sealer();

  /** `publicUrl`: the dashboard's origin as browsers reach it (--dashboard-url); else `scheme` and the request's Host. */
  constructor(private readonly signIn: OidcSignIn | undefined, private readonly sessions: Sessions, private readonly publicUrl?: string, private readonly scheme = "http") {}

  get enabled(): boolean {
    return this.signIn !== undefined;
  }

  private origin(req: IncomingMessage): string {
    return (this.publicUrl ?? `${this.scheme}://${req.headers.host ?? "localhost"}`).replace(/\/+$/, "");
  }

  /** Handles /auth/<what>; false when `what` is not one of its routes. */
  async handle(req: IncomingMessage, res: ServerResponse, what: string | undefined, url: URL): Promise<boolean> {
    const method = req.method ?? "GET";
    if (method === "GET" && what === "sign-in") await this.start(req, res, localPath(url.searchParams.get("return")));
    else if (method === "GET" && what === "callback") await this.callback(req, res, url);
    else if (method === "POST" && what === "sign-out") await this.signOut(req, res);
    else if (method === "GET" && what === "signed-out") sendHtml(res, 200, this.notice("Signed out", html`<p>You are signed out of the dashboard.</p><p><a href="/auth/sign-in">Sign in again</a></p>`));
    else return false;
    return true;
  }

  private async start(req: IncomingMessage, res: ServerResponse, returnTo: string): Promise<void> {
    if (!this.signIn) throw new HttpError(404, "Sign-in is off: start dts serve with --dashboard-client-id <id> (a client registered at your identity provider with the redirect URI <dashboard>/auth/callback)");
    const { url, pending } = await this.signIn.begin(`${this.origin(req)}${CALLBACK}`, returnTo);
    const sealed = this.sealer.seal({ ...pending, until: Date.now() + PENDING_SECONDS * 1000 });
    send(res, 303, "", "text/plain; charset=utf-8", { Location: url, "Set-Cookie": setCookie(PENDING_COOKIE, sealed, PENDING_SECONDS, CALLBACK) });
  }

  private async callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!this.signIn) throw new HttpError(404, "Sign-in is off");
    const pending = this.sealer.open(cookieOf(req, PENDING_COOKIE));
    const clear = setCookie(PENDING_COOKIE, "", 0, CALLBACK);
    if (!isPending(pending) || pending.until < Date.now()) {
      res.setHeader("Set-Cookie", clear);
      throw new HttpError(400, "No sign-in is in progress in this browser (or it took longer than 10 minutes, or the dashboard restarted): sign in again");
    }
    let cookie: string;
    try {
      cookie = this.sessions.start(await this.signIn.finish(url.searchParams, pending));
    } catch (err) {
      res.setHeader("Set-Cookie", clear);
      throw err;
    }
    send(res, 303, "", "text/plain; charset=utf-8", { Location: localPath(pending.returnTo), "Set-Cookie": [cookie, clear] });
  }

  private async signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkSameOrigin(req);
    const { ended, cookie } = this.sessions.end(req);
    const after = `${this.origin(req)}/auth/signed-out`;
    const provider = ended && this.signIn ? await this.signIn.endSessionUrl(ended.idToken, after) : undefined;
    if (!provider) return send(res, 303, "", "text/plain; charset=utf-8", { Location: "/auth/signed-out", "Set-Cookie": cookie });
    // On to the provider's sign-out by a page, not a redirect: the CSP's form-action keeps posts on this origin.
    res.setHeader("Set-Cookie", cookie);
    sendHtml(res, 200, page({ title: "Signing out", hubs: [], section: "hubs", goTo: provider },
      html`<p>You are signed out of the dashboard. <a href="${provider}">Continue to sign out at your identity provider</a>.</p>`));
  }

  /** A page for someone with no session: no hub list, no header actions. */
  notice(title: string, body: Html, status?: string): Html {
    return page({ title, hubs: [], section: "hubs", error: status }, body);
  }
}
