// A benchmark worker in its own process: node worker-process.js <address> [--wait-for-port] [--trace FILE].
// Registers the benchmark workloads on the official SDK's gRPC worker and prints "ready" once
// connected. With --wait-for-port it first prints "waiting", then polls the address until a TCP
// connection succeeds (a scheduler being restarted), so the restart measurement does not include the
// SDK's reconnect backoff (1 s, doubling) or this process's start-up. With --trace it writes to FILE
// when it receives and completes each work item (worker-trace.ts).
// Exits on SIGTERM/SIGINT, and when its parent goes away (stdin closes), so it is never orphaned.
import * as net from "net";
import { NoOpLogger, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { bearerMetadata } from "./auth";
import { registerEntityWorkloads, registerWorkloads } from "./workloads";
import { traceWorkItems } from "./worker-trace";

const address = process.argv[2];
const waitForPort = process.argv.includes("--wait-for-port");
const traceAt = process.argv.indexOf("--trace");
if (traceAt > 0) traceWorkItems(process.argv[traceAt + 1]);

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function main() {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  if (waitForPort) {
    console.log("waiting");
    while (!(await portOpen(host, port))) await new Promise((r) => setTimeout(r, 10));
  }
  // With --auth the bench passes a Worker's token in DTS_BENCH_TOKEN.
  const token = process.env.DTS_BENCH_TOKEN;
  const worker = new TaskHubGrpcWorker({ hostAddress: address, logger: new NoOpLogger(), shutdownTimeoutMs: 1000, metadataGenerator: token ? bearerMetadata(token) : undefined });
  registerWorkloads(worker);
  registerEntityWorkloads(worker);
  await worker.start();
  console.log("ready");
}

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
