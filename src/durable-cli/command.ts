// `dts durable <verb>`: Azure Functions Core Tools' `func durable` against this scheduler. Each verb is
// one or two TaskHubSidecarService calls through the host's SidecarClient (the same client the Durable
// HTTP management API uses), with the connection string, task hub and token resolved as `dts scale`
// resolves them. src/cli.ts dispatches `dts durable ...` here; the exit code is returned, not set.
import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "crypto";
import * as path from "path";
import { parseArgs } from "util";
import { str, toTimestamp } from "../core/events";
import { statusName } from "../core/model";
import { pb } from "../proto";
import { appEnvironment } from "../provider/app-files";
import { isGrpcError, SidecarClient } from "../host/sidecar-client";
import { historyPayload, statusPayload, StatusPayload } from "../host/status-payload";
import { DEFAULT_CONNECTION_STRING_NAME } from "../provider/config";
import { CredentialError, tokenSourceFor } from "../provider/credentials";
import { resolveScaleConfig } from "../../scale/config";
import { EXIT, ExitCode, exitCodeForStatus } from "./exit-codes";
import { formatHistory, formatInstances, formatStatus, statusJson } from "./format";
import { bool, DurableUsageError, jsonFlag, positiveInt, PURGEABLE, purgeStatuses, required, runtimeStatuses, text, time, Values } from "./flags";

const S = pb.OrchestrationStatus;
const DEFAULT_TIMEOUT_S = 30;
const DEFAULT_PURGE_TIMEOUT_S = 300;
const DEFAULT_TOP = 10;

const COMMON_OPTIONS = {
  "connection-string": { type: "string" }, "connection-string-setting": { type: "string" },
  "task-hub-name": { type: "string" }, "task-hub": { type: "string" }, app: { type: "string" },
  json: { type: "boolean" }, timeout: { type: "string" }, help: { type: "boolean", short: "h" },
} as const;

const COMMON_HELP = `Connection (first that applies):
  --connection-string <s>          Endpoint=...;TaskHub=...;Authentication=... (any Authentication the
                                   managed scheduler's SDKs accept)
  --connection-string-setting <n>  the environment variable (or, with --app, app setting) holding it
  --app <dir>                      a function app: its host.json connection setting and hub, read from
                                   its local.settings.json Values and the environment
  (else the environment variable ${DEFAULT_CONNECTION_STRING_NAME})
  --task-hub-name <hub>            the task hub (default: the connection string's TaskHub, else the
                                   app's hub); --task-hub is the same
Output:
  --json                           print JSON for scripts instead of text
  --timeout <seconds>              give up on a call after this long (default ${DEFAULT_TIMEOUT_S}; purge-history ${DEFAULT_PURGE_TIMEOUT_S})
  -h, --help                       this help`;

const EXIT_HELP = `Exit codes: 0 done; 2 bad arguments; 3 instance or task hub not found; 4 scheduler unreachable or
no answer in time; 5 refused by the scheduler (wrong state, id in use, credentials, limits); 1 other errors.`;

interface Context {
  client: SidecarClient;
  hub: string;
  values: Values;
  timeoutMs: number;
}

/** What a verb prints: `json` with --json, else `text`; or, for a failure it detected itself, `error` and `code`. */
type Outcome = { json: unknown; text: string; code?: undefined; error?: undefined } | { code: ExitCode; error: string };

interface Verb {
  summary: string;
  /** The verb's own flags, as usage lines. */
  help: string;
  options: Record<string, { type: "string" | "boolean" }>;
  /** Checks the flags before anything is sent; throws DurableUsageError naming the flag. */
  check?(values: Values): void;
  run(ctx: Context): Promise<Outcome>;
}

// ---- verbs ---------------------------------------------------------------------------------------

const ID = { id: { type: "string" } } as const;
const REASON = { ...ID, reason: { type: "string" } } as const;

async function getStatus(ctx: Context, id: string, withPayloads: boolean): Promise<pb.IOrchestrationState | undefined> {
  const res = await ctx.client.call<pb.GetInstanceResponse>("GetInstance", { instanceId: id, getInputsAndOutputs: withPayloads }, ctx.hub, ctx.timeoutMs);
  return res.exists && res.orchestrationState ? res.orchestrationState : undefined;
}

