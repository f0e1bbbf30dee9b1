// A function app's two configuration files, read as the Functions host reads them: local.settings.json
// (`Values` become app settings, the environment winning; `Host` holds LocalHttpPort, CORS...) and
// host.json (keys case-insensitive). The one reader of both: the host, the provider adapter, `dts scale`
// and `dts durable` each interpret what it returns. Every error names the file to fix.
import * as fs from "fs";
import * as path from "path";

export class ProviderConfigError extends Error {}

export type JsonObject = Record<string, unknown>;

export interface LocalSettings {
  /** "Values": app settings. */
  values: Record<string, string>;
  /** "Host": LocalHttpPort, CORS... */
  host: JsonObject;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The JSON object in `file`; undefined when the file is absent. */
function readJsonObject(file: string, label: string): JsonObject | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ProviderConfigError(`Cannot read ${label} (${file}): ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new ProviderConfigError(`${label} is not valid JSON (${file}): ${(err as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw new ProviderConfigError(`${label} must hold a JSON object (${file})`);
  return parsed;
}

/** local.settings.json of `dir`; empty when the file is absent. */
export function readLocalSettings(dir: string): LocalSettings {
  const json = readJsonObject(path.join(dir, "local.settings.json"), "local.settings.json");
  if (json === undefined) return { values: {}, host: {} };
  if (json.IsEncrypted === true) throw new ProviderConfigError("local.settings.json is encrypted (IsEncrypted: true); decrypt it with `func settings decrypt` first");
  if (json.Values !== undefined && json.Values !== null && !isJsonObject(json.Values)) {
    throw new ProviderConfigError(`local.settings.json's Values must be an object of setting names to strings`);
  }
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(json.Values ?? {})) if (v !== null && v !== undefined) values[k] = String(v);
  return { values, host: isJsonObject(json.Host) ? json.Host : {} };
}

/** host.json of `dir`; empty when absent. */
export function readHostJson(dir: string): JsonObject {
  return readJsonObject(path.join(dir, "host.json"), "host.json") ?? {};
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

/** The app settings as strings: local.settings.json Values overridden by the environment. */
export function appSettings(dir: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(appEnvironment(dir, env).env)) if (v !== undefined) out[k] = v;
  return out;
}

/** host.json keys are case-insensitive for the Functions host. */
export function jsonGet(obj: JsonObject, key: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return obj[key];
  const actual = Object.keys(obj).find((k) => k.toLowerCase() === key.toLowerCase());
  return actual === undefined ? undefined : obj[actual];
}

/** The object at obj[key] (case-insensitive); undefined when absent, an error naming `where` when not an object. */
export function objectAt(obj: JsonObject | undefined, key: string, where: string): JsonObject | undefined {
  if (!obj) return undefined;
  const v = jsonGet(obj, key);
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v)) throw new ProviderConfigError(`${where}.${key} must be a JSON object`);
  return v;
}
