// Spans of what the scheduler does, as the engine's observer (scheduler/observer.ts):
// - one span per orchestration execution, from its ExecutionStarted to its end (a terminal status or
//   continue-as-new), parented by the trace context its start request carried (the SDK client's
//   create_orchestration span). The SDK's worker makes a span per episode; those become this span's
//   children, because the ExecutionStarted each work item carries names this span as their parent.
// - one span per activity work item, from dispatch to completion (or abandon, or redelivery), under the
//   orchestration's span, linked to the context the orchestrator sent with ScheduleTask (its parent when
//   the orchestration's span is not known); the worker's activity span becomes its child through
//   ActivityRequest.parentTraceContext. An activity a Functions host ran inline (no work item) gets the
//   same span, from its TaskScheduled to its result, once that is durable.
// - one span per entity batch, dispatch to completion, parented by the orchestration that called its
//   first operation when that is known (entity messages carry no trace context in this protocol), and
//   one per operation, from when it was sent to the batch's completion, under its caller or the batch.
// Names and attributes follow the SDKs' ("orchestration:Name", durabletask.task.instance_id, …), so our
// spans and theirs read alike. Spans are built when they end, with ids chosen when they began.
import { context, Link, SpanContext, SpanKind, SpanStatusCode, trace, Tracer, TraceFlags } from "@opentelemetry/api";
import { pb } from "../proto";
import { entityName } from "../core/entities";
import { fromTimestamp } from "../core/events";
import { HistoryEvent, InstanceRecord, statusName, Status } from "../core/model";
import { EngineObserver, InlineActivity, RedeliveryReason, WorkKind } from "../scheduler/observer";
import { executionSpanId, executionTraceId, fromTraceContext, PresetIds, randomSpanId, toTraceContext } from "./trace-context";

const A = {
  TYPE: "durabletask.type", NAME: "durabletask.task.name", VERSION: "durabletask.task.version", INSTANCE_ID: "durabletask.task.instance_id",
  EXECUTION_ID: "durabletask.task.execution_id", STATUS: "durabletask.task.status", TASK_ID: "durabletask.task.task_id",
  ENTITY_OPERATION: "durabletask.entity.operation", HUB: "durabletask.task_hub",
} as const;

/** Most executions and work items tracked at once; beyond it the oldest are dropped (their spans are not sent). */
const MAX_TRACKED = 100_000;

interface Execution {
  executionId: string;
  name: string;
  version?: string;
  traceId: string;
  spanId: string;
  parent?: SpanContext;
  startedAt: number;
}

interface OpenSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parent?: SpanContext;
  links?: Link[];
  startedAt: number;
  attributes: Record<string, string | number>;
  /** An entity batch's operations, each ended with the batch. */
  operations?: OpenSpan[];
}

export class TraceObserver implements EngineObserver {
  private readonly executions = new Map<string, Execution>();
  private readonly open = new Map<string, OpenSpan>();

  constructor(private readonly tracer: Tracer, private readonly ids: PresetIds) {}

  dispatched(hub: string, _kind: WorkKind, item: pb.IWorkItem, token: string): void {
    if (item.orchestratorRequest) this.orchestrationDispatched(hub, item.orchestratorRequest);
    else if (item.activityRequest) this.activityDispatched(hub, item.activityRequest, token);
    else if (item.entityRequestV2) this.entityDispatched(hub, item.entityRequestV2, token);
  }

  completed(_hub: string, _kind: WorkKind, token: string): void {
    this.end(token);
  }

  abandoned(_hub: string, _kind: WorkKind, token: string): void {
    this.end(token, "abandoned by the worker");
  }

  redelivered(_hub: string, _kind: WorkKind, token: string, reason: RedeliveryReason): void {
    this.end(token, `given back without a completion (${reason})`);
  }

  executionEnded(hub: string, rec: InstanceRecord): void {
    const key = `${hub}\0${rec.instanceId}`;
    const known = this.executions.get(key);
    const x = known?.executionId === rec.executionId ? known : this.execution(hub, rec.instanceId, rec.executionId, rec.name, rec.version, undefined, rec.createdAt);
    if (known?.executionId === rec.executionId) this.executions.delete(key);
    const failed = rec.status === Status.ORCHESTRATION_STATUS_FAILED;
    this.emit({
      name: spanName("orchestration", x.name, x.version), kind: SpanKind.SERVER, traceId: x.traceId, spanId: x.spanId, parent: x.parent, startedAt: x.startedAt,
      attributes: {
        [A.TYPE]: "orchestration", [A.NAME]: x.name, [A.INSTANCE_ID]: rec.instanceId, [A.EXECUTION_ID]: rec.executionId, [A.HUB]: hub,
        [A.STATUS]: statusName(rec.status), ...(x.version ? { [A.VERSION]: x.version } : {}),
      },
    }, rec.completedAt ?? rec.lastUpdatedAt, failed ? rec.failureDetails?.errorMessage || "failed" : undefined);
  }

