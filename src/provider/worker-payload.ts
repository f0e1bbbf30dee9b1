// The base64 protobuf that durable-functions 4's triggers take and return. What comes back from the
// app is checked strictly: Buffer.from(x, "base64") skips characters it does not know, so a stray
// string would otherwise decode into some message rather than fail.
import { InvocationRequest } from "./function-app";
import { returnedValue } from "./typed-data";

/** What is wrong with a worker's answer, in words for the failure details. */
export class WorkerPayloadError extends Error {}

// Checked in linear time: one regex over a multi-megabyte answer must not backtrack (or recurse).
const NOT_BASE64 = /[^A-Za-z0-9+/]/;
const isBase64 = (s: string) => s.length % 4 === 0 && !NOT_BASE64.test(s.endsWith("==") ? s.slice(0, -2) : s.endsWith("=") ? s.slice(0, -1) : s);

/**
 * The invocation for a request: the base64 string is the trigger itself, which the host hands to the
 * function directly (host/direct-invocation.ts, as for the 3.x triggers); for @azure/functions' model
 * (an app's first invocation, or a function with other bindings) it is also the trigger data, as
 * JSON, which the model parses at once (as `{string}` it would first try JSON.parse on the base64 and
 * throw, a tenth of the invocation's cost), made only if read.
 */
export function workerPayloadRequest(triggerBindingName: string, bytes: Uint8Array): InvocationRequest {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let json: string | undefined;
  return { inputData: { [triggerBindingName]: { get json() { return (json ??= JSON.stringify(base64)); } } }, trigger: base64 };
}

/** The message a trigger returned (RpcTypedData or a plain string), decoded by `decode`. */
export function decodeWorkerPayload<T>(returned: unknown, decode: (bytes: Uint8Array) => T, what: string): T {
  const value = returnedValue(returned);
  if (typeof value !== "string") throw new WorkerPayloadError(`expected a base64 ${what}, got ${describe(value)}`);
  if (!isBase64(value)) throw new WorkerPayloadError(`expected a base64 ${what}, got a string that is not base64 (${preview(value)})`);
  try {
    return decode(Buffer.from(value, "base64"));
  } catch (err) {
    throw new WorkerPayloadError(`the base64 does not decode as ${what}: ${(err as Error).message}`);
  }
}

function describe(v: unknown): string {
  if (v === undefined || v === null) return "no value";
  if (Buffer.isBuffer(v)) return `${v.length} bytes`;
  return `a value of type ${Array.isArray(v) ? "array" : typeof v}`;
}

function preview(s: string): string {
  return s.length > 40 ? `"${s.slice(0, 40)}…", ${s.length} characters` : JSON.stringify(s);
}
