// A real PostgreSQL server for the storage tests: Debian's postgresql binaries, a fresh cluster in a
// temp directory, listening on 127.0.0.1 at a free port. PostgreSQL refuses to run as root, so as
// root the cluster belongs to the `postgres` user and its commands run as that user.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface PostgresServer {
  /** postgres://… for the `postgres` database; `database(name)` makes another. */
  url: string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"];

function binary(name: string): string {
  for (const dir of BIN_DIRS) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  throw new Error(`PostgreSQL's ${name} not found in ${BIN_DIRS.join(", ")}: install Debian's postgresql package (.ci/run does)`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Runs a PostgreSQL binary, as `postgres` when this process is root. */
function run(owner: string | undefined, file: string, args: string[]): void {
  const [cmd, argv] = owner ? ["runuser", ["-u", owner, "--", file, ...args]] : [file, args];
  const r = spawnSync(cmd, argv, { encoding: "utf8", cwd: os.tmpdir() });
  if (r.status !== 0) throw new Error(`${path.basename(file)} failed (${r.status}): ${r.stderr || r.stdout}`);
}

/** `durable`: fsync on, as a production server (the bench compares it with SQLite's full sync); tests leave it off. */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dts-pg-"));
  const data = path.join(root, "data");
  const owner = process.getuid?.() === 0 ? "postgres" : undefined;
  if (owner) execFileSync("chown", [owner, root]);
  fs.chmodSync(root, 0o700);
  run(owner, binary("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  // fsync off for tests: these clusters live for one test file; what the tests check is the store's logic.
  const sync = options.durable ? "" : " -c fsync=off -c full_page_writes=off";
  const settings = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1${sync} -c max_connections=200`;
  run(owner, binary("pg_ctl"), ["-D", data, "-o", settings, "-l", path.join(root, "log"), "-w", "-t", "60", "start"]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  // Stops the server once this process is gone, however it ended (a suite that never called stop(), Ctrl-C).
  const stopCmd = [...(owner ? ["runuser", "-u", owner, "--"] : []), binary("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"].join(" ");
  const watchdog = spawn("sh", ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopCmd} >/dev/null 2>&1; rm -rf ${root}`], { detached: true, stdio: "ignore" });
  watchdog.unref();
  let stopped = false;
  return {
    url,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      run(owner, binary("createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      watchdog.kill();
      try {
        run(owner, binary("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
