// What the provider needs from a function app's configuration, read the way the Functions host with
// the Durable extension reads it: host.json `extensions.durableTask` (with %SETTING% placeholders
// resolved from app settings) and app settings, where the environment wins over local.settings.json
// `Values`. Every error names the file and field or the setting to fix.
import * as os from "os";
import * as path from "path";
import { appSettings, jsonGet as get, JsonObject, objectAt, ProviderConfigError, readHostJson } from "./app-files";
import { parseConnectionString, SchedulerConnection } from "./connection-string";
import { DEFAULT_HTTP_POLL_MS } from "./durable-http";

export const DEFAULT_CONNECTION_STRING_NAME = "DURABLE_TASK_SCHEDULER_CONNECTION_STRING";
export const DEFAULT_INLINE_ACTIVITY_WAIT_MS = 50;
type LimitField = "maxConcurrentOrchestratorFunctions" | "maxConcurrentActivityFunctions" | "maxConcurrentEntityFunctions";

/**
 * The Durable extension's default when host.json sets no limit: 10 per processor, except on the
 * Consumption plan (WEBSITE_SKU=Dynamic): 5 orchestrators, 10 activities, 10 entities.
 */
export function defaultMaxConcurrent(field: LimitField, settings: Record<string, string>): number {
  if (settings.WEBSITE_SKU === "Dynamic") return field === "maxConcurrentOrchestratorFunctions" ? 5 : 10;
  return 10 * os.availableParallelism();
}

export interface ProviderConfig {
  appDir: string;
  hubName: string;
  connection: SchedulerConnection;
  /** The app setting that held the connection string. */
  connectionStringName: string;
  maxConcurrentOrchestratorFunctions: number;
  maxConcurrentActivityFunctions: number;
  maxConcurrentEntityFunctions: number;
  /** httpSettings.defaultAsyncRequestSleepTimeMilliseconds: durable HTTP's wait between polls of a 202 without Retry-After. */
  httpAsyncSleepMs: number;
  /**
   * storageProvider.inlineActivityMaxWaitMs: how long an orchestrator episode waits for the activities
   * it scheduled that the host runs inline (inline-activities.ts); 0 turns that off. Default
   * DEFAULT_INLINE_ACTIVITY_WAIT_MS.
   */
  inlineActivityMaxWaitMs?: number;
  /** The resolved app settings (local.settings.json Values overridden by the environment). */
  settings: Record<string, string>;
  /** Things worth a log line that do not stop the app (e.g. two different hub names). */
  warnings: string[];
}

export { appSettings, ProviderConfigError };

export function loadProviderConfig(appDir: string, env: NodeJS.ProcessEnv = process.env): ProviderConfig {
  const settings = appSettings(appDir, env);
  const hostJsonPath = path.join(appDir, "host.json");
  const host = readHostJson(appDir);
  const durable = durableSection(host);
  const provider = storageProviderSection(durable);
  const type = get(provider, "type");
  if (typeof type !== "string" || type.toLowerCase() !== "azuremanaged") {
    const found = type === undefined ? "is not set" : `is ${JSON.stringify(type)}`;
    throw new ProviderConfigError(
      `host.json's extensions.durableTask.storageProvider.type ${found}: this host runs Durable Functions on the Durable Task Scheduler only, so set it to "azureManaged" (${hostJsonPath})`,
    );
  }

  const nameField = connectionNameField(provider);
  if (nameField !== undefined && (typeof nameField !== "string" || nameField.trim() === "")) {
    throw new ProviderConfigError(`host.json's extensions.durableTask.storageProvider.connectionStringName must be the name of an app setting (a non-empty string)`);
  }
  const connectionStringName = resolvePlaceholders(nameField ?? DEFAULT_CONNECTION_STRING_NAME, settings, "extensions.durableTask.storageProvider.connectionStringName");
  const connectionText = setting(settings, connectionStringName);
  if (connectionText === undefined || connectionText.trim() === "") {
    throw new ProviderConfigError(
      `The app setting '${connectionStringName}' (the Durable Task Scheduler connection string) is not set: add it to local.settings.json Values or the environment, e.g. "Endpoint=http://localhost:8080;TaskHub=default;Authentication=None"`,
    );
  }
  const connection = parseConnectionString(connectionText, `The app setting '${connectionStringName}'`);

  const warnings: string[] = [];
  const hubName = resolveHubName(durable, settings, connection, warnings);
  return {
    appDir, hubName, connection, connectionStringName, settings, warnings,
    maxConcurrentOrchestratorFunctions: limit(durable, "maxConcurrentOrchestratorFunctions", settings),
    maxConcurrentActivityFunctions: limit(durable, "maxConcurrentActivityFunctions", settings),
    maxConcurrentEntityFunctions: limit(durable, "maxConcurrentEntityFunctions", settings),
    httpAsyncSleepMs: millis(objectAt(durable, "httpSettings", "host.json extensions.durableTask") ?? {}, "httpSettings.defaultAsyncRequestSleepTimeMilliseconds", DEFAULT_HTTP_POLL_MS),
    inlineActivityMaxWaitMs: millis(provider, "storageProvider.inlineActivityMaxWaitMs", DEFAULT_INLINE_ACTIVITY_WAIT_MS),
  };
}

