// The app directory's local configuration as `func start` reads it: local.settings.json (app
// settings that become environment variables, and the Host section) and the parts of host.json the
// host itself needs (the HTTP route prefix). The Durable Task section of host.json is the provider
// adapter's (src/provider/config.ts).
import * as fs from "fs";
import * as path from "path";

export interface LocalSettings {
  /** "Values": app settings. */
  values: Record<string, string>;
  /** "Host": LocalHttpPort, CORS... */
  host: Record<string, unknown>;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** local.settings.json of `dir`; empty when the file is absent. */
export function readLocalSettings(dir: string): LocalSettings {
  const json = readJson(path.join(dir, "local.settings.json"));
  if (json === undefined) return { values: {}, host: {} };
  if (!isObject(json)) throw new Error(`${path.join(dir, "local.settings.json")} must contain a JSON object`);
  if (json.IsEncrypted === true) throw new Error("local.settings.json is encrypted (IsEncrypted: true); decrypt it with `func settings decrypt` first");
  const values: Record<string, string> = {};
  if (isObject(json.Values)) for (const [k, v] of Object.entries(json.Values)) if (v !== null && v !== undefined) values[k] = String(v);
  return { values, host: isObject(json.Host) ? json.Host : {} };
}

/**
 * The environment the app runs with: `env` plus local.settings.json Values. As with `func start`,
 * a variable already set in the environment wins over the file; those are listed in `skipped`.
 */
export function appEnvironment(dir: string, env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; skipped: string[]; settings: LocalSettings } {
  const settings = readLocalSettings(dir);
  const merged: NodeJS.ProcessEnv = { ...env };
  const skipped: string[] = [];
  for (const [k, v] of Object.entries(settings.values)) {
    if (env[k] !== undefined) skipped.push(k);
    else merged[k] = v;
  }
  return { env: merged, skipped, settings };
}

/** host.json of `dir`; empty when absent. */
export function readHostJson(dir: string): Record<string, unknown> {
  const json = readJson(path.join(dir, "host.json"));
  if (json === undefined) return {};
  if (!isObject(json)) throw new Error(`${path.join(dir, "host.json")} must contain a JSON object`);
  return json;
}

/** extensions.http.routePrefix, "api" by default; "" serves HTTP triggers at the root. */
export function httpRoutePrefix(hostJson: Record<string, unknown>): string {
  const ext = isObject(hostJson.extensions) ? hostJson.extensions : {};
  const http = isObject(ext.http) ? ext.http : {};
  const prefix = typeof http.routePrefix === "string" ? http.routePrefix : "api";
  return prefix.replace(/^\/+|\/+$/g, "");
}

/** extensions.durableTask.storageProvider.connectionStringName (or connectionName), with the scheduler's default. */
export function durableConnectionName(hostJson: Record<string, unknown>): string {
  const ext = isObject(hostJson.extensions) ? hostJson.extensions : {};
  const dt = isObject(ext.durableTask) ? ext.durableTask : {};
  const sp = isObject(dt.storageProvider) ? dt.storageProvider : {};
  const name = sp.connectionStringName ?? sp.connectionName;
  return typeof name === "string" && name ? name : "DURABLE_TASK_SCHEDULER_CONNECTION_STRING";
}
