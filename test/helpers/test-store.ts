// Which store the end-to-end suites run `dts serve` on. With DTS_TEST_STORE=postgres, startDts runs
// every scheduler on PostgreSQL instead of the store its suite names: one test PostgreSQL server per
// test file (postgres-server.ts), a fresh database per data directory, so a scheduler restarted on
// the same directory (a crash test) finds its database again.
import * as path from "path";
import { PostgresServer, startPostgres } from "./postgres-server";

export const onPostgres = () => process.env.DTS_TEST_STORE === "postgres";

let server: Promise<PostgresServer> | undefined;
const databases = new Map<string, Promise<string>>();

/** `dts serve` arguments with the store replaced by this data directory's PostgreSQL database. */
export async function storeArgs(args: string[], dataDir: string): Promise<string[]> {
  if (!onPostgres()) return args;
  const rest = args.filter((a, i) => a !== "--store" && args[i - 1] !== "--store");
  let url = databases.get(dataDir);
  if (!url) {
    // Run with DTS_TEST_STORE=postgres but not through runOnPostgres, the server stops when jest's worker exits (postgres-server.ts).
    server ??= startPostgres();
    const name = `dts_${databases.size + 1}`;
    databases.set(dataDir, (url = server.then((s) => s.createDatabase(name))));
  }
  // One node name per data directory: a scheduler restarted on it (a crash test) takes its partitions back at once.
  const nodeId = rest.includes("--node-id") ? [] : ["--node-id", `node-${path.basename(dataDir)}`];
  return ["--store", "postgres", "--postgres-url", await url, ...nodeId, ...rest];
}

/**
 * Runs a suite's tests (loaded by `load`, a require of its file) on PostgreSQL, and stops the test
 * server after them. Call at a test file's top level.
 */
export function runOnPostgres(load: () => void): void {
  process.env.DTS_TEST_STORE = "postgres";
  load();
  // Declared after the suite's own hooks, so it runs after they stopped their schedulers.
  afterAll(async () => {
    const s = server;
    server = undefined;
    databases.clear();
    if (s) await (await s).stop();
  });
}
