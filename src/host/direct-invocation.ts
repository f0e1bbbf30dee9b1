// A durable trigger's invocation without @azure/functions' InvocationModel. For a function that takes
// nothing but its trigger (an orchestrator or entity registered by durable-functions), the model's
// work per invocation (converting TypedData in and out, building the binding options, its private
// fields and generators) cost more than durable-functions itself: about 45 us of the 55 us an
// invocation took. The host hands the trigger over as an object already, so what the function needs
// is the context, made with the app's own InvocationContext class, and its result as RpcTypedData.
import { format } from "util";
import { TypedData } from "../provider/function-app";
import { parsedText } from "../provider/typed-data";
import { CoreInvocationContext, isTrigger, RegisteredCoreFunction } from "./functions-core";

/** The app's @azure/functions InvocationContext class (taken from a context the library made). */
export type ContextClass = new (init: Record<string, unknown>) => object;

type Log = CoreInvocationContext["log"];

/** The function's bindings are its trigger alone (and the return value's): no extra inputs or outputs to convert. */
export function triggerOnly(fn: RegisteredCoreFunction): boolean {
  return Object.entries(fn.metadata.bindings).every(([name, b]) => isTrigger(b.type) || (name === "$return" && !/^http$/i.test(String(b.type))));
}

/**
 * The context @azure/functions would give the function: the same fields, a logger that formats as
 * the library's does, and the library's warning for a log after the function returned.
 */
export function directContext(
  Context: ContextClass, fn: RegisteredCoreFunction, invocationId: string, triggerMetadata: Record<string, unknown>,
  coreCtx: Pick<CoreInvocationContext, "log" | "state">, done: () => boolean,
): object {
  const [triggerName, trigger] = Object.entries(fn.metadata.bindings).find(([, b]) => isTrigger(b.type))!;
  const returned = fn.metadata.bindings.$return;
  return new Context({
    invocationId,
    functionName: fn.metadata.name,
    triggerMetadata,
    options: { trigger: { ...trigger, name: triggerName }, return: returned && { ...returned, name: "$return" }, extraInputs: [], extraOutputs: [] },
    logHandler: (level: Parameters<Log>[0], ...args: unknown[]) => {
      if (done() && coreCtx.state !== "postInvocationHooks") {
        coreCtx.log("warning", "system", "Warning: Unexpected call to 'log' on the context object after function execution has completed. Please check for " +
          `asynchronous calls that are not awaited. Function name: ${fn.metadata.name}. Invocation Id: ${invocationId}.`);
      }
      coreCtx.log(level, "user", format(...args));
    },
  });
}

/** A function's result as @azure/functions hands it to the host (its toRpcTypedData). */
export function rpcTypedData(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") return { string: value };
  if (Buffer.isBuffer(value)) return { bytes: value };
  if (ArrayBuffer.isView(value)) return { bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  if (value instanceof ArrayBuffer) return { bytes: new Uint8Array(value) };
  if (typeof value === "number") return Number.isInteger(value) ? { int: value } : { double: value };
  return { json: JSON.stringify(value) };
}

/**
 * Trigger metadata as the library gives it to the context (its fromRpcTriggerMetadata): each value
 * decoded, keys camelCased all the way down. Undefined when a value is of a kind other than the
 * JSON or text the durable bridges send: that invocation goes through the library.
 */
export function contextTriggerMetadata(metadata: Record<string, TypedData> | undefined): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, data] of Object.entries(metadata ?? {})) {
    if (typeof data?.json === "string") out[camelKey(key)] = camelValue(JSON.parse(data.json));
    else if (typeof data?.string === "string") out[camelKey(key)] = camelValue(parsedText(data.string));
    else return undefined;
  }
  return out;
}

const camelKey = (key: string) => key.charAt(0).toLowerCase() + key.slice(1);

function camelValue(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(camelValue);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [camelKey(k), camelValue(v)]));
}
