// Unit tests of the provider's configuration: host.json extensions.durableTask and app settings
// (local.settings.json Values overridden by the environment), in temporary app directories.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadProviderConfig, ProviderConfigError } from "../../src/provider/config";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const LOCAL = "Endpoint=http://localhost:8080;TaskHub=default;Authentication=None";

function appDir(hostJson: unknown, values?: Record<string, string>, raw?: { host?: string; local?: string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-config-"));
  dirs.push(dir);
  if (hostJson !== undefined || raw?.host) fs.writeFileSync(path.join(dir, "host.json"), raw?.host ?? JSON.stringify(hostJson));
  if (values || raw?.local) fs.writeFileSync(path.join(dir, "local.settings.json"), raw?.local ?? JSON.stringify({ IsEncrypted: false, Values: values }));
  return dir;
}

const durable = (d: Record<string, unknown>) => ({ version: "2.0", extensions: { durableTask: d } });
const managed = (extra: Record<string, unknown> = {}, provider: Record<string, unknown> = {}) => durable({ storageProvider: { type: "azureManaged", ...provider }, ...extra });

test("the documented setup: hubName from %TASKHUB_NAME%, the connection string from its default setting, default limits", () => {
  const dir = appDir(managed({ hubName: "%TASKHUB_NAME%" }, { connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING" }), {
    FUNCTIONS_WORKER_RUNTIME: "node", DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL, TASKHUB_NAME: "myhub",
  });
  const c = loadProviderConfig(dir, {});
  expect(c).toMatchObject({
    appDir: dir, hubName: "myhub", connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    connection: { endpoint: "http://localhost:8080", taskHub: "default", authentication: "None" },
  });
  // The Durable extension's defaults outside the Consumption plan: 10 per processor.
  const perCore = 10 * os.availableParallelism();
  expect([c.maxConcurrentOrchestratorFunctions, c.maxConcurrentActivityFunctions, c.maxConcurrentEntityFunctions]).toEqual([perCore, perCore, perCore]);
  expect(c.warnings).toEqual(["The task hub is 'myhub' (from host.json hubName); the connection string's TaskHub 'default' is not used"]);
});

test("on the Consumption plan (WEBSITE_SKU=Dynamic) the default limits are 5 orchestrators, 10 activities, 10 entities", () => {
  const dir = appDir(managed({}), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL });
  const c = loadProviderConfig(dir, { WEBSITE_SKU: "Dynamic" });
  expect([c.maxConcurrentOrchestratorFunctions, c.maxConcurrentActivityFunctions, c.maxConcurrentEntityFunctions]).toEqual([5, 10, 10]);
});

test("the environment overrides local.settings.json, and host.json limits are used", () => {
  const dir = appDir(managed({ hubName: "%HUB%", maxConcurrentOrchestratorFunctions: 3, maxConcurrentActivityFunctions: 7, maxConcurrentEntityFunctions: 2 }, { connectionStringName: "MY_CONN" }), {
    MY_CONN: "Endpoint=http://nowhere:1;Authentication=None", HUB: "local-hub",
  });
  const c = loadProviderConfig(dir, { MY_CONN: "Endpoint=https://sched.durabletask.io;TaskHub=h;Authentication=ManagedIdentity", HUB: "h" });
  expect(c.connection).toMatchObject({ endpoint: "https://sched.durabletask.io", authentication: "ManagedIdentity" });
  expect(c.hubName).toBe("h");
  expect(c.warnings).toEqual([]);
  expect([c.maxConcurrentOrchestratorFunctions, c.maxConcurrentActivityFunctions, c.maxConcurrentEntityFunctions]).toEqual([3, 7, 2]);
  expect(c.settings.HUB).toBe("h");
});

test("durable HTTP's poll wait: httpSettings.defaultAsyncRequestSleepTimeMilliseconds, 30 s by default", () => {
  expect(loadProviderConfig(appDir(managed(), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL }), {}).httpAsyncSleepMs).toBe(30_000);
  const dir = appDir(managed({ httpSettings: { defaultAsyncRequestSleepTimeMilliseconds: 250 } }), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL });
  expect(loadProviderConfig(dir, {}).httpAsyncSleepMs).toBe(250);
  const bad = appDir(managed({ httpSettings: { defaultAsyncRequestSleepTimeMilliseconds: "1s" } }), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL });
  expect(() => loadProviderConfig(bad, {})).toThrow(/defaultAsyncRequestSleepTimeMilliseconds must be a whole number/);
});

