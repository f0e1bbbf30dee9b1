// End-to-end: the dashboard with auth on (issue #15). People sign in at a real OpenID Connect provider
// (oidc-provider's login and consent pages, filled in by headless Chromium), with authorization code
// and PKCE; their roles come from the same assignments file as gRPC callers'. Tools use the JSON API
// with bearer tokens.
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { NoOpLogger, OrchestrationStatus, TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { Browser, BrowserContext, Page } from "playwright-core";
import { CONTRIBUTOR, READER, WORKER } from "../../src/auth/roles";
import { INSTANCE_ACTIONS } from "../../src/dashboard/actions";
import { ROUTES } from "../../src/dashboard/api/json-api";
import { launchBrowser } from "../helpers/browser";
import { deadPort, DtsProcess, runCli, startDts, tempDir } from "../helpers/dts-process";
import { IdentityProvider, startIdentityProvider } from "../helpers/identity-provider";

let idp: IdentityProvider;
let dts: DtsProcess;
let dir: string;
let base: string;
let browser: Browser;
let sdk: TaskHubGrpcClient;
/** More schedulers started by single tests, stopped at the end. */
const others: DtsProcess[] = [];
const contexts: BrowserContext[] = [];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const port = await deadPort();
  base = `http://localhost:${port}`;
  idp = await startIdentityProvider([
    { id: "dashboard", redirectUris: [`${base}/auth/callback`], postLogoutRedirectUris: [`${base}/auth/signed-out`] },
    { id: "contributor-app" }, { id: "reader-app" }, { id: "worker-app" },
  ]);
  dir = tempDir("dts-sign-in-");
  const roles = path.join(dir, "roles.json");
  // Every role on the whole scheduler. "dashboard" is the dashboard app itself: every signed-in person's
  // ID token names it (azp), and must not get its role.
  const held = { alice: CONTRIBUTOR, bob: READER, "contributor-app": CONTRIBUTOR, "reader-app": READER, "worker-app": WORKER, dashboard: CONTRIBUTOR };
  fs.writeFileSync(roles, JSON.stringify(Object.entries(held).map(([principal, role]) => ({ principal, role, scope: "*" }))));
  // Hub "routes" takes the every-route checks below (a Contributor's purge there touches nothing else).
  dts = await startDts(["--store", "memory", "--hubs", "default,routes", "--dashboard-port", String(port), "--auth-issuer", idp.issuer, "--role-assignments", roles, "--dashboard-client-id", "dashboard"]);
  for (const id of ["contributor-app", "reader-app", "worker-app"]) tokens[id] = await idp.token(id);
  sdk = new TaskHubGrpcClient({
    hostAddress: dts.address, logger: new NoOpLogger(),
    metadataGenerator: async () => {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${tokens["contributor-app"]}`);
      return md;
    },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await sdk?.stop();
  for (const p of [...others, dts]) {
    await p?.stop();
    if (p) fs.rmSync(p.dataDir, { recursive: true, force: true });
  }
  await idp?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}

/** Opens `target` on the dashboard, signs in at the provider as `login` (any password), and lands back on `target`. */
async function signIn(page: Page, login: string, target = "/hubs/default/orchestrations"): Promise<void> {
  await page.goto(`${base}${target}`);
  expect(page.url().startsWith(idp.issuer)).toBe(true);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any password");
  await page.click('button[type="submit"]');
  // The provider asks once per person and client to let the dashboard know who they are.
  await page.click('button:has-text("Continue")');
  await page.waitForURL(`${base}${target}`);
}

describe("signing in with a browser", () => {
  test("a page without a session goes to the provider; a Contributor signs in, sees the list and starts an orchestration", async () => {
    const started = await sdk.scheduleNewOrchestration("Existing", undefined, "existing-1");
    const page = await newPage();
    await signIn(page, "alice");
    expect(await page.textContent("#signed-in-as")).toBe("alice");
    expect(await page.locator("#read-only").count()).toBe(0);
    expect(await page.textContent("main")).toContain(started);
    await page.click('a:has-text("New orchestration")');
    await page.fill('input[name="name"]', "FromTheDashboard");
    await page.fill('input[name="instanceId"]', "alice-1");
    await page.click('button:has-text("Start")');
    await page.waitForURL(/\/hubs\/default\/orchestrations\/alice-1\?done=started/);
    expect((await sdk.getOrchestrationState("alice-1"))?.name).toBe("FromTheDashboard");
  });

  test("the session cookie is HttpOnly, Secure and SameSite=Lax, and expires with the ID token", async () => {
    const page = await newPage();
    await signIn(page, "alice");
    const cookies = await page.context().cookies(base);
    const session = cookies.find((c) => c.name === "dts_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });
    expect(session!.expires).toBeGreaterThan(Date.now() / 1000);
    // The sign-in in progress (state, nonce, PKCE verifier) is gone once used.
    expect(cookies.find((c) => c.name === "dts_sign_in")).toBeUndefined();
  });

  test("a Reader sees instances with every action disabled or hidden; a forged post gets 403 naming the role", async () => {
    await sdk.scheduleNewOrchestration("ForTheReader", undefined, "reader-sees-1");
    const page = await newPage();
    await signIn(page, "bob", "/hubs/default/orchestrations/reader-sees-1");
    expect(await page.textContent("h1")).toContain("reader-sees-1");
    expect(await page.textContent("#read-only")).toContain("read only");
    const buttons = page.locator('section[aria-label="Actions"] button');
    expect(await buttons.count()).toBeGreaterThan(0);
    for (const disabled of await buttons.evaluateAll((bs) => bs.map((b) => (b as unknown as { disabled: boolean }).disabled))) expect(disabled).toBe(true);
    expect(await page.locator('a:has-text("New orchestration")').count()).toBe(0);
    await page.goto(`${base}/hubs/default/orchestrations`);
    expect(await page.textContent("main")).toContain("reader-sees-1");
    expect(await page.locator("form#bulk").count()).toBe(0);
    // The form's post made by hand from the page (same origin, with the session): refused, nothing done.
    const forged = await page.evaluate(async () => {
      const res = await fetch("/hubs/default/orchestrations/reader-sees-1/terminate", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "reason=forged" });
      return { status: res.status, text: await res.text() };
    });
    expect(forged.status).toBe(403);
    expect(forged.text).toMatch(/needs the role Durable Task Data Contributor on task hub &#39;default&#39;|needs the role Durable Task Data Contributor on task hub 'default'/);
    expect(forged.text).toContain("bob");
    expect((await sdk.getOrchestrationState("reader-sees-1"))?.runtimeStatus).not.toBe(OrchestrationStatus.TERMINATED);
  });

  test("sign-out ends the session here and at the provider: the next page goes to sign-in again", async () => {
    const page = await newPage();
    await signIn(page, "alice");
    const session = (await page.context().cookies(base)).find((c) => c.name === "dts_session")!;
    await page.click('button:has-text("Sign out")');
    // The provider asks to confirm its own sign-out, then sends the browser back.
    await page.click('button:has-text("Yes, sign me out")');
    await page.waitForURL(`${base}/auth/signed-out`);
    expect((await page.context().cookies(base)).find((c) => c.name === "dts_session")).toBeUndefined();
    // The old cookie is worthless now, even when replayed.
    const replay = await fetch(`${base}/hubs/default/orchestrations`, { headers: { cookie: `dts_session=${session.value}` }, redirect: "manual" });
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toMatch(/^\/auth\/sign-in\?return=/);
    await page.goto(`${base}/hubs/default/orchestrations`);
    expect(page.url().startsWith(idp.issuer)).toBe(true);
    expect(await page.locator('input[name="login"]').count()).toBe(1);
  });

  test("a callback with a state this browser did not start is refused, and no session is made", async () => {
    const page = await newPage();
    await page.goto(`${base}/hubs/default/orchestrations`);
    expect(page.url().startsWith(idp.issuer)).toBe(true);
    // The browser holds a sign-in in progress; an answer with another state must not complete it.
    const res = await page.goto(`${base}/auth/callback?code=stolen-code&state=someone-elses-state`);
    expect(res?.status()).toBe(401);
    expect(await page.textContent("main")).toMatch(/state does not match/);
    expect((await page.context().cookies(base)).find((c) => c.name === "dts_session")).toBeUndefined();
    // And with no sign-in in progress at all.
    const none = await fetch(`${base}/auth/callback?code=x&state=y`);
    expect(none.status).toBe(400);
  });
});

describe("the JSON API and /metrics with bearer tokens", () => {
  const api = (token?: string, init: RequestInit = {}) => (route: string) =>
    fetch(`${base}/api/v1/taskhubs/${route}`, { ...init, headers: { "x-taskhub": "default", ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

  test("401 without a token (or with a bad one), 403 for the wrong role, 200 for the right one", async () => {
    const none = await api()("ping");
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    expect((await api("not-a-jwt")("ping")).status).toBe(401);
    expect((await api(tokens["reader-app"])("ping")).status).toBe(200);
    const body = JSON.stringify({ name: "ViaApi", instanceId: "api-1" });
    const post = { method: "POST", body, headers: { "content-type": "application/json" } };
    const refused = await api(tokens["worker-app"], post)("orchestrations");
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/needs the role Durable Task Data Contributor on task hub 'default'.*'worker-app'/);
    expect((await api(tokens["contributor-app"], post)("orchestrations")).status).toBe(201);
  });

  test("every JSON API route: 401 without a token; a Reader gets 403 exactly on the routes that change state; a Contributor never", async () => {
    const rows: string[] = [];
    for (const route of ROUTES) {
      const url = `${base}/api/v1/taskhubs/${route.path.replace(/:executionId/g, "exec").replace(/:\w+/g, "no-such-id")}`;
      const call = (token?: string) => fetch(url, {
        method: route.method, body: route.method === "GET" ? undefined : "{}",
        headers: { "x-taskhub": "routes", "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      }).then((r) => r.status);
      const anonymous = await call();
      if (anonymous !== 401) rows.push(`${route.method} ${route.path} without a token: ${anonymous}`);
      const reader = await call(tokens["reader-app"]);
      if ((reader === 403) !== (route.access === "write") || reader === 401) rows.push(`${route.method} ${route.path} as Reader: ${reader}`);
      const contributor = await call(tokens["contributor-app"]);
      if (contributor === 403 || contributor === 401) rows.push(`${route.method} ${route.path} as Contributor: ${contributor}`);
    }
    expect(rows).toEqual([]);
  });

  test("every form action of the pages: 403 for a Reader's token, before anything is looked up", async () => {
    const posts = [...Object.keys(INSTANCE_ACTIONS).map((a) => `orchestrations/no-such-id/${a}`), "orchestrations/no-such-id/purge", "orchestrations", "bulk", "entities/no-such-id/signal", "entities/no-such-id/delete"];
    for (const p of posts) {
      const res = await fetch(`${base}/hubs/routes/${p}`, { method: "POST", headers: { authorization: `Bearer ${tokens["reader-app"]}`, "content-type": "application/x-www-form-urlencoded" }, body: "name=x" });
      expect([p, res.status]).toEqual([p, 403]);
    }
  });

  test("/metrics: 401 without a token, 200 for a Reader on the whole scheduler", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${tokens["reader-app"]}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("dts_work_items_pending");
  });

  test("/healthz and /readyz answer a probe without a token, and say nothing but ok", async () => {
    for (const probe of ["healthz", "readyz"]) {
      const res = await fetch(`${base}/${probe}`);
      expect([probe, res.status, await res.text()]).toEqual([probe, 200, "ok\n"]);
    }
  });
});

describe("with auth on and no --dashboard-client-id", () => {
  test("pages say how to turn sign-in on; the JSON API takes bearer tokens", async () => {
    const roles = path.join(dir, "roles.json");
    const apiOnly = await startDts(["--store", "memory", "--auth-issuer", idp.issuer, "--role-assignments", roles]);
    others.push(apiOnly);
    expect(apiOnly.output()).toMatch(/sign-in off: its JSON API and \/metrics take bearer tokens/);
    const page = await fetch(`http://localhost:${apiOnly.dashboardPort}/hubs/default/orchestrations`, { redirect: "manual" });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain("--dashboard-client-id");
    const ping = await fetch(`http://localhost:${apiOnly.dashboardPort}/api/v1/taskhubs/ping`, { headers: { "x-taskhub": "default", authorization: `Bearer ${tokens["reader-app"]}` } });
    expect(ping.status).toBe(200);
  });

  test("--dashboard-client-id without auth, or with only a fixed key set, is refused at start", async () => {
    const alone = await runCli(["serve", "--port", "0", "--store", "memory", "--dashboard-client-id", "x"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--dashboard-client-id .* add --auth-issuer/);
    const jwks = path.join(dir, "jwks.json");
    fs.writeFileSync(jwks, await (await fetch(`${idp.issuer}/jwks`)).text());
    const fixedKeys = await runCli(["serve", "--port", "0", "--store", "memory", "--auth-jwks", jwks, "--dashboard-client-id", "x"]);
    expect(fixedKeys.code).toBe(2);
    expect(fixedKeys.stderr).toMatch(/sign-in needs an issuer to send people to/);
  });
});
