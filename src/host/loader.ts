// Loads a Node.js function app (programming model v4) the way the Azure Functions Node worker does,
// and invokes its functions the same way, so any app written for Azure runs here unchanged: plain
// JavaScript or compiled TypeScript, CommonJS or ESM, one entry file or a glob of them.
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { FunctionApp, FunctionBinding, InvocationRequest, InvocationResult, RegisteredFunction, TypedData } from "../provider/function-app";
import { CoreInvocationContext, FunctionsRuntime, installFunctionsCore, isTrigger, RegisteredCoreFunction } from "./functions-core";
import { ContextClass, contextTriggerMetadata, directContext, rpcTypedData, triggerOnly } from "./direct-invocation";
import { globFiles } from "./glob";
import { errorText, HostLog } from "./log";
import { keepOrchestratorErrors } from "./orchestrator-errors";
import { enforceRetryTimeouts } from "./retry-timeouts";

/** The contract's request, plus an invocation id of the caller's choosing (HTTP streaming pairs requests by it). */
export interface LoaderInvocationRequest extends InvocationRequest {
  invocationId?: string;
}

export interface LoadedFunctionApp extends FunctionApp {
  invoke(functionName: string, request: LoaderInvocationRequest): Promise<InvocationResult>;
  /** The entry files that were loaded, in order. */
  readonly entryFiles: readonly string[];
  /**
   * Set when the app enabled HTTP streaming (`app.setup({ enableHttpStream: true })`): the URL of
   * @azure/functions' own HTTP proxy, to which the HTTP server forwards the raw request.
   */
  readonly httpStreamUri?: string;
}

export interface LoadOptions {
  log?: HostLog;
}

// Dynamic import() that TypeScript's CommonJS output leaves alone (it would turn it into require()).
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

let loadedOnce = false;

/**
 * Loads the app in `dir`: package.json `main` (a file or a glob), with `env` as its process
 * environment (the app settings). Runs the appStart hooks. One app per process: the functions-core
 * module and the loaded modules are process-wide.
 */
