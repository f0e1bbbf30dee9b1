// The official SDK's client and worker, quiet, pointed at a test server and task hub.
import * as grpc from "@grpc/grpc-js";
import { ActivityContext, EntityInstanceId, EntityMetadata, Logger, LogEvent, NoOpLogger, OrchestrationContext, OrchestrationState, Task, TaskEntity, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";

export function hubMetadata(hub?: string) {
  return hub === undefined ? undefined : async () => {
    const md = new grpc.Metadata();
    md.set("taskhub", hub);
    return md;
  };
}

export function client(address: string, hub?: string): TaskHubGrpcClient {
  return new TaskHubGrpcClient({ hostAddress: address, logger: new NoOpLogger(), metadataGenerator: hubMetadata(hub) });
}

export function worker(address: string, hub?: string, logger: Logger = new NoOpLogger()): TaskHubGrpcWorker {
  return new TaskHubGrpcWorker({ hostAddress: address, logger, metadataGenerator: hubMetadata(hub), shutdownTimeoutMs: 2000 });
}

/** A quiet logger that keeps the SDK's warnings, to check it found nothing odd in what the server sent. */
export class WarningRecorder extends NoOpLogger {
  readonly warnings: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  logEvent(level: "error" | "warn" | "info" | "debug", _event: LogEvent, message: string): void {
    if (level === "warn") this.warnings.push(message);
  }
  /** The warnings that name an instance. */
  about(instanceId: string): string[] {
    return this.warnings.filter((w) => w.includes(`'${instanceId}'`));
  }
}

/** The gRPC status code of a rejected call (the SDK passes grpc errors through). */
export async function grpcCode(p: Promise<unknown>): Promise<{ code?: number; details?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; details?: string; message: string };
    return { code: err.code, details: err.details, message: err.message };
  }
  throw new Error("expected the call to fail");
}

/** Waits for an instance to finish and returns its state (with payloads); fails if it does not exist. */
/** Every entity the query matches, over all its pages. */
export async function allEntities<T = unknown>(c: TaskHubGrpcClient, query: Parameters<TaskHubGrpcClient["getEntities"]>[0]): Promise<EntityMetadata<T>[]> {
  const out: EntityMetadata<T>[] = [];
  for await (const e of c.getEntities<T>(query)) out.push(e);
  return out;
}

export async function completed(c: TaskHubGrpcClient, id: string, timeoutSeconds = 30): Promise<OrchestrationState> {
  const state = await c.waitForOrchestrationCompletion(id, true, timeoutSeconds);
  if (!state) throw new Error(`instance ${id} not found`);
  return state;
}

/** An orchestrator for the entity suites: locks counter `key`, adds 1 inside the critical section, returns the new value. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function* lockAndAdd(ctx: OrchestrationContext, key: string): AsyncGenerator<Task<any>, any, any> {
  const id = new EntityInstanceId("counter", key);
  const lock = yield ctx.entities.lockEntities(id);
  const value = yield ctx.entities.callEntity(id, "add", 1);
  lock.release();
  return value;
}

/** A counter entity: `add(n)` adds n and returns the new value; it starts at 0. */
export class CounterEntity extends TaskEntity<number> {
  add(n: number): number {
    this.state += n;
    return this.state;
  }

  protected initializeState(): number {
    return 0;
  }
}

/** The dashboard suites' common work: the sayHello activity, the waitForApproval orchestrator and the counter entity. */
export function addSampleWork(w: TaskHubGrpcWorker): void {
  w.addActivity(function sayHello(_ctx: ActivityContext, city: string) {
    return `Hello, ${city}!`;
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  w.addOrchestrator(async function* waitForApproval(ctx: OrchestrationContext): any {
    const approval = yield ctx.waitForExternalEvent("Approval");
    return { approved: approval };
  });
  w.addNamedEntity("counter", () => new CounterEntity());
}
