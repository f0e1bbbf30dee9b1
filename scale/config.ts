// Which scheduler, task hub and limits `dts scale` watches: from the command line (a connection
// string and a hub) and/or a function app directory (host.json and app settings, read by the
// provider's config loader). Command-line values win over the app's.
import { readHostJson } from "../src/provider/app-files";
import { DEFAULT_CONNECTION_STRING_NAME, durableConnectionName, loadProviderConfig } from "../src/provider/config";
import { parseConnectionString, SchedulerConnection } from "../src/provider/connection-string";
import { ConcurrencyLimits, DEFAULT_LIMITS, limitsFromConfig } from "./limits";

export interface ScaleTargetConfig {
  connection: SchedulerConnection;
  taskHub: string;
  limits: ConcurrencyLimits;
}

export interface ScaleConfigInput {
  /** --connection-string; else the app's setting, else DURABLE_TASK_SCHEDULER_CONNECTION_STRING. */
  connectionString?: string;
  /** --task-hub; else the connection string's TaskHub, else the app's hub. */
  taskHub?: string;
  /** --app: read limits (and, when not given, the connection and hub) from this function app. */
  appDir?: string;
  env: NodeJS.ProcessEnv;
}

export class ScaleConfigError extends Error {}

/** The watched hub; throws ScaleConfigError (or the provider's config errors) naming what to fix. */
export function resolveScaleConfig(input: ScaleConfigInput): ScaleTargetConfig {
  const given = input.connectionString !== undefined ? parseConnectionString(input.connectionString, "--connection-string") : undefined;
  if (input.appDir !== undefined) {
    // The app's own setting name gets the command line's connection string, so the loader accepts it.
    const env = input.connectionString !== undefined
      ? { ...input.env, [durableConnectionName(readHostJson(input.appDir))]: input.connectionString }
      : input.env;
    const app = loadProviderConfig(input.appDir, env);
    return { connection: app.connection, taskHub: input.taskHub ?? given?.taskHub ?? app.hubName, limits: limitsFromConfig(app) };
  }
  const fromEnv = input.env[DEFAULT_CONNECTION_STRING_NAME];
  const connection = given ?? (fromEnv ? parseConnectionString(fromEnv, `the environment variable ${DEFAULT_CONNECTION_STRING_NAME}`) : undefined);
  if (!connection) {
    throw new ScaleConfigError(`no scheduler to watch: pass --connection-string "Endpoint=http://localhost:8080;TaskHub=default;Authentication=None", --app <function app dir>, or set ${DEFAULT_CONNECTION_STRING_NAME}`);
  }
  const taskHub = input.taskHub ?? connection.taskHub;
  if (!taskHub) throw new ScaleConfigError(`no task hub: pass --task-hub <name> or put TaskHub=<name> in the connection string`);
  return { connection, taskHub, limits: { ...DEFAULT_LIMITS } };
}
