// Runs `dts func start` (and `dts start`) in a child process on a free port, as a user would, and
// speaks HTTP to it: the app's functions and the Durable management API.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { CLI, DtsProcess, startDts } from "./dts-process";
import { pollUntil as poll } from "./poll";

/** The repository root: the sample function app's directory. */
export const REPO_ROOT = path.resolve(__dirname, "../../..");
export const FIXTURES = path.join(REPO_ROOT, "test/functions/fixtures");

export interface FuncHostProcess {
  port: number;
  origin: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves once the output matches (rejects if the process exits first). */
  waitForOutput(pattern: RegExp): Promise<void>;
  /** SIGTERM (or the given signal) and wait for exit and closed pipes; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

/** A connection string for a test scheduler on `port`. */
export function connectionString(port: number, hub = "default"): string {
  return `Endpoint=http://localhost:${port};TaskHub=${hub};Authentication=None`;
}

/**
 * Spawns `dts <args>` and resolves once it prints `listening on http://localhost:<port>` (the host
 * is then serving); rejects with its output if it exits first.
 */
export function spawnHost(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<FuncHostProcess> {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let out = "";
  let waiters: (() => void)[] = [];
  proc.on("exit", () => running.delete(proc));
  // At "close", its pipes closed too, as dts-process.ts does.
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  const onOutput = (c: Buffer) => {
    out += c.toString();
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  proc.stdout!.on("data", onOutput);
  proc.stderr!.on("data", onOutput);
  const waitForOutput = async (pattern: RegExp) => {
    while (!pattern.test(out)) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the process exited before printing ${pattern}:\n${out}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
    }
  };
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (!m) return;
      proc.stdout!.off("data", check);
      const port = Number(m[1]);
      resolve({
        port, origin: `http://localhost:${port}`, proc, output: () => out, waitForOutput,
        stop: async (signal: NodeJS.Signals = "SIGTERM") => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    };
    proc.stdout!.on("data", check);
    exited.then((code) => reject(new Error(`dts ${args.join(" ")} exited with ${code} before listening:\n${out}`)));
  });
}

/** `dts func start --port 0 --app <dir>`. */
export function startFuncHost(appDir: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<FuncHostProcess> {
  return spawnHost(["func", "start", "--port", "0", "--app", appDir], env, nodeArgs);
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One HTTP request; a JSON body is sent as JSON, the response body parsed when it is JSON. */
export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (typeof body !== "string") (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  // A GET is retried once on a reset: a host whose event loop was busy (a multi-megabyte payload on a
  // loaded machine) may close an idle keep-alive connection just as fetch reuses it.
  const res = await fetch(url, init).catch((err: Error & { cause?: { code?: string } }) => {
    if (method !== "GET" || err.cause?.code !== "ECONNRESET") throw err;
    return fetch(url, init);
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

const TERMINAL = new Set(["Completed", "Failed", "Terminated", "Canceled"]);

/**
 * Polls a status URL (statusQueryGetUri) with a short delay until `done` holds for the status
 * payload (by default: a terminal runtime status); returns the last response.
 */
export function pollStatus(url: string, done: (body: { runtimeStatus: string; customStatus?: unknown }) => boolean = (b) => TERMINAL.has(b.runtimeStatus), timeoutMs = 30_000): Promise<HttpResult> {
  return pollUntil(url, (r) => r.status !== 404 && !!r.body && typeof r.body === "object" && done(r.body), timeoutMs);
}

/** Polls any GET until `done` holds for the response. */
export function pollUntil(url: string, done: (r: HttpResult) => boolean, timeoutMs = 30_000): Promise<HttpResult> {
  return poll(() => http("GET", url), done, `${url} to reach the awaited state`, timeoutMs);
}

/** Fills the placeholders of a management URL: {eventName}, {text}. */
export function fill(url: string, values: { eventName?: string; text?: string }): string {
  let u = url;
  if (values.eventName !== undefined) u = u.replace("{eventName}", encodeURIComponent(values.eventName));
  if (values.text !== undefined) u = u.replace("{text}", encodeURIComponent(values.text));
  return u;
}

export interface AppOnScheduler {
  dts: DtsProcess;
  host: FuncHostProcess;
  /** Stops the host, then the scheduler; resolves with the host's exit code. */
  stop(): Promise<number | null | undefined>;
}

/** `dts serve --store memory <dtsArgs>` and `dts func start` on `appDir`, pointed at it. */
export async function startAppOnScheduler(appDir: string, dtsArgs: string[] = []): Promise<AppOnScheduler> {
  const dts = await startDts(["--store", "memory", ...dtsArgs]);
  let host: FuncHostProcess;
  try {
    host = await startFuncHost(appDir, { DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString(dts.port) });
  } catch (err) {
    await dts.stop();
    throw err;
  }
  return {
    dts, host,
    stop: async () => {
      const code = await host.stop();
      await dts.stop();
      return code;
    },
  };
}
