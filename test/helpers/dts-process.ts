// Runs the real `dts serve` in a child process on a free port, as a user would, for end-to-end tests.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const CLI = path.resolve(__dirname, "../../src/cli.js");

export interface DtsProcess {
  port: number;
  address: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM and wait for exit (returns the exit code). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit: a crash. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export function tempDir(prefix = "dts-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts `dts serve --port 0 ...args`; resolves once it prints the port it listens on. */
export function startDts(args: string[] = [], options: { dataDir?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Promise<DtsProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const full = ["serve", "--port", "0", ...(args.includes("--data") ? [] : ["--data", dataDir]), ...args];
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...full], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let out = "";
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => {
    running.delete(proc);
    resolve(code);
  }));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /gRPC listening on [^:]+:(\d+)/.exec(out);
      if (m) {
        proc.stdout!.off("data", onData);
        proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
        const port = Number(m[1]);
        resolve({
          port, address: `localhost:${port}`, dataDir, proc, output: () => out,
          stop: async () => {
            if (proc.exitCode === null) proc.kill("SIGTERM");
            return exited;
          },
          kill: async () => {
            if (proc.exitCode === null) proc.kill("SIGKILL");
            await exited;
          },
        });
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    exited.then((code) => reject(new Error(`dts exited with ${code} before listening:\n${out}`)));
  });
}
