// Unit tests of the managed scheduler's connection string parser: the forms users write, and errors
// that say what to fix.
import { AUTHENTICATION_TYPES, ConnectionStringError, formatConnectionString, parseConnectionString } from "../../src/provider/connection-string";

test("the local emulator form", () => {
  expect(parseConnectionString("Endpoint=http://localhost:8080;TaskHub=default;Authentication=None")).toEqual({
    endpoint: "http://localhost:8080", taskHub: "default", authentication: "None", additionallyAllowedTenants: [],
    clientId: undefined, tenantId: undefined, tokenFilePath: undefined,
  });
});

test("the Azure form with a user-assigned managed identity", () => {
  const c = parseConnectionString("Endpoint=https://sched.westus2.durabletask.io;TaskHub=hub1;Authentication=ManagedIdentity;ClientID=0000-1111");
  expect(c).toMatchObject({ endpoint: "https://sched.westus2.durabletask.io", taskHub: "hub1", authentication: "ManagedIdentity", clientId: "0000-1111" });
});

test("keys and the Authentication value are case-insensitive; spaces, quotes and a trailing ';' are fine", () => {
  const c = parseConnectionString(" endpoint = https://x.durabletask.io ; TASKHUB=h; authentication=managedidentity; clientid='abc;def';");
  expect(c).toMatchObject({ endpoint: "https://x.durabletask.io", taskHub: "h", authentication: "ManagedIdentity", clientId: "abc;def" });
  expect(parseConnectionString("Endpoint=x;Authentication=defaultazure").authentication).toBe("DefaultAzure");
  expect(parseConnectionString('Endpoint=x;Authentication="AzureCLI"').authentication).toBe("AzureCli");
});

test("every documented Authentication value is accepted", () => {
  for (const t of AUTHENTICATION_TYPES) expect(parseConnectionString(`Endpoint=h;Authentication=${t.toUpperCase()};TokenFilePath=f;TokenCommand=c`).authentication).toBe(t);
});

test("workload identity settings and additionally allowed tenants", () => {
  const c = parseConnectionString("Endpoint=https://e;Authentication=WorkloadIdentity;TenantId=t1;ClientId=c1;TokenFilePath=/var/run/token;AdditionallyAllowedTenants=a, b ,,c");
  expect(c).toMatchObject({ authentication: "WorkloadIdentity", tenantId: "t1", clientId: "c1", tokenFilePath: "/var/run/token", additionallyAllowedTenants: ["a", "b", "c"] });
});

test("an endpoint without a scheme gets https://, a trailing slash is dropped, ports are kept", () => {
  expect(parseConnectionString("Endpoint=myscheduler.westus.durabletask.io;Authentication=DefaultAzure").endpoint).toBe("https://myscheduler.westus.durabletask.io");
  expect(parseConnectionString("Endpoint=http://127.0.0.1:9000/;Authentication=None").endpoint).toBe("http://127.0.0.1:9000");
  expect(parseConnectionString("Endpoint=localhost:8080;Authentication=None").endpoint).toBe("https://localhost:8080");
});

test("TaskHub is optional here (host.json or TASKHUB_NAME may name the hub); unknown keys are ignored", () => {
  const c = parseConnectionString("Endpoint=http://localhost:8080;Authentication=None;Foo=bar");
  expect(c.taskHub).toBeUndefined();
});

describe("broken strings say what to fix", () => {
  const cases: [string, RegExp][] = [
    ["", /has no Endpoint: add e\.g\. 'Endpoint=http:\/\/localhost:8080'/],
    ["TaskHub=x;Authentication=None", /has no Endpoint/],
    ["Endpoint=http://localhost:8080;TaskHub=x", /has no Authentication: add e\.g\. 'Authentication=None'.*allowed values: DefaultAzure, ManagedIdentity/],
    ["Endpoint=http://localhost:8080;Authentication=Password", /Authentication='Password', which is not supported; allowed values: DefaultAzure, ManagedIdentity, WorkloadIdentity, Environment, AzureCli, AzurePowerShell, VisualStudio, VisualStudioCode, InteractiveBrowser, None/],
    ["Endpoint=ftp://host;Authentication=None", /Endpoint='ftp:\/\/host' with scheme 'ftp': use https:\/\/ \(TLS\) or http:\/\//],
    ["Endpoint=http://;Authentication=None", /Endpoint='http:\/\/', which is not a valid address/],
    ["Endpoint=http://localhost:8080;Authentication=None;garbage", /has 'garbage' without '='/],
    ["Endpoint=http://localhost:8080;Authentication=None;ClientID=\"abc", /unclosed " in the value of 'ClientID'/],
    ["=x;Endpoint=h;Authentication=None", /a value without a key/],
  ];
  test.each(cases)("%j", (text, message) => {
    expect(() => parseConnectionString(text, "The app setting 'CONN'")).toThrow(ConnectionStringError);
    expect(() => parseConnectionString(text, "The app setting 'CONN'")).toThrow(message);
    expect(() => parseConnectionString(text, "The app setting 'CONN'")).toThrow(/^The app setting 'CONN'/);
  });
});

test("formatConnectionString writes a string that parses back to the same connection, quoting where it must", () => {
  const texts = [
    "Endpoint=http://localhost:8080;TaskHub=default;Authentication=None",
    "Endpoint=https://s.westus2.durabletask.io;TaskHub=h;Authentication=ManagedIdentity;ClientID=abc;TenantId=t;AdditionallyAllowedTenants=a,b",
    `Endpoint=http://localhost:1;Authentication=TokenCommand;TokenCommand="curl -s -u 'id:se;cret' https://idp/token | jq -r .access_token"`,
    `Endpoint=http://localhost:1;Authentication=TokenCommand;TokenCommand='echo "a;b"'`,
    "Endpoint=http://localhost:1;Authentication=TokenFile;TokenFilePath=/var/run/secrets/token",
  ];
  for (const text of texts) {
    const parsed = parseConnectionString(text);
    expect(parseConnectionString(formatConnectionString(parsed))).toEqual(parsed);
  }
});
