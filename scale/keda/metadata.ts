// A ScaledObject trigger's `metadata` (KEDA passes it as scalerMetadata) over the scaler's defaults:
//   taskHub                               the task hub (else the connection string's TaskHub, else --task-hub)
//   connectionStringName                  an environment variable of the scaler process holding a
//                                         connection string (else --connection-string / --app)
//   maxConcurrentOrchestratorFunctions,
//   maxConcurrentActivityFunctions,
//   maxConcurrentEntityFunctions          per-worker limits (else --app's host.json, else 10)
import { parseConnectionString, SchedulerConnection } from "../../src/provider/connection-string";
import { ScaleTargetConfig } from "../config";
import { ConcurrencyLimits, DEFAULT_LIMITS, LIMIT_NAMES } from "../limits";
import { KINDS } from "../metrics";

export interface ScalerDefaults {
  connection?: SchedulerConnection;
  taskHub?: string;
  limits?: ConcurrencyLimits;
}

/** Trigger metadata the scaler cannot use; answered with INVALID_ARGUMENT. */
export class MetadataError extends Error {}

/** Metadata keys are matched case-insensitively, as users type them in YAML. */
function field(metadata: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(metadata).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : metadata[key]?.trim();
  return v === "" ? undefined : v;
}

export function resolveTrigger(metadata: Record<string, string> | null | undefined, defaults: ScalerDefaults, env: NodeJS.ProcessEnv): ScaleTargetConfig {
  const md = metadata ?? {};
  let connection = defaults.connection;
  const name = field(md, "connectionStringName");
  if (name !== undefined) {
    const text = env[name];
    if (!text) throw new MetadataError(`connectionStringName '${name}': the scaler's environment has no variable ${name} (set it where dts scale keda runs)`);
    try {
      connection = parseConnectionString(text, `the environment variable ${name}`);
    } catch {
      // The value is not echoed: anyone who can call the scaler could otherwise read the variable.
      throw new MetadataError(`connectionStringName '${name}': the variable does not hold a valid connection string (check it with dts scale status)`);
    }
  }
  if (!connection) {
    throw new MetadataError(`no scheduler: set connectionStringName in the trigger metadata, or start dts scale keda with --connection-string or --app`);
  }
  const taskHub = field(md, "taskHub") ?? (name !== undefined ? connection.taskHub : undefined) ?? defaults.taskHub ?? connection.taskHub;
  if (!taskHub) throw new MetadataError(`no task hub: set taskHub in the trigger metadata, TaskHub= in the connection string, or start dts scale keda with --task-hub`);
  const limits = { ...(defaults.limits ?? DEFAULT_LIMITS) };
  for (const kind of KINDS) {
    const v = field(md, LIMIT_NAMES[kind]);
    if (v === undefined) continue;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1) throw new MetadataError(`${LIMIT_NAMES[kind]} must be a whole number of at least 1 (got '${v}')`);
    limits[kind] = n;
  }
  return { connection, taskHub, limits };
}

/** The external metric's name: stable per task hub, in the characters Kubernetes metric names allow. */
export function metricNameFor(taskHub: string): string {
  return `durabletask-target-workers-${taskHub.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`;
}
