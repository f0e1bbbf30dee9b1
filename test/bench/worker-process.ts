// A benchmark worker in its own process: node worker-process.js <address>. Prints "ready" once connected.
import { NoOpLogger, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { register } from "./hello-cities";

const worker = new TaskHubGrpcWorker({ hostAddress: process.argv[2], logger: new NoOpLogger() });
register(worker);
worker.start().then(() => console.log("ready"));
process.on("SIGTERM", () => process.exit(0));
