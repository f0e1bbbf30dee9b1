// The benchmark's orchestrations and activities, registered on the official SDK's gRPC worker (in its
// own process) and on the SDK's in-process test worker (the reference). Activities that matter for
// latency return Date.now() from where they ran, so the bench can time steps without another channel.
import { ActivityContext, EntityFactory, EntityInstanceId, OrchestrationContext, TActivity, Task, TOrchestrator, whenAll } from "@microsoft/durabletask-js";
import { CounterEntity } from "../helpers/sdk";

export const CITIES = ["Tokyo", "Seattle", "London", "Cairo", "Lima"];

export const sayHello = async (_ctx: ActivityContext, city: string) => `Hello, ${city}!`;

/** HelloCities5: five "Hello, {city}" activities in sequence. */
export async function* helloCities(ctx: OrchestrationContext): AsyncGenerator<unknown, string[], string> {
  const out: string[] = [];
  for (const city of CITIES) out.push(yield ctx.callActivity(sayHello, city));
  return out;
}

/** One fan-out item: returns when it ran (ms since the epoch). */
export const fanOutItem = (_ctx: ActivityContext, _index: number): number => Date.now();

/** Fans out to `count` activities at once and in again; returns when each ran. */
export async function* fanOutFanIn(ctx: OrchestrationContext, count: number): AsyncGenerator<unknown, number[], number[]> {
  const tasks: Task<number>[] = [];
  for (let i = 0; i < count; i++) tasks.push(ctx.callActivity(fanOutItem, i));
  return yield whenAll(tasks);
}

/** One step of the long sequence: returns when it ran. */
export const sequenceStep = (_ctx: ActivityContext, _index: number): number => Date.now();

/** `count` activities one after another; returns when each ran. */
export async function* longSequence(ctx: OrchestrationContext, count: number): AsyncGenerator<unknown, number[], number> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(yield ctx.callActivity(sequenceStep, i));
  return out;
}

export const GO_EVENT = "go";

/** Waits for one external event (the memory and restart scenarios), then completes with its data. */
export async function* waitForGo(ctx: OrchestrationContext): AsyncGenerator<unknown, unknown, unknown> {
  return yield ctx.waitForExternalEvent(GO_EVENT);
}

export const ACCOUNT_ENTITY = "benchaccount";

/** Moves `amount` between two accounts inside a critical section that holds both. */
export async function* transfer(ctx: OrchestrationContext, input: { from: string; to: string; amount: number }): AsyncGenerator<unknown, number, unknown> {
  const from = new EntityInstanceId(ACCOUNT_ENTITY, input.from);
  const to = new EntityInstanceId(ACCOUNT_ENTITY, input.to);
  const lock = (yield ctx.entities.lockEntities(from, to)) as { release(): void };
  yield ctx.entities.callEntity(from, "add", -input.amount);
  yield ctx.entities.callEntity(to, "add", input.amount);
  lock.release();
  return input.amount;
}

/** The entity workloads, on the gRPC worker only (the SDK's in-process test backend has no entities). */
export function registerEntityWorkloads(worker: Registry & { addNamedEntity(name: string, factory: EntityFactory): string }): void {
  worker.addOrchestrator(transfer);
  worker.addNamedEntity(ACCOUNT_ENTITY, () => new CounterEntity());
}

/** What both worker kinds offer for registration. */
interface Registry {
  addOrchestrator(fn: TOrchestrator): string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addActivity(fn: TActivity<any, any>): string;
}

export function registerWorkloads(worker: Registry): void {
  worker.addOrchestrator(helloCities);
  worker.addOrchestrator(fanOutFanIn);
  worker.addOrchestrator(longSequence);
  worker.addOrchestrator(waitForGo);
  worker.addActivity(sayHello);
  worker.addActivity(fanOutItem);
  worker.addActivity(sequenceStep);
}
