// Test helpers for the provider's bridges: a FunctionApp whose functions are durable-functions' real
// handlers (the ones df.app.* registers: createOrchestrator / createEntityFunction / the wrapped
// activity handler), invoked the way the host does (the trigger object when the bridge hands one
// over, as the host's direct invocation does, else parsed from {string}; return value as RpcTypedData); and a driver that plays the scheduler's part for one orchestration,
// episode by episode, so tests see the actions durable-functions' replay asks for.
import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { event, orchestratorStarted, str } from "../../src/core/events";
import { HistoryEvent } from "../../src/core/model";
import { JsonHistories } from "../../src/provider/history-json";
import { FunctionApp, InvocationRequest, InvocationResult, RegisteredFunction, TypedData } from "../../src/provider/function-app";
import { BridgeOptions, OrchestrationResult, runOrchestration } from "../../src/provider/orchestration-bridge";
import { pb } from "../../src/proto";
import { enforceRetryTimeouts } from "../../src/host/retry-timeouts";
import { ProviderConfig } from "../../src/provider/config";
import { parseConnectionString } from "../../src/provider/connection-string";

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-var-requires */
const { createOrchestrator, createEntityFunction } = require("durable-functions/lib/src/util/testingUtils");

type Handler = (input: unknown, context: InvocationContext) => unknown;

export class TestApp implements FunctionApp {
  readonly dir = "/test-app";
  readonly functions = new Map<string, RegisteredFunction>();
  /** As the host's loader does for the app's durable-functions (here the project's own). */
  readonly retryTimeouts = enforceRetryTimeouts(process.cwd());
  readonly calls: { name: string; request: InvocationRequest }[] = [];
  private readonly handlers = new Map<string, Handler>();

  orchestration(name: string, fn: (context: any) => Generator<any, any, any>): this {
    return this.add(name, "orchestrationTrigger", createOrchestrator(fn));
  }

  activity(name: string, fn: (input: any, context: InvocationContext) => unknown): this {
    return this.add(name, "activityTrigger", (df.app as any).wrapActivityHandler(fn) as Handler);
  }

  entity(name: string, fn: (context: any) => unknown): this {
    return this.add(name, "entityTrigger", createEntityFunction(fn));
  }

  private add(name: string, triggerType: string, handler: Handler): this {
    const binding = `${triggerType}Input${name.length}`; // hash-suffixed like @azure/functions' names
    this.functions.set(name, { name, triggerType, triggerBindingName: binding, bindings: { [binding]: { name: binding, type: triggerType, direction: "in" } } });
    this.handlers.set(name, handler);
    return this;
  }

  async invoke(functionName: string, request: InvocationRequest): Promise<InvocationResult> {
    this.calls.push({ name: functionName, request });
    const fn = this.functions.get(functionName);
    if (!fn) throw new Error(`Function "${functionName}" is not registered by the app`);
    const input = request.trigger !== undefined ? request.trigger : fromTypedData(request.inputData[fn.triggerBindingName]);
    const triggerMetadata = Object.fromEntries(Object.entries(request.triggerMetadata ?? {}).map(([k, v]) => [k, fromTypedData(v)]));
    const context = new InvocationContext({ functionName, invocationId: `inv-${this.calls.length}`, triggerMetadata, logHandler: () => undefined });
    const result = await this.handlers.get(functionName)!(input, context);
    return { returnValue: toTypedData(result), outputs: {} };
  }

  async close(): Promise<void> {}
}

function fromTypedData(d: TypedData | undefined): unknown {
  if (!d) return undefined;
  if (d.string !== undefined) {
    try {
      return JSON.parse(d.string);
    } catch {
      return d.string;
    }
  }
  if (d.json !== undefined) return JSON.parse(d.json);
  return d.bytes;
}

function toTypedData(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === "string") return { string: v };
  if (typeof v === "number") return Number.isInteger(v) ? { int: v } : { double: v };
  return { json: JSON.stringify(v) };
}

/** The provider's configuration for a scheduler at `endpoint` (host:port, plaintext, no credential), 10 invocations of each kind at once. */
export function providerConfig(endpoint: string, extra: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    appDir: "/app", hubName: "default", connectionStringName: "C", settings: {}, warnings: [],
    connection: parseConnectionString(`Endpoint=http://${endpoint};Authentication=None`),
    maxConcurrentOrchestratorFunctions: 10, maxConcurrentActivityFunctions: 10, maxConcurrentEntityFunctions: 10, httpAsyncSleepMs: 30_000, ...extra,
  };
}

export const T0 = Date.UTC(2026, 0, 1);

/** Plays the scheduler for one orchestration instance: history, inbox, and what each episode asked for. */
export class Driver {
  history: HistoryEvent[] = [];
  inbox: HistoryEvent[] = [];
  now = T0;
  executionId = "exec-1";
  last?: OrchestrationResult;
  private requestIds = 0;
  private executions = 1;

  constructor(readonly app: FunctionApp, readonly name: string, input?: unknown, readonly instanceId = "inst-1", parent?: pb.IParentInstanceInfo) {
    this.inbox.push(event(this.now, {
      executionStarted: {
        name, input: str(input === undefined ? undefined : JSON.stringify(input)), parentInstance: parent,
        orchestrationInstance: { instanceId, executionId: str(this.executionId) },
      },
    }));
  }

  /** Durable HTTP's default poll wait (BridgeOptions.httpPollMs); the bridge's default when unset. */
  httpPollMs?: number;