export async function loadFunctionApp(dir: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<LoadedFunctionApp> {
  if (loadedOnce) throw new Error("A function app is already loaded in this process; start another process for another app");
  loadedOnce = true;
  const log = options.log ?? (() => undefined);
  const appDir = path.resolve(dir);

  // App settings are environment variables for the worker; apply them before any app code runs.
  if (env !== process.env) for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;

  const runtime = new FunctionsRuntime();
  runtime.log = log;
  installFunctionsCore(runtime);

  keepOrchestratorErrors(appDir);
  const retryTimeouts = enforceRetryTimeouts(appDir);
  const entryFiles = entryPoints(appDir);
  for (const file of entryFiles) {
    try {
      if (isEsm(file)) await importModule(pathToFileURL(file).href);
      else require(file);
    } catch (err) {
      throw new Error(`Worker was unable to load entry point "${path.relative(appDir, file)}": ${errorText(err)}`);
    }
  }

  const model = runtime.programmingModel;
  if (!model) {
    log("warning", `No function was registered by ${entryFiles.map((f) => path.relative(appDir, f)).join(", ")}: the app must use @azure/functions 4.x (app.http, app.generic, durable-functions' df.app.*)`);
  }
  // The worker asks the programming model for its capabilities once the app is loaded; this also
  // locks app.setup() and, when the app enabled HTTP streaming, starts the library's HTTP proxy.
  let httpStreamUri: string | undefined;
  if (model?.getCapabilities) {
    const caps = await model.getCapabilities({});
    httpStreamUri = caps.HttpUri || undefined;
  }

  const appHookData: Record<string, unknown> = {};
  const appLevelOnlyHookData: Record<string, unknown> = {};
  await runtime.runHooks("appStart", { hookData: appLevelOnlyHookData, appHookData, functionAppDirectory: appDir });

  const functions = new Map<string, RegisteredFunction>();
  for (const f of runtime.functions.values()) functions.set(f.metadata.name, describe(f));

  return {
    dir: appDir,
    entryFiles,
    httpStreamUri,
    functions,
    retryTimeouts,
    invoke: (name, request) => invoke(runtime, appHookData, name, request, log),
    close: async () => {
      await runtime.runHooks("appTerminate", { hookData: appLevelOnlyHookData, appHookData });
    },
  };
}

function entryPoints(appDir: string): string[] {
  const pkgFile = path.join(appDir, "package.json");
  let pkg: { main?: unknown };
  try {
    pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
  } catch (err) {
    throw new Error(`Cannot read ${pkgFile}: ${(err as Error).message}`);
  }
  if (typeof pkg.main !== "string" || !pkg.main) {
    throw new Error(`${pkgFile} has no "main": set it to the app's entry file or a glob of its function files (e.g. "dist/src/functions/*.js")`);
  }
  const files = globFiles(appDir, pkg.main);
  if (files.length === 0) {
    throw new Error(`Found zero files matching the supplied pattern main: "${pkg.main}" in ${appDir}` +
      (/\.js$/.test(pkg.main) ? " (is the app built? e.g. npm run build)" : ""));
  }
  return files;
}

/** ESM when .mjs, or .js under a package.json with "type": "module" (the nearest one, as Node decides). */
function isEsm(file: string): boolean {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs") || !file.endsWith(".js")) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/** TypedData the library reads as undefined: the trigger's place, filled with the request's `trigger`. */
const NO_DATA: TypedData = {};

function describe(f: RegisteredCoreFunction): RegisteredFunction {
  const bindings: Record<string, FunctionBinding> = {};
  let triggerBindingName = "";
  let triggerType = "";
  for (const [name, b] of Object.entries(f.metadata.bindings)) {
    bindings[name] = { ...b, name, type: String(b.type ?? ""), direction: b.direction ?? "in" };
    if (!triggerType && isTrigger(b.type)) {
      triggerType = String(b.type);
      triggerBindingName = name;
    }
  }
  return { name: f.metadata.name, bindings, triggerType, triggerBindingName };
}

/**
 * One invocation as the worker runs it: getInvocationModel → getArguments → preInvocation hooks →
 * invokeFunction → postInvocation hooks → getResponse. Resolves with getResponse's return value
 * (RpcTypedData, e.g. { http } for an HTTP response or { json } / { string } for other triggers) and
 * output bindings; rejects with the function's error (or the one a postInvocation hook left).
 * A durable trigger given as an object, to a function that takes nothing else, skips the model
 * (direct-invocation.ts) once the app's context class is known.
 */
async function invoke(runtime: FunctionsRuntime, appHookData: Record<string, unknown>, name: string, request: LoaderInvocationRequest, log: HostLog): Promise<InvocationResult> {
  const fn = runtime.functions.get(name.toLowerCase());
  if (!fn) throw new Error(`Function "${name}" is not registered by the app`);
  const model = runtime.programmingModel;
  if (!model) throw new Error("The app has no programming model (it did not load @azure/functions 4.x)");

  const invocationId = request.invocationId ?? randomUUID();
  const hasTrigger = request.trigger !== undefined;
  let invocationContext: unknown;
  const coreLog: CoreInvocationContext["log"] = (level, category, message) => {
    const ctx: Record<string, unknown> = { level, message, category, invocationContext, hookData: {}, appHookData };
    if (runtime.hooks.log.size > 0) runtime.runLogHooks(ctx);
    log(ctx.level as typeof level, String(ctx.message), category);
  };

  const Context = contextClasses.get(runtime);
  const metadata = hasTrigger && Context && triggerOnly(fn) ? contextTriggerMetadata(request.triggerMetadata) : undefined;
  if (Context && metadata) {
    let done = false;
    const phase: Pick<CoreInvocationContext, "log" | "state"> = { log: coreLog, state: undefined };
    const context = directContext(Context, fn, invocationId, metadata, phase, () => done);
    invocationContext = context;
    const post = await withHooks(runtime, appHookData, context, [request.trigger], fn.callback, phase, async (inputs, callback) => {
      try {
        return await callback(...inputs, context);
      } finally {
        done = true;
      }
    });
    return { returnValue: rpcTypedData(post.result), outputs: {} };
  }

  // Input data in the order of the function's bindings (trigger first), as the host sends it.
  const inputData: { name: string; data: TypedData }[] = [];
  const given = new Map(Object.entries(request.inputData));
  for (const [bindingName, binding] of Object.entries(fn.metadata.bindings)) {
    const data = given.get(bindingName);
    if (data !== undefined) {
      // A trigger given as an object is put in place of what the library reads from TypedData (below).
      inputData.push({ name: bindingName, data: hasTrigger && isTrigger(binding.type) ? NO_DATA : data });
      given.delete(bindingName);
    }
  }
  for (const [bindingName, data] of given) inputData.push({ name: bindingName, data });

  const coreCtx: CoreInvocationContext = {
    invocationId,
    request: { invocationId, functionId: fn.functionId, inputData, triggerMetadata: { ...(request.triggerMetadata ?? {}) } },
    metadata: fn.metadata,
    state: undefined,
    log: coreLog,
  };

  const invocationModel = model.getInvocationModel(coreCtx);
  const { context, inputs } = await invocationModel.getArguments();
  invocationContext = context;
  if (context && typeof context === "object" && !contextClasses.has(runtime)) contextClasses.set(runtime, context.constructor as ContextClass);
  // The library puts the one trigger's input first; the rest are in context.extraInputs.
  if (hasTrigger) inputs[0] = request.trigger;

  const post = await withHooks(runtime, appHookData, context, inputs, fn.callback, coreCtx,
    (hooked, callback) => invocationModel.invokeFunction(context, hooked, callback));
  const response = await invocationModel.getResponse(context, post.result);
  const outputs: Record<string, unknown> = {};
  for (const o of response.outputData ?? []) outputs[o.name] = o.data;
  return { returnValue: response.returnValue, outputs };
}

/** The app's InvocationContext class, once the library has made a context with it. */
const contextClasses = new WeakMap<FunctionsRuntime, ContextClass>();

/**
 * preInvocation hooks, the call (with the inputs and callback the hooks left), postInvocation hooks;
 * `phase.state` follows along, as the library reads it. Resolves with what the postInvocation hooks
 * left; rejects with the error they left.
 */
async function withHooks(
  runtime: FunctionsRuntime, appHookData: Record<string, unknown>, context: unknown, inputs: unknown[], callback: RegisteredCoreFunction["callback"],
  phase: Pick<CoreInvocationContext, "state">, call: (inputs: unknown[], callback: RegisteredCoreFunction["callback"]) => Promise<unknown>,
): Promise<{ result: unknown }> {
  const hookData: Record<string, unknown> = {};
  const pre: Record<string, unknown> = { hookData, appHookData, invocationContext: context, functionCallback: callback, inputs };
  phase.state = "preInvocationHooks";
  try {
    await runtime.runHooks("preInvocation", pre);
  } finally {
    phase.state = "invocation";
  }

  let result: unknown;
  let error: unknown;
  try {
    result = await call(pre.inputs as unknown[], pre.functionCallback as RegisteredCoreFunction["callback"]);
  } catch (err) {
    error = err;
  }

  const post: Record<string, unknown> = { hookData, appHookData, invocationContext: context, inputs: pre.inputs, result, error };
  phase.state = "postInvocationHooks";
  try {
    await runtime.runHooks("postInvocation", post);
  } finally {
    phase.state = undefined;
  }
  if (post.error !== undefined && post.error !== null) throw post.error;
  return { result: post.result };
}
