// The dashboard's list on a big hub: N instances (default 100,000) written into a SQLite data
// directory, then `dts serve` on it, and the wall time of the list pages a person opens (first page,
// a deep page, filtered by status and name, a prefix search) and of the home page's counts, over HTTP.
// Run: npm run bench:dashboard [-- N]
import { InstanceRecord, Status } from "../../src/core/model";
import { SqliteStore } from "../../src/store/sqlite-store";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";

const N = Number((process.argv[2] ?? "100000").replace(/[_,]/g, ""));
const HUB = "default";
const RUNS = 7;
const NAMES = ["HelloCities", "FanOutFanIn", "ApprovalWorkflow", "Nightly", "Billing"];
const STATUSES = [Status.ORCHESTRATION_STATUS_COMPLETED, Status.ORCHESTRATION_STATUS_COMPLETED, Status.ORCHESTRATION_STATUS_COMPLETED, Status.ORCHESTRATION_STATUS_FAILED, Status.ORCHESTRATION_STATUS_TERMINATED];

function seed(dir: string): number {
  const t0 = Date.now();
  const store = new SqliteStore(dir, { synchronous: "normal" });
  store.createHub(HUB);
  const start = Date.now() - N * 1000;
  for (let from = 0; from < N; from += 5000) {
    const ops = [];
    for (let i = from; i < Math.min(N, from + 5000); i++) {
      const createdAt = start + i * 1000;
      const instance: InstanceRecord = {
        instanceId: `order-${String(i).padStart(7, "0")}`, executionId: `e${i}`, name: NAMES[i % NAMES.length], status: STATUSES[i % STATUSES.length],
        createdAt, lastUpdatedAt: createdAt + 500, completedAt: createdAt + 500, input: JSON.stringify({ order: i }), output: JSON.stringify({ ok: true }),
        ...(i % 10 === 9 ? { parentInstanceId: `order-${String(i - 1).padStart(7, "0")}` } : {}),
      };
      ops.push({ op: "putInstance" as const, hub: HUB, instance });
    }
    store.commit(ops);
  }
  void store.close();
  return Date.now() - t0;
}

async function timed(url: string): Promise<{ median: number; max: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = await fetch(url);
    const body = await r.text();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 200) throw new Error(`${url} answered ${r.status}: ${body.slice(0, 200)}`);
    bytes = body.length;
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(RUNS / 2)], max: times[RUNS - 1], bytes };
}

async function main(): Promise<void> {
  const dir = tempDir("dts-bench-dashboard-");
  console.log(`dashboard listing: ${N.toLocaleString("en")} instances in one hub (SQLite), ${RUNS} runs per page, median and max`);
  console.log(`seeded in ${(seed(dir) / 1000).toFixed(1)} s`);
  let dts: DtsProcess | undefined;
  try {
    dts = await startDts(["--data", dir]);
    const base = `http://localhost:${dts.dashboardPort}`;
    const pages: [string, string][] = [
      ["home page (counts per status)", "/"],
      ["list, first page (25, newest first)", "/hubs/default/orchestrations"],
      ["list, page 2000 (offset 49,975)", "/hubs/default/orchestrations?page=2000"],
      ["list, 100 per page, with sub-orchestrations", "/hubs/default/orchestrations?size=100&sub=1"],
      ["list, Failed + name filter", "/hubs/default/orchestrations?status=Failed&name=Billing"],
      ["list, instance-id prefix", "/hubs/default/orchestrations?prefix=order-00123"],
      ["list, created range (one day)", `/hubs/default/orchestrations?from=${new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 19)}&to=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 19)}`],
    ];
    console.log(`${"page".padEnd(46)} ${"median ms".padStart(10)} ${"max ms".padStart(8)} ${"KiB".padStart(6)}`);
    for (const [label, p] of pages) {
      const t = await timed(base + p);
      console.log(`${label.padEnd(46)} ${t.median.toFixed(1).padStart(10)} ${t.max.toFixed(1).padStart(8)} ${(t.bytes / 1024).toFixed(0).padStart(6)}`);
    }
  } finally {
    await dts?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