/** host.json hubName, else the TASKHUB_NAME app setting, else the connection string's TaskHub. */
function resolveHubName(durable: JsonObject, settings: Record<string, string>, connection: SchedulerConnection, warnings: string[]): string {
  let hub: string | undefined;
  let from = "";
  const hubField = get(durable, "hubName");
  if (hubField !== undefined && hubField !== null) {
    if (typeof hubField !== "string") throw new ProviderConfigError(`host.json's extensions.durableTask.hubName must be a string`);
    hub = resolvePlaceholders(hubField, settings, "extensions.durableTask.hubName").trim() || undefined;
    from = "host.json hubName";
  }
  if (!hub) {
    hub = setting(settings, "TASKHUB_NAME")?.trim() || undefined;
    from = "the TASKHUB_NAME app setting";
  }
  if (!hub) {
    hub = connection.taskHub;
    from = "the connection string's TaskHub";
  }
  if (!hub) {
    throw new ProviderConfigError(
      `No task hub name: set extensions.durableTask.hubName in host.json (e.g. "%TASKHUB_NAME%"), the TASKHUB_NAME app setting, or TaskHub= in the connection string`,
    );
  }
  if (connection.taskHub && connection.taskHub !== hub) {
    warnings.push(`The task hub is '${hub}' (from ${from}); the connection string's TaskHub '${connection.taskHub}' is not used`);
  }
  return hub;
}

/** Replaces each %NAME% with the app setting NAME; a missing setting is an error naming it. */
export function resolvePlaceholders(value: string, settings: Record<string, string>, field: string): string {
  return value.replace(/%([^%]+)%/g, (_m, name: string) => {
    const v = setting(settings, name);
    if (v === undefined) {
      throw new ProviderConfigError(`host.json's ${field} refers to the app setting '${name}' (%${name}%), which is not set: add it to local.settings.json Values or the environment`);
    }
    return v;
  });
}

/** Exact name first, then case-insensitively (app setting names are case-insensitive in Azure). */
function setting(settings: Record<string, string>, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(settings, name)) return settings[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(settings)) if (k.toLowerCase() === lower) return settings[k];
  return undefined;
}

function limit(durable: JsonObject, field: LimitField, settings: Record<string, string>): number {
  const v = get(durable, field);
  if (v === undefined || v === null) return defaultMaxConcurrent(field, settings);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new ProviderConfigError(`host.json's extensions.durableTask.${field} must be a whole number of at least 1 (it is ${JSON.stringify(v)})`);
  }
  return v;
}

/** A whole number of milliseconds at `field` (its last part) of a section of extensions.durableTask (`path` from there). */
function millis(section: JsonObject, path: string, fallback: number): number {
  const v = get(section, path.slice(path.lastIndexOf(".") + 1));
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ProviderConfigError(`host.json's extensions.durableTask.${path} must be a whole number of milliseconds (it is ${JSON.stringify(v)})`);
  }
  return v;
}

/** host.json extensions.durableTask. */
function durableSection(host: JsonObject): JsonObject {
  return objectAt(objectAt(host, "extensions", "host.json"), "durableTask", "host.json extensions") ?? {};
}

function storageProviderSection(durable: JsonObject): JsonObject {
  return objectAt(durable, "storageProvider", "host.json extensions.durableTask") ?? {};
}

/** extensions.durableTask.storageProvider.connectionStringName (connectionName is the older spelling). */
function connectionNameField(storageProvider: JsonObject): unknown {
  return get(storageProvider, "connectionStringName") ?? get(storageProvider, "connectionName");
}

/** The app setting that holds the scheduler's connection string, as host.json names it (unresolved). */
export function durableConnectionName(host: JsonObject): string {
  const name = connectionNameField(storageProviderSection(durableSection(host)));
  return typeof name === "string" && name ? name : DEFAULT_CONNECTION_STRING_NAME;
}