  /** The JSON histories the episodes share, as one work item's continued episodes do (BridgeOptions.histories). */
  histories?: JsonHistories;

  get options(): BridgeOptions {
    return { now: () => this.now, newRequestId: () => `req-${++this.requestIds}`, newExecutionId: () => `exec-${++this.executions}`, httpPollMs: this.httpPollMs, histories: this.histories };
  }

  /** Runs one episode with what is in the inbox; returns the completion request. */
  async episode(advanceMs = 1000): Promise<pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest> {
    this.now += advanceMs;
    const newEvents = [orchestratorStarted(this.now), ...this.inbox];
    this.inbox = [];
    const r = await runOrchestration(this.app, {
      orchestratorRequest: { instanceId: this.instanceId, executionId: str(this.executionId), pastEvents: this.history, newEvents },
      completionToken: "token",
    }, this.options);
    this.last = r;
    const req = r.request;
    if (req.runtimeStatus === pb.OrchestrationStatus.ORCHESTRATION_STATUS_CONTINUED_AS_NEW) {
      const next = (req.newMessages ?? []).filter((m) => m.instance?.instanceId === this.instanceId).map((m) => m.event!);
      this.executionId = next[0].executionStarted!.orchestrationInstance!.executionId!.value!;
      this.history = [];
      this.inbox = next;
    } else {
      this.history.push(...(req.newHistory ?? []));
    }
    return req;
  }

  /** Ids and kinds of the work one completion scheduled, e.g. ["task 0 SayHello", "timer 1"]. */
  static scheduled(req: pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest): string[] {
    const out: string[] = [];
    for (const e of req.newHistory ?? []) {
      if (e.taskScheduled) out.push(`task ${e.eventId} ${e.taskScheduled.name}`);
      else if (e.timerCreated) out.push(`timer ${e.eventId}`);
      else if (e.subOrchestrationInstanceCreated) out.push(`sub ${e.eventId} ${e.subOrchestrationInstanceCreated.name}`);
      else if (e.entityOperationCalled) out.push(`call ${e.eventId} ${e.entityOperationCalled.targetInstanceId?.value} ${e.entityOperationCalled.operation}`);
      else if (e.entityOperationSignaled) out.push(`signal ${e.eventId} ${e.entityOperationSignaled.targetInstanceId?.value} ${e.entityOperationSignaled.operation}`);
      else if (e.entityLockRequested) out.push(`lock ${e.eventId} ${(e.entityLockRequested.lockSet ?? []).join(",")}`);
      else if (e.entityUnlockSent) out.push(`unlock ${e.eventId} ${e.entityUnlockSent.targetInstanceId?.value}`);
    }
    return out;
  }

  complete(taskId: number, result: unknown): this {
    this.inbox.push(event(this.now, { taskCompleted: { taskScheduledId: taskId, result: str(result === undefined ? undefined : JSON.stringify(result)) } }));
    return this;
  }

  fail(taskId: number, message: string, errorType = "Error"): this {
    this.inbox.push(event(this.now, { taskFailed: { taskScheduledId: taskId, failureDetails: { errorType, errorMessage: message } } }));
    return this;
  }

  subCompleted(taskId: number, result: unknown): this {
    this.inbox.push(event(this.now, { subOrchestrationInstanceCompleted: { taskScheduledId: taskId, result: str(JSON.stringify(result)) } }));
    return this;
  }

  subFailed(taskId: number, message: string): this {
    this.inbox.push(event(this.now, { subOrchestrationInstanceFailed: { taskScheduledId: taskId, failureDetails: { errorType: "Error", errorMessage: message } } }));
    return this;
  }

  fire(timerId: number): this {
    const created = this.history.find((e) => e.eventId === timerId && e.timerCreated);
    if (!created) throw new Error(`no timer ${timerId} in history`);
    this.inbox.push(event(this.now, { timerFired: { timerId, fireAt: created.timerCreated!.fireAt } }));
    return this;
  }

  raise(name: string, value: unknown): this {
    this.inbox.push(event(this.now, { eventRaised: { name, input: str(JSON.stringify(value)) } }));
    return this;
  }

  /** The request id of the entity call recorded at this event id. */
  requestIdOf(eventId: number): string {
    const e = this.history.find((h) => h.eventId === eventId && h.entityOperationCalled);
    if (!e) throw new Error(`no entity call ${eventId} in history`);
    return e.entityOperationCalled!.requestId ?? "";
  }

  entityResult(eventId: number, output: unknown): this {
    this.inbox.push(event(this.now, { entityOperationCompleted: { requestId: this.requestIdOf(eventId), output: str(output === undefined ? undefined : JSON.stringify(output)) } }));
    return this;
  }

  entityFailure(eventId: number, message: string): this {
    this.inbox.push(event(this.now, { entityOperationFailed: { requestId: this.requestIdOf(eventId), failureDetails: { errorType: "Error", errorMessage: message } } }));
    return this;
  }

  lockGranted(criticalSectionId: string): this {
    this.inbox.push(event(this.now, { entityLockGranted: { criticalSectionId } }));
    return this;
  }

  push(e: HistoryEvent): this {
    this.inbox.push(e);
    return this;
  }

  /** The ExecutionCompleted of the finished execution. */
  get completed(): pb.IExecutionCompletedEvent | undefined {
    return [...this.history].reverse().find((e) => e.executionCompleted)?.executionCompleted ?? undefined;
  }

  get output(): unknown {
    const r = this.completed?.result?.value;
    return r === undefined || r === null ? undefined : JSON.parse(r);
  }
}
