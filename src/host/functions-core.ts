// The `@azure/functions-core` module. It is not an npm package: the Node.js language worker makes
// `require("@azure/functions-core")` return it, and `@azure/functions` 4.x registers the app's
// programming model, functions and hooks through it. Without it the library falls back to "test
// mode" and registers nothing, so our host installs its own before the app is loaded.
import Module = require("module");
import * as path from "path";
import { HostLog, LogCategory, LogLevel } from "./log";

export const CORE_MODULE_NAME = "@azure/functions-core";

/** What the worker tells the app about itself (the app only reads them; e.g. for feature checks). */
export const CORE_VERSION = "3.11.0";
export const HOST_VERSION = "4.1038.0";

export type HookName = "appStart" | "appTerminate" | "preInvocation" | "postInvocation" | "log";
const HOOK_NAMES: readonly HookName[] = ["appStart", "appTerminate", "preInvocation", "postInvocation", "log"];

export type HookCallback = (context: Record<string, unknown>) => unknown;
export type FunctionCallback = (...args: unknown[]) => unknown;

/** RpcBindingInfo as @azure/functions builds it (toCoreFunctionMetadata). */
export interface CoreBinding {
  type?: string;
  direction?: "in" | "out" | "inout";
  [setting: string]: unknown;
}

export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBinding>;
  retryOptions?: unknown;
  [field: string]: unknown;
}

/** The programming model object @azure/functions passes to setProgrammingModel. */
export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Record<string, string> | Promise<Record<string, string>>;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<CoreInvocationResponse>;
}

export interface CoreInvocationResponse {
  invocationId?: string;
  returnValue?: unknown;
  outputData?: { name: string; data: unknown }[];
}

/** What the worker hands to getInvocationModel for one invocation. */
export interface CoreInvocationContext {
  invocationId: string;
  request: {
    invocationId: string;
    functionId: string;
    inputData: { name: string; data: unknown }[];
    triggerMetadata: Record<string, unknown>;
    retryContext?: unknown;
    traceContext?: unknown;
  };
  metadata: CoreFunctionMetadata;
  /** The worker's phase; @azure/functions reads it to warn about logs after the function returned. */
  state?: "preInvocationHooks" | "invocation" | "postInvocationHooks";
  log(level: LogLevel, category: LogCategory, message: string): void;
}

/** A binding type that triggers its function (httpTrigger, orchestrationTrigger, ...), as the worker tells them. */
export const isTrigger = (type: unknown): boolean => typeof type === "string" && /trigger$/i.test(type);

export interface RegisteredCoreFunction {
  functionId: string;
  metadata: CoreFunctionMetadata;
  callback: FunctionCallback;
}

/** Like VS Code's Disposable, which is what the worker exports (hooks and functions return one). */
export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const d of items) d?.dispose?.();
    });
  }

  #onDispose?: () => unknown;

  constructor(onDispose: () => unknown) {
    this.#onDispose = onDispose;
  }

  dispose(): unknown {
    const f = this.#onDispose;
    this.#onDispose = undefined;
    return f?.();
  }
}

/** The host side of the module: what the app registered through it. One per process. */
export class FunctionsRuntime {
  programmingModel?: ProgrammingModel;
  readonly functions = new Map<string, RegisteredCoreFunction>();
  readonly hooks: Record<HookName, Set<HookCallback>> = {
    appStart: new Set(), appTerminate: new Set(), preInvocation: new Set(), postInvocation: new Set(), log: new Set(),
  };
  /** Where the library's system logs (coreApi.log) go; the loader points it at the host's log. */
  log: HostLog = () => undefined;
  private nextId = 1;

  /** The module object the app gets from require("@azure/functions-core"). */
  readonly api = {
    version: CORE_VERSION,
    hostVersion: HOST_VERSION,
    Disposable,
    registerHook: (name: string, callback: HookCallback): Disposable => {
      if (!HOOK_NAMES.includes(name as HookName)) {
        // @azure/functions recognises a RangeError here as "this host is too old for that hook".
        throw Object.assign(new RangeError(`Unrecognized hook "${name}"`), { isAzureFunctionsSystemError: true });
      }
      if (typeof callback !== "function") throw new TypeError(`The ${name} hook callback must be a function`);
      const set = this.hooks[name as HookName];
      set.add(callback);
      return new Disposable(() => set.delete(callback));
    },
    setProgrammingModel: (model: ProgrammingModel): void => {
      if (this.programmingModel) this.log("warning", `Programming model "${this.programmingModel.name}" replaced by "${model.name}"`, "host");
      this.programmingModel = model;
    },
    getProgrammingModel: (): ProgrammingModel | undefined => this.programmingModel,
    log: (level: LogLevel, category: LogCategory, message: string): void => this.log(level, message, category),
    registerFunction: (metadata: CoreFunctionMetadata, callback: FunctionCallback): Disposable => {
      if (!metadata?.name) throw new Error("A function can't be registered without a name");
      if (!metadata.bindings || typeof metadata.bindings !== "object") throw new Error(`Function "${metadata.name}" has no bindings`);
      if (typeof callback !== "function") throw new Error(`Function "${metadata.name}" has no callback`);
      const key = metadata.name.toLowerCase(); // function names are case-insensitive in the host
      if (this.functions.has(key)) throw new Error(`A function with the name "${metadata.name}" has already been registered`);
      const entry = { functionId: String(this.nextId++), metadata, callback };
      this.functions.set(key, entry);
      return new Disposable(() => {
        if (this.functions.get(key) === entry) this.functions.delete(key);
      });
    },
  };

  /** Runs the hooks of one kind in registration order, each awaited (as the worker does). */
  async runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
    for (const cb of [...this.hooks[name]]) await cb(context);
  }

  /** Runs log hooks synchronously (logging can't wait); a hook may change level and message. */
  runLogHooks(context: Record<string, unknown>): void {
    for (const cb of [...this.hooks.log]) {
      try {
        cb(context);
      } catch (err) {
        this.log("error", `A log hook failed: ${err instanceof Error ? err.message : String(err)}`, "host");
      }
    }
  }
}

// A path-like cache key, so tools that assume module ids are file names (source maps, stack traces) cope.
const CACHE_KEY = path.join(__dirname, "__azure-functions-core__.js");
let installed: FunctionsRuntime | undefined;

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

/**
 * Makes require("@azure/functions-core") return `runtime.api` everywhere in this process: a
 * Module._resolveFilename hook maps the name to a fixed id and require.cache holds the module under
 * it. ESM apps are covered too, because @azure/functions (CommonJS) is what requires the module.
 */
export function installFunctionsCore(runtime: FunctionsRuntime): void {
  const M = Module as unknown as { _resolveFilename: ResolveFilename; _cache: Record<string, unknown> };
  if (!installed) {
    const original = M._resolveFilename;
    M._resolveFilename = function (this: unknown, request, parent, isMain, options) {
      return request === CORE_MODULE_NAME ? CACHE_KEY : original.call(this, request, parent, isMain, options);
    };
  }
  installed = runtime;
  const mod = new Module(CACHE_KEY);
  mod.filename = CACHE_KEY;
  mod.loaded = true;
  mod.exports = runtime.api;
  M._cache[CACHE_KEY] = mod;
}
