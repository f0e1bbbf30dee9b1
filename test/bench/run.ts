// npm run bench [-- --count N --store sqlite|memory --json]: HelloCities5 with N orchestrations started
// at once, the official SDK worker in a separate process against `dts serve` in another.
import { spawn } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { NoOpLogger, TaskHubGrpcClient } from "@microsoft/durabletask-js";
import { startDts } from "../helpers/dts-process";
import { helloCities } from "./hello-cities";

async function main() {
  const { values } = parseArgs({ options: { count: { type: "string" }, store: { type: "string" }, json: { type: "boolean" }, "node-arg": { type: "string", multiple: true } } });
  const count = Number(values.count ?? 5000);
  const store = values.store ?? "sqlite";
  // --node-arg passes flags to the scheduler's node, e.g. --node-arg=--cpu-prof for a profile.
  const dts = await startDts(["--store", store], { nodeArgs: values["node-arg"] });
  const worker = spawn(process.execPath, [path.join(__dirname, "worker-process.js"), dts.address], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => worker.stdout!.on("data", (c: Buffer) => c.toString().includes("ready") && resolve()));
  const client = new TaskHubGrpcClient({ hostAddress: dts.address, logger: new NoOpLogger() });
  const cpu0 = await cpuSeconds(dts.proc.pid!);
  const workerCpu0 = await cpuSeconds(worker.pid!);
  const clientCpu0 = process.cpuUsage();
  const t0 = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 100) {
    ids.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => client.scheduleNewOrchestration(helloCities)))));
  }
  let done = 0;
  let peakRss = 0;
  const progress = setInterval(async () => {
    peakRss = Math.max(peakRss, await rssBytes(dts.proc.pid!));
    process.stderr.write(`\r${done}/${count} completed`);
  }, 1000);
  const latencies: number[] = [];
  await Promise.all(ids.map(async (id) => {
    const s = await client.waitForOrchestrationCompletion(id, false, 600);
    if (s?.runtimeStatus !== 1 && String(s?.runtimeStatus) !== "COMPLETED") throw new Error(`${id} ended ${s?.runtimeStatus}`);
    latencies.push(Date.now() - t0);
    done++;
  }));
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(progress);
  process.stderr.write("\n");
  const cpu = (await cpuSeconds(dts.proc.pid!)) - cpu0;
  const workerCpu = (await cpuSeconds(worker.pid!)) - workerCpu0;
  const clientUsage = process.cpuUsage(clientCpu0);
  const clientCpu = (clientUsage.user + clientUsage.system) / 1e6;
  peakRss = Math.max(peakRss, await rssBytes(dts.proc.pid!));
  latencies.sort((a, b) => a - b);
  const result = {
    scenario: "HelloCities5", store, orchestrations: count, seconds: +seconds.toFixed(2),
    orchestrationsPerSecond: +(count / seconds).toFixed(1), workItemsPerSecond: +((count * 6) / seconds).toFixed(1),
    p50CompletionMs: latencies[Math.floor(latencies.length / 2)], p99CompletionMs: latencies[Math.floor(latencies.length * 0.99)],
    schedulerPeakRssMiB: +(peakRss / 2 ** 20).toFixed(1), schedulerCpuSeconds: +cpu.toFixed(2),
    workerCpuSeconds: +workerCpu.toFixed(2), clientCpuSeconds: +clientCpu.toFixed(2),
  };
  if (values.json) console.log(JSON.stringify(result));
  else console.table([result]);
  await client.stop();
  worker.kill("SIGTERM");
  await dts.stop();
}

async function procStat(pid: number): Promise<string[]> {
  const fs = await import("fs/promises");
  return (await fs.readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
}
async function cpuSeconds(pid: number): Promise<number> {
  const f = await procStat(pid);
  return (Number(f[11]) + Number(f[12])) / 100;
}
async function rssBytes(pid: number): Promise<number> {
  return Number((await procStat(pid))[21]) * 4096;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
