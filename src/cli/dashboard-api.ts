// Calls from dts commands to the dashboard port's JSON API (/api/v1/taskhubs/…, the hub in the
// x-taskhub header), for what the gRPC services have no call for. One place for the target flags,
// the bearer token and turning an HTTP failure into a message a user can act on.
import { TokenSource } from "../provider/token-source";
import { CommandTokenSource, FileTokenSource } from "../provider/token-sources";
import { UsageError } from "./flags";

export interface DashboardTarget {
  /** The dashboard's origin, e.g. http://localhost:8082. */
  url: URL;
  hub: string;
  token?: TokenSource;
}

/** The flags every such command takes (parseArgs options). */
export const DASHBOARD_TARGET_OPTIONS = {
  "dashboard-url": { type: "string" },
  hub: { type: "string" },
  "token-file": { type: "string" },
  "token-command": { type: "string" },
} as const;

export const DASHBOARD_TARGET_USAGE = `  --dashboard-url <url>  the scheduler's dashboard [DTS_DASHBOARD_URL] (default http://localhost:8082)
  --hub <name>           task hub [DTS_TASK_HUB] (default: default)
  --token-file <file>    send the bearer token in this file (re-read each call) [DTS_TOKEN_FILE]
  --token-command <cmd>  send the bearer token this command prints [DTS_TOKEN_COMMAND]
`;

export function dashboardTarget(
  values: { "dashboard-url"?: string; hub?: string; "token-file"?: string; "token-command"?: string },
  env: NodeJS.ProcessEnv,
): DashboardTarget {
  const raw = values["dashboard-url"] ?? (env.DTS_DASHBOARD_URL || "http://localhost:8082");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--dashboard-url must be a URL such as http://localhost:8082, got '${raw}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--dashboard-url must be http:// or https://, got '${raw}'`);
  const file = values["token-file"] ?? (env.DTS_TOKEN_FILE || undefined);
  const command = values["token-command"] ?? (env.DTS_TOKEN_COMMAND || undefined);
  if (file && command) throw new UsageError("give --token-file or --token-command, not both");
  const token = file ? new FileTokenSource(file) : command ? new CommandTokenSource(command) : undefined;
  return { url, hub: values.hub ?? (env.DTS_TASK_HUB || "default"), token };
}

/** The API answered with an error status; `message` is the server's own explanation. */
export class DashboardApiError extends Error {
  /** `answer`: the error's JSON body, when it had one (some routes add what they did before failing). */
  constructor(readonly status: number, message: string, readonly answer?: unknown) {
    super(message);
  }
}

/** A request body: JSON, or a stream of bytes of the given type (sent as it is read). */
export type DashboardBody = { json: unknown } | { stream: AsyncIterable<Uint8Array>; type: string };

/**
 * One request to `/api/v1/taskhubs/<path>` (a query string may follow); resolves with the response
 * once its status says success, for the caller to read (a stream, for exports), else throws the
 * server's own explanation.
 */
export async function dashboardRequest(target: DashboardTarget, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: DashboardBody): Promise<Response> {
  const url = new URL(`/api/v1/taskhubs/${path.replace(/^\//, "")}`, target.url);
  const headers: Record<string, string> = { "x-taskhub": target.hub, accept: "application/json" };
  if (body) headers["content-type"] = "json" in body ? "application/json" : body.type;
  if (target.token) headers.authorization = `Bearer ${await target.token.getToken()}`;
  let res: Response;
  try {
    const payload = body === undefined ? undefined : "json" in body ? JSON.stringify(body.json) : (body.stream as unknown as ReadableStream);
    // duplex: a streamed body is sent while it is read (undici asks for it to be said).
    res = await fetch(url, { method, headers, body: payload, ...(body && "stream" in body ? { duplex: "half" } : {}) } as RequestInit);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DashboardApiError(0, `cannot reach the dashboard at ${target.url.origin} (${cause?.code ?? cause?.message ?? (err as Error).message}): is dts serve running with its dashboard? Pass --dashboard-url otherwise`);
  }
  if (res.ok) return res;
  const text = await res.text();
  const parsed = parseJson(text) as { message?: string; error?: string } | undefined;
  const message = parsed?.message ?? parsed?.error ?? (text.trim() || res.statusText);
  throw new DashboardApiError(res.status, `${method} ${url.pathname} answered ${res.status}: ${message}`, parsed);
}

/** One request with a JSON body (or none); resolves with the parsed JSON answer (undefined when empty). */
export async function callDashboardApi<T>(target: DashboardTarget, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  const res = await dashboardRequest(target, method, path, body === undefined ? undefined : { json: body });
  return parseJson(await res.text()) as T;
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