function notFound(id: string, hub: string): Outcome {
  return { code: EXIT.notFound, error: `no instance '${id}' in task hub '${hub}'; check --id and --task-hub-name` };
}

/** An operation on one instance that answers nothing: the same text and JSON shape for each. */
function instanceOperation(summary: string, rpc: string, done: string, request: (v: Values, id: string) => object): Verb {
  return {
    summary, options: REASON,
    help: "  --id <instanceId>   the instance (required)\n  --reason <text>     why, kept in the instance's history (a termination's reason is its output)",
    check: (v) => void required(v, "id", "<instanceId>"),
    async run(ctx) {
      const id = required(ctx.values, "id", "<instanceId>");
      await ctx.client.call(rpc, request(ctx.values, id), ctx.hub, ctx.timeoutMs);
      return { json: { instanceId: id, taskHub: ctx.hub, result: done }, text: `Instance '${id}': ${done}.\n` };
    },
  };
}

const VERBS: Record<string, Verb> = {
  "start-new": {
    summary: "Start an orchestration",
    options: { "function-name": { type: "string" }, id: { type: "string" }, input: { type: "string" }, version: { type: "string" } },
    help: `  --function-name <name>  the orchestrator function (required)
  --id <instanceId>       the new instance's id (default: a new random id)
  --input <json|@file>    its input: JSON text, or @path to a file holding JSON
  --version <v>           the orchestration version`,
    check: (v) => {
      required(v, "function-name", "<orchestrator>");
      jsonFlag(v, "input");
    },
    async run(ctx) {
      const name = required(ctx.values, "function-name", "<orchestrator>");
      const id = text(ctx.values, "id") ?? randomUUID().replace(/-/g, "");
      const res = await ctx.client.call<pb.CreateInstanceResponse>("StartInstance", {
        instanceId: id, name, input: str(jsonFlag(ctx.values, "input")), version: str(text(ctx.values, "version")), requestTime: toTimestamp(Date.now()),
      }, ctx.hub, ctx.timeoutMs);
      const instanceId = res.instanceId || id;
      return { json: { instanceId, name, taskHub: ctx.hub }, text: `Started '${name}' as instance '${instanceId}' in task hub '${ctx.hub}'.\n` };
    },
  },
  "get-runtime-status": {
    summary: "Show an instance's status",
    options: { ...ID, "show-input": { type: "boolean" }, "show-output": { type: "boolean" } },
    help: `  --id <instanceId>  the instance (required)
  --show-input       include its input
  --show-output      include its output (a failed instance's: the error message)`,
    check: (v) => void required(v, "id", "<instanceId>"),
    async run(ctx) {
      const id = required(ctx.values, "id", "<instanceId>");
      const view = { showInput: !!ctx.values["show-input"], showOutput: !!ctx.values["show-output"] };
      const state = await getStatus(ctx, id, view.showInput || view.showOutput);
      if (!state) return notFound(id, ctx.hub);
      const payload = statusPayload(state, view.showInput);
      return { json: statusJson(payload, view), text: formatStatus(payload, view) };
    },
  },
  "get-history": {
    summary: "Show an instance's history",
    options: ID,
    help: "  --id <instanceId>  the instance (required)",
    check: (v) => void required(v, "id", "<instanceId>"),
    async run(ctx) {
      const id = required(ctx.values, "id", "<instanceId>");
      const events = historyPayload(await ctx.client.history(id, ctx.hub), true) as Record<string, unknown>[];
      return { json: events, text: formatHistory(events) };
    },
  },
  "get-instances": {
    summary: "List orchestration instances, filtered, a page at a time",
    options: {
      "created-after": { type: "string" }, "created-before": { type: "string" }, "runtime-status": { type: "string" },
      top: { type: "string" }, "continuation-token": { type: "string" }, "show-input": { type: "boolean" }, "show-output": { type: "boolean" },
    },
    help: `  --created-after <time>       created at or after this time (ISO 8601)
  --created-before <time>      created at or before this time
  --runtime-status <a,b>       Running, Pending, Suspended, Completed, Failed, Terminated, Canceled, ContinuedAsNew
  --top <n>                    instances per page (default ${DEFAULT_TOP}, at most 1000)
  --continuation-token <t>     the next page (printed after a full page)
  --show-input, --show-output  include inputs / outputs`,
    check: (v) => {
      time(v, "created-after");
      time(v, "created-before");
      runtimeStatuses(v);
      positiveInt(v, "top");
    },
    async run(ctx) {
      const v = ctx.values;
      const view = { showInput: !!v["show-input"], showOutput: !!v["show-output"] };
      const res = await ctx.client.call<pb.QueryInstancesResponse>("QueryInstances", {
        query: {
          runtimeStatus: runtimeStatuses(v), createdTimeFrom: time(v, "created-after"), createdTimeTo: time(v, "created-before"),
          maxInstanceCount: positiveInt(v, "top") ?? DEFAULT_TOP, continuationToken: str(text(v, "continuation-token")),
          fetchInputsAndOutputs: view.showInput || view.showOutput,
        },
      }, ctx.hub, ctx.timeoutMs);
      // Entities share the instance table; func durable lists orchestrations only.
      const list: StatusPayload[] = (res.orchestrationState ?? []).filter((s) => !(s.instanceId ?? "").startsWith("@"))
        .map((s) => statusJson(statusPayload(s, view.showInput), view));
      const token = res.continuationToken?.value || null;
      return { json: { taskHub: ctx.hub, instances: list, continuationToken: token }, text: formatInstances(list, token, view.showInput) };
    },
  },
  "raise-event": {
    summary: "Send an event to a waiting instance",
    options: { ...ID, "event-name": { type: "string" }, "event-data": { type: "string" } },
    help: `  --id <instanceId>          the instance (required)
  --event-name <name>        the event's name (required)
  --event-data <json|@file>  its data: JSON text, or @path to a file holding JSON (default null)`,
    check: (v) => {
      required(v, "id", "<instanceId>");
      required(v, "event-name", "<name>");
      jsonFlag(v, "event-data");
    },
    async run(ctx) {
      const id = required(ctx.values, "id", "<instanceId>");
      const name = required(ctx.values, "event-name", "<name>");
      await ctx.client.call("RaiseEvent", { instanceId: id, name, input: str(jsonFlag(ctx.values, "event-data") ?? "null") }, ctx.hub, ctx.timeoutMs);
      return { json: { instanceId: id, taskHub: ctx.hub, eventName: name, result: "event raised" }, text: `Raised event '${name}' on instance '${id}'.\n` };
    },
  },
  terminate: instanceOperation("Terminate a running instance (and its sub-orchestrations)", "TerminateInstance", "termination requested",
    (v, id) => ({ instanceId: id, output: str(text(v, "reason") === undefined ? undefined : JSON.stringify(text(v, "reason"))), recursive: true })),
  suspend: instanceOperation("Suspend a running instance", "SuspendInstance", "suspend requested", (v, id) => ({ instanceId: id, reason: str(text(v, "reason")) })),
  resume: instanceOperation("Resume a suspended instance", "ResumeInstance", "resume requested", (v, id) => ({ instanceId: id, reason: str(text(v, "reason")) })),
  rewind: instanceOperation("Rewind a failed instance: rerun what failed", "RewindInstance", "rewind requested", (v, id) => ({ instanceId: id, reason: str(text(v, "reason")) })),
  restart: {
    summary: "Start a finished instance again with its original input",
    options: { ...ID, "restart-with-new-id": { type: "string" } },
    help: `  --id <instanceId>                 the instance (required)
  --restart-with-new-id true|false  run it under a new id (default true) or its own`,
    check: (v) => {
      required(v, "id", "<instanceId>");
      bool(v, "restart-with-new-id", true);
    },
    async run(ctx) {
      const id = required(ctx.values, "id", "<instanceId>");
      const res = await ctx.client.call<pb.RestartInstanceResponse>("RestartInstance", {
        instanceId: id, restartWithNewInstanceId: bool(ctx.values, "restart-with-new-id", true),
      }, ctx.hub, ctx.timeoutMs);
      const instanceId = res.instanceId || id;
      return { json: { instanceId, restartedFrom: id, taskHub: ctx.hub }, text: `Restarted instance '${id}' as '${instanceId}'.\n` };
    },
  },
  "purge-history": {
    summary: "Delete finished instances and their history: one by --id, or all matching the filters",
    options: { ...ID, "created-after": { type: "string" }, "created-before": { type: "string" }, "runtime-status": { type: "string" } },
    help: `  --id <instanceId>          purge this instance only (it must be finished)
  --created-after <time>     else: instances created at or after this time (ISO 8601)
  --created-before <time>    and at or before this time
  --runtime-status <a,b>     and in these statuses (default: Completed, Failed, Terminated, Canceled)
  With no filter, every finished instance in the task hub is purged.`,
    check: (v) => {
      if (text(v, "id") !== undefined && ["created-after", "created-before", "runtime-status"].some((f) => v[f] !== undefined)) {
        throw new DurableUsageError("--id purges one instance; leave out --created-after, --created-before and --runtime-status, or leave out --id");
      }
      time(v, "created-after");
      time(v, "created-before");
      purgeStatuses(v);
    },
    async run(ctx) {
      const v = ctx.values;
      const id = text(v, "id");
      const request = id !== undefined ? { instanceId: id } : {
        purgeInstanceFilter: { createdTimeFrom: time(v, "created-after"), createdTimeTo: time(v, "created-before"), runtimeStatus: purgeStatuses(v) },
      };
      const res = await ctx.client.call<pb.PurgeInstancesResponse>("PurgeInstances", request, ctx.hub, ctx.timeoutMs);
      const deleted = res.deletedInstanceCount ?? 0;
      if (id !== undefined && deleted === 0) {
        // The scheduler answers 0 for an unfinished instance as for an unknown one (as the SDKs expect); tell them apart.
        const state = await getStatus(ctx, id, false);
        if (!state) return notFound(id, ctx.hub);
        const status = state.orchestrationStatus ?? S.ORCHESTRATION_STATUS_RUNNING;
        if (!PURGEABLE.includes(status)) return { code: EXIT.refused, error: `instance '${id}' is ${statusName(status)}, not finished, so it cannot be purged; terminate it first` };
      }
      return { json: { taskHub: ctx.hub, instancesDeleted: deleted }, text: `Purged ${deleted} instance(s) from task hub '${ctx.hub}'.\n` };
    },
  },
  "delete-task-hub": {
    summary: "Delete the task hub and everything in it",
    options: {},
    help: "  (the hub is --task-hub-name's, else the connection string's or the app's)",
    async run(ctx) {
      await ctx.client.call("DeleteTaskHub", {}, ctx.hub, ctx.timeoutMs);
      return { json: { taskHub: ctx.hub, result: "deleted" }, text: `Deleted task hub '${ctx.hub}'.\n` };
    },
  },
};

