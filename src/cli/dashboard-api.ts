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
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** One request to `/api/v1/taskhubs/<path>`; resolves with the parsed JSON body (undefined when empty). */
export async function callDashboardApi<T>(target: DashboardTarget, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  const url = new URL(`/api/v1/taskhubs/${path.replace(/^\//, "")}`, target.url);
  const headers: Record<string, string> = { "x-taskhub": target.hub, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (target.token) headers.authorization = `Bearer ${await target.token.getToken()}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DashboardApiError(0, `cannot reach the dashboard at ${target.url.origin} (${cause?.code ?? cause?.message ?? (err as Error).message}): is dts serve running with its dashboard? Pass --dashboard-url otherwise`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const message = (parsed as { message?: string; error?: string } | undefined)?.message ?? (parsed as { error?: string } | undefined)?.error ?? (text.trim() || res.statusText);
    throw new DashboardApiError(res.status, `${method} ${url.pathname} answered ${res.status}: ${message}`);
  }
  return parsed as T;
}
