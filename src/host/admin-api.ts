// `POST /admin/functions/{name}` as `func start` serves it: runs a non-HTTP function once, by hand,
// with `{"input": ...}` as its trigger data (a timer function gets a Timer that is not past due), and
// answers 202 Accepted without waiting for the function. HTTP functions are called at their URL and
// Durable triggers are driven by the scheduler, so both are refused with 400.
import { FunctionApp, TypedData } from "../provider/function-app";
import { ApiRequest, ApiResponse } from "./management-api";
import { isTimerTrigger } from "./timer-trigger";

const ADMIN_FUNCTION = /^\/admin\/functions\/([^/]+)\/?$/i;
const DURABLE_TRIGGERS = /^(orchestrationTrigger|activityTrigger|entityTrigger)$/i;
export const MANUAL_REASON = "This function was programmatically called via the host APIs.";

export interface AdminApiOptions {
  app: FunctionApp;
  /** The Timer for a timer function run by hand; undefined when its schedule is in error. */
  manualTimer(name: string): TypedData | undefined;
  /** Runs the function (never rejects; the invoker logs the outcome). */
  invoke(name: string, trigger: TypedData, reason: string): Promise<unknown>;
}

export class AdminApi {
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly options: AdminApiOptions) {}

  matches(pathname: string): boolean {
    return ADMIN_FUNCTION.test(pathname);
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    if (req.method !== "POST") return { status: 405, headers: { Allow: "POST" } };
    let name: string;
    try {
      name = decodeURIComponent(ADMIN_FUNCTION.exec(req.url.pathname)![1]);
    } catch {
      return { status: 400, body: { error: "The function name in the path is not valid percent-encoding" } };
    }
    const fn = [...this.options.app.functions.values()].find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!fn) return { status: 404, body: { error: `No function named '${name}'` } };
    if (fn.triggerType.toLowerCase() === "httptrigger") return { status: 400, body: { error: `'${fn.name}' is an HTTP function: send the request to its URL instead` } };
    if (DURABLE_TRIGGERS.test(fn.triggerType)) return { status: 400, body: { error: `'${fn.name}' is a Durable Functions ${fn.triggerType}: the scheduler runs it; start an orchestration or signal an entity instead` } };

    // As with the management API, only JSON bodies: a browser form cannot run functions.
    const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (!/^application\/(.+\+)?json$/.test(type)) return { status: 415, body: { error: "Send the body as JSON ({\"input\": \"...\"}) with 'Content-Type: application/json'" } };
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString("utf8"));
    } catch {
      return { status: 400, body: { error: "The body must be JSON: {\"input\": \"...\"}" } };
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return { status: 400, body: { error: "The body must be a JSON object: {\"input\": \"...\"}" } };

    let trigger: TypedData;
    if (isTimerTrigger(fn.triggerType)) {
      const timer = this.options.manualTimer(fn.name);
      if (!timer) return { status: 400, body: { error: `'${fn.name}' is in error (its schedule is not valid); see the host's output` } };
      trigger = timer;
    } else {
      // The host hands the input to the trigger as a string (the library JSON-parses it when it can).
      const input = (body as { input?: unknown }).input;
      trigger = { string: typeof input === "string" ? input : input === undefined ? "" : JSON.stringify(input) };
    }
    const run = this.options.invoke(fn.name, trigger, MANUAL_REASON);
    this.running.add(run);
    run.finally(() => this.running.delete(run)).catch(() => undefined);
    return { status: 202 };
  }

  /** Waits for the functions it started. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
