// Runs the real `dts serve` in a child process on a free port, as a user would, for end-to-end tests;
// and one-shot `dts` commands to completion.
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { storeArgs } from "./test-store";

export const CLI = path.resolve(__dirname, "../../src/cli.js");

export interface DtsProcess {
  port: number;
  address: string;
  /** The dashboard's port; undefined with --no-dashboard. */
  dashboardPort?: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM and wait for exit and closed pipes (returns the exit code). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit and closed pipes: a crash. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export function tempDir(prefix = "dts-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  /** A `dts` executable to run as is (e.g. an installed package's bin) instead of node on the repository's CLI. */
  cli?: string;
  /** Working directory (default: this process's). */
  cwd?: string;
}

/**
 * Starts `dts serve --port 0 ...args` (and the dashboard on a free port unless args say otherwise);
 * resolves once it has printed where gRPC and the dashboard listen.
 */
export async function startDts(given: string[] = [], options: SpawnOptions & { dataDir?: string } = {}): Promise<DtsProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const args = await storeArgs(given, dataDir);
  const dashboard = args.includes("--dashboard-port") || args.includes("--no-dashboard") ? [] : ["--dashboard-port", "0"];
  const full = ["serve", "--port", "0", ...(args.includes("--data") ? [] : ["--data", dataDir]), ...dashboard, ...args];
  return spawnCli(full, /gRPC listening on [^:]+:(\d+)[\s\S]*(?:dts: |"msg":")(?:dashboard at https?:\/\/localhost:(\d+)|no dashboard)/, options)
    .then(({ match, ...p }) => ({ ...p, address: `localhost:${p.port}`, dataDir, dashboardPort: match[2] ? Number(match[2]) : undefined }));
}

export type CliProcess = Omit<DtsProcess, "address" | "dataDir" | "dashboardPort"> & { match: RegExpExecArray };

/** Spawns `dts ...args`; resolves once its output matches `listening` (whose first group is the port). */
export function spawnCli(args: string[], listening: RegExp, options: SpawnOptions = {}): Promise<CliProcess> {
  if (options.cli && options.nodeArgs?.length) throw new Error("nodeArgs apply to the repository's CLI only, not to options.cli");
  const [command, commandArgs] = options.cli ? [options.cli, args] : [process.execPath, [...(options.nodeArgs ?? []), CLI, ...args]];
  const proc = spawn(command, commandArgs, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let out = "";
  proc.on("exit", () => running.delete(proc));
  // "close", not "exit": its output pipes are closed too, so a test that awaited stop() or kill()
  // leaves no handle of it open (jest waits 500 ms for a worker's handles at the end).
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = listening.exec(out);
      if (!m) return;
      proc.stdout!.off("data", onData);
      proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
      resolve({
        port: Number(m[1]), match: m, proc, output: () => out,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
          return exited;
        },
        kill: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
          await exited;
        },
      });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    exited.then((code) => reject(new Error(`dts ${args[0]} exited with ${code} before listening:\n${out}`)));
  });
}

/** Runs `dts <args>` to completion: its exit code and what it printed. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A local port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
