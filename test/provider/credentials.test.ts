// Unit tests of the token cache with a fake TokenCredential (a real identity service cannot run
// here), and of which @azure/identity credential each Authentication type gets.
import { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import * as identity from "@azure/identity";
import { parseConnectionString } from "../../src/provider/connection-string";
import { CachedTokenSource, credentialFor, REFRESH_MARGIN_MS, TOKEN_SCOPE, tokenSourceFor } from "../../src/provider/credentials";

const HOUR = 3_600_000;

class FakeCredential implements TokenCredential {
  calls: string[] = [];
  next: () => Promise<AccessToken | null>;
  private n = 0;
  constructor(private readonly clock: { now: number }, lifetimeMs = HOUR) {
    this.next = async () => ({ token: `token-${++this.n}`, expiresOnTimestamp: this.clock.now + lifetimeMs });
  }
  getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    this.calls.push(String(scopes));
    return this.next();
  }
}

test("asks for the durabletask.io scope once, then serves the cached token until 5 minutes before expiry", async () => {
  const clock = { now: 1_000_000 };
  const cred = new FakeCredential(clock);
  const source = new CachedTokenSource(cred, TOKEN_SCOPE, REFRESH_MARGIN_MS, () => clock.now);
  expect(await source.getToken()).toBe("token-1");
  expect(cred.calls).toEqual(["https://durabletask.io/.default"]);
  clock.now += HOUR - REFRESH_MARGIN_MS - 1;
  expect(await source.getToken()).toBe("token-1");
  clock.now += 1;
  expect(await source.getToken()).toBe("token-2");
  expect(cred.calls).toHaveLength(2);
});

test("concurrent callers share one refresh", async () => {
  const clock = { now: 0 };
  const cred = new FakeCredential(clock);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const original = cred.next;
  cred.next = async () => {
    await gate;
    return original();
  };
  const source = new CachedTokenSource(cred, TOKEN_SCOPE, REFRESH_MARGIN_MS, () => clock.now);
  const all = Promise.all([source.getToken(), source.getToken(), source.getToken()]);
  release();
  expect(await all).toEqual(["token-1", "token-1", "token-1"]);
  expect(cred.calls).toHaveLength(1);
});

test("the credential's refreshAfterTimestamp brings the refresh forward", async () => {
  const clock = { now: 0 };
  const cred = new FakeCredential(clock);
  cred.next = async () => ({ token: `t${cred.calls.length}`, expiresOnTimestamp: clock.now + HOUR, refreshAfterTimestamp: clock.now + 60_000 });
  const source = new CachedTokenSource(cred, TOKEN_SCOPE, REFRESH_MARGIN_MS, () => clock.now);
  expect(await source.getToken()).toBe("t1");
  clock.now += 60_000;
  expect(await source.getToken()).toBe("t2");
});

test("a failed refresh falls back to the still-valid token and tries again next time; an expired one fails with the reason", async () => {
  const clock = { now: 0 };
  const cred = new FakeCredential(clock);
  const source = new CachedTokenSource(cred, TOKEN_SCOPE, REFRESH_MARGIN_MS, () => clock.now);
  expect(await source.getToken()).toBe("token-1");
  const good = cred.next;
  cred.next = async () => {
    throw new Error("identity service down");
  };
  clock.now += HOUR - 60_000; // inside the refresh margin, still valid
  expect(await source.getToken()).toBe("token-1");
  clock.now += 120_000; // expired
  await expect(source.getToken()).rejects.toThrow("Could not get a token for https://durabletask.io/.default: identity service down");
  cred.next = good;
  expect(await source.getToken()).toBe("token-2");
  cred.next = async () => null;
  clock.now += 2 * HOUR;
  await expect(source.getToken()).rejects.toThrow(/the credential returned no token/);
});

test("each Authentication type gets its @azure/identity credential; None gets none", () => {
  const cred = (s: string) => credentialFor(parseConnectionString(`Endpoint=https://x;${s}`));
  expect(cred("Authentication=None")).toBeUndefined();
  expect(tokenSourceFor(parseConnectionString("Endpoint=http://x;Authentication=None"))).toBeUndefined();
  expect(cred("Authentication=ManagedIdentity")).toBeInstanceOf(identity.ManagedIdentityCredential);
  expect(cred("Authentication=ManagedIdentity;ClientID=abc")).toBeInstanceOf(identity.ManagedIdentityCredential);
  expect(cred("Authentication=WorkloadIdentity;TenantId=t;ClientId=c;TokenFilePath=/tmp/token")).toBeInstanceOf(identity.WorkloadIdentityCredential);
  expect(cred("Authentication=Environment")).toBeInstanceOf(identity.EnvironmentCredential);
  expect(cred("Authentication=AzureCli;TenantId=t;AdditionallyAllowedTenants=*")).toBeInstanceOf(identity.AzureCliCredential);
  expect(cred("Authentication=AzurePowerShell")).toBeInstanceOf(identity.AzurePowerShellCredential);
  expect(cred("Authentication=VisualStudioCode")).toBeInstanceOf(identity.VisualStudioCodeCredential);
  expect(cred("Authentication=InteractiveBrowser;ClientId=c")).toBeInstanceOf(identity.InteractiveBrowserCredential);
  expect(cred("Authentication=DefaultAzure;ClientID=c;TenantId=t")).toBeInstanceOf(identity.DefaultAzureCredential);
  expect(tokenSourceFor(parseConnectionString("Endpoint=https://x;Authentication=DefaultAzure"))).toBeInstanceOf(CachedTokenSource);
  expect(() => cred("Authentication=VisualStudio")).toThrow(/only \.NET apps can read: use AzureCli, VisualStudioCode or DefaultAzure/);
});
