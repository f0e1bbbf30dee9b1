// The benchmark workload: an orchestration calling five "Hello, {city}" activities in sequence.
import { ActivityContext, OrchestrationContext, TaskHubGrpcWorker } from "@microsoft/durabletask-js";

export const CITIES = ["Tokyo", "Seattle", "London", "Cairo", "Lima"];

export const sayHello = async (_ctx: ActivityContext, city: string) => `Hello, ${city}!`;

export async function* helloCities(ctx: OrchestrationContext): AsyncGenerator<unknown, string[], string> {
  const out: string[] = [];
  for (const city of CITIES) out.push(yield ctx.callActivity(sayHello, city));
  return out;
}

export function register(worker: TaskHubGrpcWorker): void {
  worker.addOrchestrator(helloCities);
  worker.addActivity(sayHello);
}