test("inline activities' wait: storageProvider.inlineActivityMaxWaitMs, 50 ms by default, 0 to turn them off", () => {
  const load = (provider: Record<string, unknown>) => loadProviderConfig(appDir(managed({}, provider), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL }), {});
  expect(load({}).inlineActivityMaxWaitMs).toBe(50);
  expect(load({ inlineActivityMaxWaitMs: 0 }).inlineActivityMaxWaitMs).toBe(0);
  expect(load({ inlineActivityMaxWaitMs: 200 }).inlineActivityMaxWaitMs).toBe(200);
  expect(() => load({ inlineActivityMaxWaitMs: -1 })).toThrow("host.json's extensions.durableTask.storageProvider.inlineActivityMaxWaitMs must be a whole number of milliseconds (it is -1)");
});

test("without hubName the TASKHUB_NAME setting names the hub, else the connection string's TaskHub", () => {
  expect(loadProviderConfig(appDir(managed(), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL, TASKHUB_NAME: "fromsetting" }), {}).hubName).toBe("fromsetting");
  expect(loadProviderConfig(appDir(managed(), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL }), {}).hubName).toBe("default");
});

test("host.json keys and the provider type are case-insensitive; setting names fall back to case-insensitive", () => {
  const dir = appDir({ Extensions: { DurableTask: { HubName: "%taskhub_name%", StorageProvider: { Type: "AzureManaged" } } } }, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL, TASKHUB_NAME: "x" });
  expect(loadProviderConfig(dir, {}).hubName).toBe("x");
});

test("a missing local.settings.json is fine when the environment has the settings", () => {
  const dir = appDir(managed());
  expect(loadProviderConfig(dir, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL }).hubName).toBe("default");
});

describe("errors name what to fix", () => {
  const env = { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: LOCAL };
  const cases: [string, () => string, RegExp][] = [
    ["no host.json", () => appDir(undefined), /host\.json's extensions\.durableTask\.storageProvider\.type is not set: .*set it to "azureManaged"/],
    ["no storageProvider", () => appDir(durable({ hubName: "x" })), /storageProvider\.type is not set/],
    ["another provider", () => appDir(durable({ storageProvider: { type: "mssql" } })), /storageProvider\.type is "mssql": this host runs Durable Functions on the Durable Task Scheduler only, so set it to "azureManaged"/],
    ["host.json not JSON", () => appDir(undefined, undefined, { host: "{ nope" }), /host\.json is not valid JSON/],
    ["durableTask not an object", () => appDir({ extensions: { durableTask: 5 } }), /host\.json extensions\.durableTask must be a JSON object/],
    ["bad limit", () => appDir(managed({ maxConcurrentActivityFunctions: 0 })), /extensions\.durableTask\.maxConcurrentActivityFunctions must be a whole number of at least 1 \(it is 0\)/],
    ["hubName setting missing", () => appDir(managed({ hubName: "%MISSING_HUB%" })), /hubName refers to the app setting 'MISSING_HUB' \(%MISSING_HUB%\), which is not set/],
    ["connection setting missing", () => appDir(managed({}, { connectionStringName: "OTHER_CONN" })), /The app setting 'OTHER_CONN' \(the Durable Task Scheduler connection string\) is not set: add it to local\.settings\.json Values or the environment/],
    ["local.settings.json Values not an object", () => appDir(managed(), undefined, { local: '{"Values": 3}' }), /local\.settings\.json's Values must be an object/],
  ];
  test.each(cases)("%s", (_name, make, message) => {
    const dir = make();
    expect(() => loadProviderConfig(dir, env)).toThrow(ProviderConfigError);
    expect(() => loadProviderConfig(dir, env)).toThrow(message);
  });

  test("a broken connection string names the setting it came from", () => {
    const dir = appDir(managed(), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: "Endpoint=http://x;Authentication=Magic" });
    expect(() => loadProviderConfig(dir, {})).toThrow(/^The app setting 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' has Authentication='Magic'/);
  });

  test("no hub anywhere", () => {
    const dir = appDir(managed(), { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: "Endpoint=http://x;Authentication=None" });
    expect(() => loadProviderConfig(dir, {})).toThrow(/No task hub name: set extensions\.durableTask\.hubName in host\.json .*TASKHUB_NAME.*TaskHub=/);
  });

  test("no connection string at all", () => {
    expect(() => loadProviderConfig(appDir(managed()), {})).toThrow(/The app setting 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'.*is not set.*Endpoint=http:\/\/localhost:8080;TaskHub=default;Authentication=None/);
  });
});
