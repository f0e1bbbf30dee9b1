// Which protocol an app's durable functions speak with their host. durable-functions 3 uses the
// out-of-process JSON protocol; durable-functions 4 marks every durable trigger and client binding
// `durableRequiresGrpc: true` and takes protobuf work items (base64) and a gRPC client channel. One
// process serves one protocol: the two libraries would each claim the app's orchestrations.
import { FunctionApp, FunctionBinding, RegisteredFunction } from "./function-app";

export type DurableProtocol = "json" | "grpc";

/** How logs name each protocol. */
export const PROTOCOL_NAMES: Record<DurableProtocol, string> = {
  json: "durable-functions 3 out-of-process JSON protocol",
  grpc: "durable-functions 4 gRPC protocol",
};

const DURABLE_BINDING = /^(orchestrationTrigger|activityTrigger|entityTrigger|durableClient|orchestrationClient)$/i;

export class MixedDurableProtocolsError extends Error {}

/** The protocol of one function's durable bindings, or undefined when it has none. */
export function functionProtocol(fn: RegisteredFunction): DurableProtocol | undefined {
  const durable = Object.values(fn.bindings).filter((b: FunctionBinding) => DURABLE_BINDING.test(b.type));
  if (durable.length === 0) return undefined;
  return durable.some((b) => b.durableRequiresGrpc === true) ? "grpc" : "json";
}

/** The one protocol the app's durable functions use (undefined: none); refuses an app that mixes them. */
export function appProtocol(app: FunctionApp): DurableProtocol | undefined {
  const by: Record<DurableProtocol, string[]> = { json: [], grpc: [] };
  for (const fn of app.functions.values()) {
    const p = functionProtocol(fn);
    if (p) by[p].push(fn.name);
  }
  if (by.json.length > 0 && by.grpc.length > 0) {
    throw new MixedDurableProtocolsError(
      `The app mixes durable-functions 3 and 4, which one Functions host cannot run together: ${list(by.grpc)} use durable-functions 4 (gRPC), ` +
      `${list(by.json)} use durable-functions 3 (JSON). Load one version of durable-functions in the app (check package.json and that only one copy is installed).`,
    );
  }
  return by.grpc.length > 0 ? "grpc" : by.json.length > 0 ? "json" : undefined;
}

function list(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