  committed(): void {
    // Commits are measured by metrics, not traced.
  }

  /** The execution's span comes from its ExecutionStarted; the work item then names it as the worker's parent. */
  private orchestrationDispatched(hub: string, req: pb.IOrchestratorRequest): void {
    const instanceId = req.instanceId ?? "";
    const past = req.pastEvents ?? [];
    const news = req.newEvents ?? [];
    // ExecutionStarted is near the head of a history (after OrchestratorStarted), or among the new events.
    let where: { list: "pastEvents" | "newEvents"; index: number } | undefined;
    for (let i = 0; i < Math.min(past.length, 3) && !where; i++) if (past[i].executionStarted) where = { list: "pastEvents", index: i };
    for (let i = 0; i < news.length && !where; i++) if (news[i].executionStarted) where = { list: "newEvents", index: i };
    if (!where) return; // a history fetched by StreamInstanceHistory: the worker's span keeps the stored parent
    const events = where.list === "pastEvents" ? past : news;
    const e = events[where.index] as HistoryEvent;
    const started = e.executionStarted!;
    const executionId = (typeof req.executionId === "string" ? req.executionId : req.executionId?.value) || started.orchestrationInstance?.executionId?.value || "";
    const key = `${hub}\0${instanceId}`;
    let x = this.executions.get(key);
    if (x?.executionId !== executionId) {
      x = this.execution(hub, instanceId, executionId, started.name ?? "", started.version?.value ?? undefined, fromTraceContext(started.parentTraceContext), fromTimestamp(e.timestamp) ?? Date.now());
      this.track(this.executions, key, x);
    }
    // A copy: the arrays and events are the hub's own history, which keeps the client's context.
    const copy = events.slice();
    copy[where.index] = { ...e, executionStarted: { ...started, parentTraceContext: toTraceContext(x) } };
    req[where.list] = copy;
  }

  private activityDispatched(hub: string, req: pb.IActivityRequest, token: string): void {
    const span = this.activitySpan(hub, req.orchestrationInstance?.instanceId ?? "", req.orchestrationInstance?.executionId?.value ?? "",
      { name: req.name, version: req.version, parentTraceContext: req.parentTraceContext }, req.taskId ?? 0, Date.now());
    this.track(this.open, token, span);
    req.parentTraceContext = toTraceContext(span);
  }

  /** A Functions host's inline activities: a span each, from its TaskScheduled to its result, as a work item's would be. */
  ranInline(hub: string, instanceId: string, executionId: string, activities: InlineActivity[]): void {
    for (const { scheduled, result } of activities) {
      const span = this.activitySpan(hub, instanceId, executionId, scheduled.taskScheduled ?? {}, scheduled.eventId ?? 0, fromTimestamp(scheduled.timestamp) ?? Date.now());
      const failed = result.taskFailed && (result.taskFailed.failureDetails?.errorMessage || "failed");
      this.emit(span, fromTimestamp(result.timestamp) ?? Date.now(), failed || undefined);
    }
  }

  private activitySpan(hub: string, instanceId: string, executionId: string, task: pb.ITaskScheduledEvent, taskId: number, startedAt: number): OpenSpan {
    const x = this.executions.get(`${hub}\0${instanceId}`);
    const scheduled = fromTraceContext(task.parentTraceContext);
    // Under the orchestration's span, so the tree is whole: the span id an SDK sends with ScheduleTask is one
    // the JS SDK never exports (its client span is emitted later with another id). That context stays as a link.
    const parent = x?.executionId === executionId ? spanContextOf(x) : scheduled
      ?? { traceId: executionTraceId(hub, instanceId, executionId), spanId: executionSpanId(hub, instanceId, executionId), traceFlags: TraceFlags.SAMPLED, isRemote: true };
    return {
      name: spanName("activity", task.name ?? "", task.version?.value ?? undefined), kind: SpanKind.CLIENT, traceId: parent.traceId, spanId: randomSpanId(), parent,
      links: scheduled && scheduled !== parent ? [{ context: scheduled }] : undefined, startedAt,
      attributes: { [A.TYPE]: "activity", [A.NAME]: task.name ?? "", [A.INSTANCE_ID]: instanceId, [A.TASK_ID]: taskId, [A.HUB]: hub },
    };
  }

