// A function's return value as FunctionApp.invoke hands it over: either @azure/functions' RpcTypedData
// (what getResponse produces: {json}, {string}, {int}, ...) or the plain value. Both are accepted so
// the provider does not depend on which of the two the host passes on.

const TYPED_FIELDS = new Set(["string", "json", "bytes", "stream", "http", "int", "double", "collectionBytes", "collectionString", "collectionDouble", "collectionSint64"]);

/** RpcTypedData: a plain object with exactly one set field, all of whose keys are typed-data fields. */
function asTypedData(v: unknown): Record<string, unknown> | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v) || Buffer.isBuffer(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length === 0 || !keys.every((k) => TYPED_FIELDS.has(k))) return undefined;
  const set = keys.filter((k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null);
  return set.length === 1 ? (v as Record<string, unknown>) : undefined;
}

/** The value a function returned, decoded from RpcTypedData when it is one. */
export function returnedValue(v: unknown): unknown {
  const t = asTypedData(v);
  if (!t) return v;
  if (t.json !== undefined && t.json !== null) return JSON.parse(String(t.json));
  if (t.string !== undefined && t.string !== null) return t.string;
  if (t.int !== undefined && t.int !== null) return Number(t.int);
  if (t.double !== undefined && t.double !== null) return Number(t.double);
  if (t.bytes !== undefined && t.bytes !== null) return Buffer.from(t.bytes as Uint8Array);
  if (t.stream !== undefined && t.stream !== null) return Buffer.from(t.stream as Uint8Array);
  const c = (t.collectionString ?? t.collectionDouble ?? t.collectionSint64 ?? t.collectionBytes) as Record<string, unknown[]> | undefined;
  if (c) return Object.values(c)[0];
  return undefined;
}

/**
 * A returned value as the JSON text stored for it (TaskCompleted result, entity state): undefined
 * for no value; bytes as a base64 JSON string, the way .NET serializes byte arrays.
 */
export function returnedJson(v: unknown): string | undefined {
  const value = returnedValue(v);
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString("base64"));
  return JSON.stringify(value);
}

/** An object result (an orchestrator's state, an entity batch's output); strings holding JSON are parsed. */
export function returnedObject(v: unknown): Record<string, unknown> | undefined {
  let value = returnedValue(v);
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Text as @azure/functions reads a {string} input: JSON when it parses, else the text itself. */
export function parsedText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
