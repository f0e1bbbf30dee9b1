// The sign-in's parts without a browser: sealed values, sessions and their cookies, and the return
// path a sign-in may go back to (never another site).
import type { IncomingMessage } from "http";
import { Sealer } from "../../src/dashboard/sign-in/sealed";
import { Sessions } from "../../src/dashboard/sign-in/sessions";
import { localPath } from "../../src/dashboard/sign-in/sign-in-routes";

const requestWith = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;
const signedIn = (expiresAt: number) => ({ caller: { principals: ["alice"], tokenRoles: [] }, name: "alice", idToken: "id", expiresAt });

test("a sealed value opens only unchanged and only in the process that sealed it", () => {
  const sealer = new Sealer();
  const text = sealer.seal({ state: "s", nonce: "n" });
  expect(sealer.open(text)).toEqual({ state: "s", nonce: "n" });
  expect(text).not.toContain("nonce");
  const flipped = Buffer.from(text, "base64url");
  flipped[flipped.length - 1] ^= 1;
  expect(sealer.open(flipped.toString("base64url"))).toBeUndefined();
  expect(new Sealer().open(text)).toBeUndefined();
  for (const garbage of [undefined, "", "abc", "%%%"]) expect(sealer.open(garbage)).toBeUndefined();
});

test("a session: its cookie is HttpOnly, Secure, SameSite=Lax and lives as long as the token; ending it makes the cookie worthless", () => {
  const sessions = new Sessions();
  const cookie = sessions.start(signedIn(Date.now() + 600_000));
  expect(cookie).toMatch(/^dts_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=(599|600); HttpOnly; Secure; SameSite=Lax$/);
  const value = /^dts_session=([^;]+)/.exec(cookie)![1];
  const req = requestWith(`other=1; dts_session=${value}`);
  expect(sessions.of(req)?.name).toBe("alice");
  expect(sessions.of(requestWith(`dts_session=${value}x`))).toBeUndefined();
  const { ended, cookie: cleared } = sessions.end(req);
  expect(ended?.idToken).toBe("id");
  expect(cleared).toMatch(/^dts_session=; Path=\/; Max-Age=0;/);
  expect(sessions.of(req)).toBeUndefined();
});

test("a session whose ID token has expired is gone", () => {
  const sessions = new Sessions();
  const value = /^dts_session=([^;]+)/.exec(sessions.start(signedIn(Date.now() - 1)))![1];
  expect(sessions.of(requestWith(`dts_session=${value}`))).toBeUndefined();
});

test("after sign-in the browser goes back to a path on this dashboard, never elsewhere", () => {
  expect(localPath("/hubs/default/orchestrations?status=Running")).toBe("/hubs/default/orchestrations?status=Running");
  for (const elsewhere of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "", null, undefined]) expect(localPath(elsewhere)).toBe("/");
});