  /**
   * A span for the batch (dispatch to completion) and one per operation, from when it was sent (its
   * event's time) to the batch's completion: under the orchestration that called it when that is
   * known, else under the batch (signals; entity messages carry no trace context in this protocol).
   */
  private entityDispatched(hub: string, req: pb.IEntityRequest, token: string): void {
    const entityId = req.instanceId ?? "";
    const name = entityName(entityId);
    const now = Date.now();
    const ops = (req.operationRequests ?? []).map((op) => {
      const called = op.entityOperationCalled;
      const x = called?.parentInstanceId?.value ? this.executions.get(`${hub}\0${called.parentInstanceId.value}`) : undefined;
      return { name: called?.operation ?? op.entityOperationSignaled?.operation ?? "", caller: x && spanContextOf(x), sentAt: fromTimestamp(op.timestamp) ?? now, called: !!called };
    });
    const callers = ops.flatMap((o) => (o.caller ? [o.caller] : []));
    const parent = callers[0];
    const batch: OpenSpan = {
      name: spanName("entity", name), kind: SpanKind.CLIENT, traceId: parent?.traceId ?? randomTraceId(), spanId: randomSpanId(), parent,
      links: callers.slice(1).map((c) => ({ context: c })), startedAt: now,
      attributes: { [A.TYPE]: "entity", [A.NAME]: name, [A.INSTANCE_ID]: entityId, [A.ENTITY_OPERATION]: ops.map((o) => o.name).filter(Boolean).join(","), [A.HUB]: hub },
    };
    const underBatch = spanContextOf(batch);
    batch.operations = ops.map((o, i) => ({
      name: spanName("entity", `${name}:${o.name}`), kind: SpanKind.SERVER, traceId: (o.caller ?? underBatch).traceId, spanId: randomSpanId(),
      parent: o.caller ?? underBatch, links: o.caller ? [{ context: underBatch }] : undefined, startedAt: Math.min(o.sentAt, now),
      attributes: {
        [A.TYPE]: o.called ? "entity_call" : "entity_signal", [A.NAME]: name, [A.INSTANCE_ID]: entityId, [A.ENTITY_OPERATION]: o.name,
        "durabletask.entity.operation_index": i, [A.HUB]: hub,
      },
    }));
    this.track(this.open, token, batch);
  }

  private execution(hub: string, instanceId: string, executionId: string, name: string, version: string | undefined, parent: SpanContext | undefined, startedAt: number): Execution {
    return {
      executionId, name, version, parent, startedAt,
      traceId: parent?.traceId ?? executionTraceId(hub, instanceId, executionId),
      spanId: executionSpanId(hub, instanceId, executionId),
    };
  }

  private end(token: string, error?: string): void {
    const span = this.open.get(token);
    if (!span) return;
    this.open.delete(token);
    const now = Date.now();
    this.emit(span, now, error);
    for (const op of span.operations ?? []) this.emit(op, now, error);
  }

  private emit(s: OpenSpan, endedAt: number, error?: string): void {
    const parentContext = s.parent ? trace.setSpanContext(context.active(), s.parent) : context.active();
    const span = this.ids.with(s.spanId, s.traceId, () => this.tracer.startSpan(s.name, { kind: s.kind, startTime: s.startedAt, attributes: s.attributes, links: s.links, root: !s.parent }, parentContext));
    span.setStatus(error ? { code: SpanStatusCode.ERROR, message: error } : { code: SpanStatusCode.OK });
    span.end(Math.max(endedAt, s.startedAt));
  }

  private track<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_TRACKED) map.delete(map.keys().next().value as string);
    map.set(key, value);
  }
}

function spanContextOf(x: { traceId: string; spanId: string }): SpanContext {
  return { traceId: x.traceId, spanId: x.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

/** The SDKs' span names: "type:name", "type:name@(version)". */
function spanName(type: string, name: string, version?: string): string {
  return version ? `${type}:${name}@(${version})` : `${type}:${name}`;
}

function randomTraceId(): string {
  return randomSpanId() + randomSpanId();
}