export const DURABLE_USAGE = `Usage: dts durable <verb> [options]   (like func durable, against the Durable Task Scheduler)

Verbs:
${Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(20)}${v.summary}`).join("\n")}

dts durable <verb> --help shows a verb's options.

${COMMON_HELP}

${EXIT_HELP}
`;

function verbUsage(name: string, verb: Verb): string {
  return `Usage: dts durable ${name} [options]\n\n${verb.summary}.\n\nOptions:\n${verb.help}\n\n${COMMON_HELP}\n\n${EXIT_HELP}\n`;
}

// ---- connection --------------------------------------------------------------------------------

/** The scheduler and hub the flags name; every problem is a usage error saying what to pass. */
function resolveTarget(values: Values, env: NodeJS.ProcessEnv) {
  const appDir = text(values, "app") === undefined ? undefined : path.resolve(text(values, "app")!);
  const setting = text(values, "connection-string-setting");
  let connectionString = text(values, "connection-string");
  if (connectionString !== undefined && setting !== undefined) throw new DurableUsageError("give --connection-string or --connection-string-setting, not both");
  const hubName = text(values, "task-hub-name") ?? text(values, "task-hub");
  try {
    if (setting !== undefined) {
      const settings = appDir ? appEnvironment(appDir, env).env : env;
      connectionString = settings[setting];
      if (!connectionString) {
        throw new DurableUsageError(`--connection-string-setting ${setting}: no such ${appDir ? "app setting (environment or local.settings.json Values)" : "environment variable"}, or it is empty`);
      }
    }
    if (connectionString === undefined && appDir === undefined && !env[DEFAULT_CONNECTION_STRING_NAME]) {
      throw new DurableUsageError(`no scheduler given: pass --connection-string "Endpoint=http://localhost:8080;TaskHub=default;Authentication=None", --connection-string-setting <NAME>, --app <function app dir>, or set ${DEFAULT_CONNECTION_STRING_NAME}`);
    }
    const t = resolveScaleConfig({ connectionString, taskHub: hubName, appDir, env });
    return { connection: t.connection, hub: t.taskHub, tokenSource: tokenSourceFor(t.connection) };
  } catch (err) {
    // Connection string, app settings, host.json, credential type: all things the user fixes in what they passed.
    if (err instanceof DurableUsageError) throw err;
    throw new DurableUsageError((err as Error).message);
  }
}

// ---- running -------------------------------------------------------------------------------------

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STD: Output = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** What to tell the user about a failed call, and the exit code. */
function failure(err: unknown, endpoint: string, hub: string): { message: string; code: ExitCode } {
  if (err instanceof CredentialError) return { message: `${err.message}; check Authentication= in the connection string and that you are signed in`, code: EXIT.refused };
  if (!isGrpcError(err)) return { message: (err as Error)?.message ?? String(err), code: EXIT.failed };
  const code = exitCodeForStatus(err.code);
  const reason = `${grpc.status[err.code] ?? err.code}: ${(err.details || err.message).trim()}`;
  if (code === EXIT.unreachable) {
    return { message: `the scheduler at ${endpoint} did not answer (${reason}); check that it is running and the connection string's Endpoint`, code };
  }
  if (err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED) {
    return { message: `${reason}; check Authentication= in the connection string and the identity's access to task hub '${hub}'`, code };
  }
  return { message: reason, code };
}

