// Finding the app's durable functions by name and trigger type, and turning what they throw into
// failure details. Function names are case-insensitive in Azure Functions, so lookups are too.
import { FunctionApp, RegisteredFunction } from "./function-app";
import { str } from "../core/events";
import { FailureDetails } from "../core/model";
import { failureFromJson } from "./history-json";

export const ORCHESTRATION_TRIGGER = "orchestrationTrigger";
export const ACTIVITY_TRIGGER = "activityTrigger";
export const ENTITY_TRIGGER = "entityTrigger";

/** Raised for work items that cannot be processed at all (the worker abandons them). */
export class WorkItemError extends Error {}

export function findFunction(app: FunctionApp, name: string, triggerType: string): RegisteredFunction | undefined {
  const exact = app.functions.get(name);
  if (exact && exact.triggerType === triggerType) return exact;
  const lower = name.toLowerCase();
  for (const f of app.functions.values()) {
    if (f.triggerType === triggerType && f.name.toLowerCase() === lower) return f;
  }
  return undefined;
}

/** "The activity function 'X' does not exist in this app (its activities: a, b)". */
export function notFoundMessage(app: FunctionApp, kind: string, name: string, triggerType: string): string {
  const names = [...app.functions.values()].filter((f) => f.triggerType === triggerType).map((f) => f.name);
  const known = names.length > 0 ? `its ${kind} functions: ${names.join(", ")}` : `it has no ${kind} functions`;
  return `The ${kind} function '${name}' does not exist in this app (${known})`;
}

/**
 * Failure details for what a function threw. durable-functions puts a JSON failure payload in the
 * message when the app registered an exception properties provider; that payload wins.
 */
export function failureFromError(err: unknown): FailureDetails {
  if (err instanceof Error) {
    const payload = parseFailurePayload(err.message);
    if (payload) return payload;
    return { errorType: err.name || "Error", errorMessage: err.message, stackTrace: str(err.stack) };
  }
  return { errorType: "Error", errorMessage: typeof err === "string" ? err : safeJson(err) };
}

function parseFailurePayload(message: string): FailureDetails | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const o = JSON.parse(message) as Record<string, unknown>;
    if (typeof o.errorType === "string" && typeof o.errorMessage === "string") return failureFromJson(o);
  } catch {
    // an ordinary message that happens to start with '{'
  }
  return undefined;
}

export function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The type and stack of what an orchestrator threw, when the failure durable-functions threw carries it
 * as `cause` (the local host's executor wrap, host/orchestrator-errors.ts).
 */
export function thrownByOrchestrator(err: unknown): { errorType?: string; stackTrace?: string } {
  const original = err instanceof Error ? err.cause : undefined;
  if (!(original instanceof Error)) return {};
  return { errorType: original.name || original.constructor?.name || "Error", stackTrace: original.stack };
}
