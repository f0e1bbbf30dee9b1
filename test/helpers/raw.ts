// A raw gRPC client of TaskHubSidecarService (our own service definition and codec), for what the
// SDK does not expose: GetWorkItems with max* limits, HealthPing, Abandon*, instance batches,
// CreateTaskHub/DeleteTaskHub, malformed requests.
import * as grpc from "@grpc/grpc-js";
import { applyEpisode, EpisodeOutcome } from "../../src/core/orchestration";
import { outcomeToRequest } from "../../src/core/precomputed-completion";
import { pb } from "../../src/proto";
import { sidecarDefinition } from "../../src/proto/services";

/* eslint-disable @typescript-eslint/no-explicit-any */

export type RawError = grpc.ServiceError;

export class RawClient {
  readonly grpc: grpc.Client & Record<string, any>;
  /** A bearer token sent with every call (auth tests). */
  token?: string;
  private readonly streams = new Set<WorkStream>();

  /** A client of TaskHubSidecarService, or of another of our services (e.g. backendDefinition). */
  constructor(readonly address: string, readonly hub?: string, definition: grpc.ServiceDefinition = sidecarDefinition) {
    const Ctor = grpc.makeGenericClientConstructor(definition as any, "Raw");
    this.grpc = new Ctor(address, grpc.credentials.createInsecure()) as any;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.hub !== undefined) md.set("taskhub", this.hub);
    if (this.token !== undefined) md.set("authorization", `Bearer ${this.token}`);
    return md;
  }

  /** Calls a unary RPC by its name in the service definition (e.g. "PurgeInstances"). */
  call<T = any>(method: string, request: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.grpc[method](request, this.metadata(), (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  /** The hub's instances (up to 1,000) as QueryInstances answers them. */
  async instances(): Promise<any[]> {
    return (await this.call("QueryInstances", { query: { maxInstanceCount: 1000 } })).orchestrationState;
  }

  /** Reads each instance whole, its state and its history; a call that fails rejects. */
  async readWhole(ids: string[]): Promise<void> {
    for (const id of ids) {
      await this.call("GetInstance", { instanceId: id, getInputsAndOutputs: true });
      await new Promise<void>((resolve, reject) => {
        const call = this.grpc.StreamInstanceHistory({ instanceId: id }, this.metadata());
        call.on("data", () => undefined);
        call.on("error", reject);
        call.on("end", resolve);
      });
    }
  }

  /** Opens a GetWorkItems stream. */
  workItems(request: pb.IGetWorkItemsRequest = {}): WorkStream {
    const s = new WorkStream(this.grpc.GetWorkItems(request, this.metadata()) as grpc.ClientReadableStream<pb.WorkItem>);
    this.streams.add(s);
    return s;
  }

  close(): void {
    for (const s of this.streams) s.cancel();
    this.grpc.close();
  }
}

type ItemPredicate = (item: pb.WorkItem) => boolean;

/** A GetWorkItems stream that logs every item in arrival order and lets a test await items. */
export class WorkStream {
  readonly items: pb.WorkItem[] = [];
  error?: grpc.ServiceError;
  ended = false;
  private waiters: (() => void)[] = [];

  constructor(readonly call: grpc.ClientReadableStream<pb.WorkItem>) {
    call.on("data", (item: pb.WorkItem) => {
      this.items.push(item);
      this.wake();
    });
    call.on("error", (err: grpc.ServiceError) => {
      this.error = err;
      this.ended = true;
      this.wake();
    });
    call.on("end", () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Index of the first item at index >= from that matches; waits for it to arrive. */
  async waitFor(predicate: ItemPredicate, from = 0): Promise<number> {
    for (;;) {
      for (let i = from; i < this.items.length; i++) if (predicate(this.items[i])) return i;
      if (this.ended) throw this.error ?? new Error("the work item stream ended");
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The first matching item at index >= from (waits for it). */
  async next(predicate: ItemPredicate, from = 0): Promise<pb.WorkItem> {
    return this.items[await this.waitFor(predicate, from)];
  }

  /** Resolves when the stream ends (with its error, if any). */
  async closed(): Promise<grpc.ServiceError | undefined> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.error;
  }

  cancel(): void {
    if (!this.ended) this.call.cancel();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export const isActivity: ItemPredicate = (i) => !!i.activityRequest;
export const isOrchestration: ItemPredicate = (i) => !!i.orchestratorRequest;
export const isPing: ItemPredicate = (i) => !!i.healthPing;

/** Plays the orchestrator on a raw stream: answers the next orchestration item (at index >= from) with one scheduleTask per name, ids 1, 2, ... as the SDKs number them. */
export async function answerWithActivities(r: RawClient, s: WorkStream, names: string[], from = 0): Promise<{ index: number; item: pb.WorkItem }> {
  const index = await s.waitFor(isOrchestration, from);
  const item = s.items[index];
  await r.call("CompleteOrchestratorTask", {
    instanceId: item.orchestratorRequest!.instanceId,
    completionToken: item.completionToken,
    actions: names.map((name, i) => ({ id: i + 1, scheduleTask: { name, input: { value: JSON.stringify(i + 1) } } })),
  });
  return { index, item };
}

/** A CompleteActivityTask request for an activity work item with this (JSON) result. */
export function activityResponse(item: pb.WorkItem, result: unknown, token = item.completionToken): pb.IActivityResponse {
  return {
    instanceId: item.activityRequest!.orchestrationInstance!.instanceId,
    taskId: item.activityRequest!.taskId,
    result: { value: JSON.stringify(result) },
    completionToken: token,
  };
}

/** Sends raw bytes to a method with identity (de)serializers: resolves with the error the server answers. */
export function rawBytesCall(address: string, method: string, bytes: Buffer, hub?: string): Promise<grpc.ServiceError | Buffer> {
  const c = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  if (hub !== undefined) md.set("taskhub", hub);
  return new Promise<grpc.ServiceError | Buffer>((resolve) => {
    c.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, bytes, md, (err, res) => resolve(err ?? res!));
  }).finally(() => c.close());
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Plays a Functions host: answers one orchestrator work item with these actions through core/ and BackendService. */
export async function answerOrchestration(raw: RawClient, item: pb.WorkItem, actions: pb.IOrchestratorAction[]): Promise<EpisodeOutcome> {
  const req = item.orchestratorRequest!;
  const past = req.pastEvents ?? [];
  const dispatched = req.newEvents ?? [];
  const started = [...past, ...dispatched].find((e) => e.executionStarted)!.executionStarted!;
  const S = pb.OrchestrationStatus;
  const outcome = applyEpisode({
    instance: {
      instanceId: req.instanceId ?? "", executionId: req.executionId?.value ?? "", name: started.name ?? "",
      status: past.length ? S.ORCHESTRATION_STATUS_RUNNING : S.ORCHESTRATION_STATUS_PENDING, createdAt: Date.now(), lastUpdatedAt: Date.now(),
    },
    history: past, dispatched, actions, now: Date.now(), newExecutionId: () => "x",
  });
  await raw.call("CompleteOrchestrationWorkItem", outcomeToRequest(outcome, item.completionToken));
  return outcome;
}