/** Runs `dts durable ...argv`; resolves with the exit code (output already written). */
export async function durableCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Output = STD): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.out(DURABLE_USAGE);
    return EXIT.ok;
  }
  const verb = Object.prototype.hasOwnProperty.call(VERBS, name) ? VERBS[name] : undefined;
  if (!verb) {
    io.err(`dts durable: unknown verb '${name}'; verbs: ${Object.keys(VERBS).join(", ")} (dts durable --help)\n`);
    return EXIT.usage;
  }
  let values: Values;
  let target: ReturnType<typeof resolveTarget>;
  let timeoutS: number;
  try {
    values = parseArgs({ args, options: { ...COMMON_OPTIONS, ...verb.options }, strict: true, allowPositionals: false }).values as Values;
    if (values.help) {
      io.out(verbUsage(name, verb));
      return EXIT.ok;
    }
    verb.check?.(values);
    const t = text(values, "timeout");
    timeoutS = t === undefined ? (name === "purge-history" ? DEFAULT_PURGE_TIMEOUT_S : DEFAULT_TIMEOUT_S) : Number(t);
    if (!(timeoutS > 0) || !isFinite(timeoutS)) throw new DurableUsageError(`--timeout must be a number of seconds > 0, got '${t}'`);
    target = resolveTarget(values, env);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (err instanceof DurableUsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      io.err(`dts durable ${name}: ${(err as Error).message} (dts durable ${name} --help)\n`);
      return EXIT.usage;
    }
    throw err;
  }

  const client = new SidecarClient(target.connection.endpoint, { tokenSource: target.tokenSource, timeoutMs: timeoutS * 1000 });
  try {
    const outcome = await verb.run({ client, hub: target.hub, values, timeoutMs: timeoutS * 1000 });
    if (outcome.error !== undefined) {
      io.err(`dts durable ${name}: ${outcome.error}\n`);
      return outcome.code;
    }
    io.out(values.json ? JSON.stringify(outcome.json, null, 2) + "\n" : outcome.text);
    return EXIT.ok;
  } catch (err) {
    const f = failure(err, target.connection.endpoint, target.hub);
    io.err(`dts durable ${name}: ${f.message}\n`);
    return f.code;
  } finally {
    client.close();
  }
}
