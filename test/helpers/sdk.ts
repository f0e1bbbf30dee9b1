// The official SDK's client and worker, quiet, pointed at a test server and task hub.
import * as grpc from "@grpc/grpc-js";
import { ActivityContext, EntityInstanceId, EntityMetadata, Logger, LogEvent, NoOpLogger, OrchestrationContext, OrchestrationState, OrchestrationStatus, Task, TaskEntity, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { pollUntil } from "./poll";

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
  return retriesEndAtStop(new TaskHubGrpcWorker({ hostAddress: address, logger, metadataGenerator: hubMetadata(hub), shutdownTimeoutMs: 2000 }));
}

/**
 * The SDK worker reopens a broken work-item stream after a backoff (1 s, doubling up to 30 s). In
 * durabletask-js 0.4 a retry still waiting when stop() is called goes on afterwards: it opens a
 * new channel that nothing closes, which reconnects for as long as the process lives. Tests stop
 * workers whose server was killed (crash tests) or has just ended their stream (a deleted hub), so
 * jest's worker processes gathered such channels and could not exit when the run ended. Here the
 * worker waits out its backoff in a timer that stop() clears, and the retry is dropped then (the
 * SDK ignores a retry's failure once stopped). Its protocol and everything else stay the SDK's.
 * Upstream cancels the backoff at stop() since microsoft/durabletask-js#353, which is not in 0.4.0,
 * the newest release on the registry: drop this with a release that has it.
 */
export function retriesEndAtStop(w: TaskHubGrpcWorker): TaskHubGrpcWorker {
  const backoff = new StoppableBackoff();
  const sdk = w as unknown as { _backoff: StoppableBackoff };
  sdk._backoff = backoff;
  const stop = w.stop.bind(w);
  w.stop = () => {
    backoff.stop();
    return stop();
  };
  return w;
}

/** The SDK worker's backoff (its wait, reset and peekNextDelay), with a wait stop() ends. */
class StoppableBackoff {
  private delayMs = 1000;
  private stopped = false;
  private cancel?: () => void;

  peekNextDelay(): number {
    return this.delayMs;
  }

  reset(): void {
    this.delayMs = 1000;
  }

  wait(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the worker was stopped"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cancel = undefined;
        this.delayMs = Math.min(this.delayMs * 2, 30_000);
        resolve();
      }, this.delayMs);
      this.cancel = () => {
        clearTimeout(timer);
        reject(new Error("the worker was stopped"));
      };
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }
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

/**
 * Waits until the instance exists and has left Pending: for instances no start call returned
 * (sub-orchestrations; an entity's start, which on a partitioned store is applied by another partition).
 */
export async function started(c: TaskHubGrpcClient, id: string): Promise<OrchestrationState> {
  const s = await pollUntil(() => c.getOrchestrationState(id), (st) => st !== undefined && st.runtimeStatus !== OrchestrationStatus.PENDING, `${id} to start`);
  return s!;
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
