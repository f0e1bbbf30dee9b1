// The transitions of an orchestration instance that client operations and work-item completions
// share: start (or replace), terminate, end without a worker, rewind. Each records into the
// operation's change through the hub state.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { SchedulerError, invalid } from "../core/errors";
import { event, executionStarted, findExecutionStarted, fromTimestamp, str, unfinishedSubOrchestrations, val } from "../core/events";
import { checkInstanceId, checkPayload, checkTags, checkText } from "../core/limits";
import { FailureDetails, InstanceRecord, isTerminal, nonEmpty, Status, statusName } from "../core/model";
import { parentNotification } from "../core/orchestration";
import { Change } from "./change";
import { HotInstance } from "./hot-instance";
import { HubState, newExecutionId } from "./hub-state";
import { EngineOptions } from "./options";

export class InstanceLifecycle {
  constructor(private readonly state: HubState, private readonly options: EngineOptions) {}

  /**
   * Validates a start request and adds the new instance to the change; returns its id. An instance
   * of another partition is created by its partition, which applies the reuse policy there (and,
   * with `keepExisting`, leaves an existing instance alone).
   */
  start(req: pb.ICreateInstanceRequest, change: Change, keepExisting = false): string {
    const instanceId = req.instanceId ? checkInstanceId(req.instanceId) : randomUUID();
    if (!req.name) throw invalid("name (the orchestration name) must not be empty");
    // Also here, not only at the gRPC edge: entities and schedules start orchestrations too.
    checkText(req.name, "name (the orchestration name)");
    checkText(val(req.executionId), "executionId");
    checkPayload(val(req.input), "input", this.options.maxPayloadBytes);
    checkTags(req.tags);
    const remote = !this.state.link.owns(instanceId);
    // An id generated here is new: nothing to look up (and nothing was fetched for it).
    const existing = req.instanceId && !remote ? this.state.current(instanceId) : undefined;
    if (existing) {
      const replaceable = req.orchestrationIdReusePolicy?.replaceableStatus ?? [];
      const allowed = replaceable.length > 0 ? replaceable.includes(existing.status) : isTerminal(existing.status);
      if (!allowed) {
        throw new SchedulerError("ALREADY_EXISTS", `An orchestration with instance id '${instanceId}' already exists and is ${statusName(existing.status)}; ` +
          (isTerminal(existing.status) ? "its status is not in the request's reuse policy" : "purge or terminate it first, or allow its status in the reuse policy"));
      }
      this.state.dropInstance(instanceId, change);
    }
    const now = Date.now();
    const scheduledStartAt = fromTimestamp(req.scheduledStartTimestamp);
    const executionId = val(req.executionId) || newExecutionId();
    const rec: InstanceRecord = {
      instanceId, executionId, name: req.name, version: val(req.version) || undefined, status: Status.ORCHESTRATION_STATUS_PENDING,
      input: val(req.input), createdAt: now, lastUpdatedAt: now, tags: nonEmpty(req.tags),
      scheduledStartAt: scheduledStartAt && scheduledStartAt > now ? scheduledStartAt : undefined,
    };
    const start = executionStarted(now, {
      name: req.name, version: req.version, input: req.input, tags: req.tags, parentTraceContext: req.parentTraceContext,
      orchestrationInstance: { instanceId, executionId: str(executionId) },
      scheduledStartTimestamp: rec.scheduledStartAt ? req.scheduledStartTimestamp : undefined,
    });
    if (remote) {
      const replaceable = req.orchestrationIdReusePolicy?.replaceableStatus ?? [];
      this.state.link.post(this.state.name, instanceId, { kind: "start", instance: rec, visibleAt: rec.scheduledStartAt ?? now, replaceable, keepExisting }, [start], change);
      return instanceId;
    }
    this.state.createInstance(rec, start, rec.scheduledStartAt ?? now, change);
    return instanceId;
  }

  /** Asks the instance's worker to terminate it (and, when recursive, its unfinished sub-orchestrations). */
  terminate(instanceId: string, reason: string | undefined, recursive: boolean, change: Change, seen = new Set<string>()): void {
    if (seen.has(instanceId)) return; // a cycle of sub-orchestration ids
    seen.add(instanceId);
    if (!this.state.link.owns(instanceId)) {
      this.state.link.post(this.state.name, instanceId, { kind: "terminate", instanceId, reason, recurse: recursive }, [], change);
      return;
    }
    const h = this.state.get(instanceId);
    if (!h || isTerminal(h.rec.status)) return;
    const now = Date.now();
    if (h.history.length === 0 && !h.lease) {
      // Never started (e.g. a scheduled start still in the future): no worker needs to see it.
      this.endNow(h, { terminated: reason }, change);
      return;
    }
    this.state.send({ instanceId, visibleAt: now, event: event(now, { executionTerminated: { input: str(reason), recurse: recursive } }) }, change);
    if (recursive) {
      for (const c of unfinishedSubOrchestrations(h.history)) {
        if (c.created.instanceId) this.terminate(c.created.instanceId, reason, true, change, seen);
      }
    }
  }

  /**
   * Ends an execution without a worker: Terminated with a reason, or Failed with failure details. An
   * in-flight work item's completion is then refused.
   */
  endNow(h: HotInstance, end: { terminated: string | undefined } | { failed: FailureDetails }, change: Change): void {
    const now = Date.now();
    this.state.revoke(h);
    const rec: InstanceRecord = "failed" in end
      ? { ...h.rec, status: Status.ORCHESTRATION_STATUS_FAILED, failureDetails: end.failed, completedAt: now, lastUpdatedAt: now }
      : { ...h.rec, status: Status.ORCHESTRATION_STATUS_TERMINATED, output: end.terminated, completedAt: now, lastUpdatedAt: now };
    const started = findExecutionStarted(h.history, h.inbox.map((m) => m.event));
    const ran = h.history.length > 0;
    this.state.setRecord(h, rec, change);
    if (ran) {
      this.state.appendHistory(h, "failed" in end
        ? [event(now, { executionCompleted: { orchestrationStatus: rec.status, failureDetails: end.failed } })]
        : [event(now, { executionTerminated: { input: str(end.terminated) } }), event(now, { executionCompleted: { orchestrationStatus: rec.status, result: str(end.terminated) } })], change);
    }
    this.state.finish(h, change);
    this.state.releaseLocksOf(rec.instanceId, change);
    const note = parentNotification(rec, started, now);
    if (note) this.state.send(note, change);
    change.notify.add(rec.instanceId);
    change.after.push(() => this.state.evictIfDone(h));
  }

  /** parentExecutionId: a rewound parent's execution, which the SDK writes into the child's rewritten ExecutionStarted. */
  rewind(instanceId: string, reason: string | undefined, change: Change, parentExecutionId?: string): void {
    const h = this.state.reheat(instanceId);
    if (!h) return;
    this.state.setStatus(h, Status.ORCHESTRATION_STATUS_RUNNING, change, { completedAt: undefined });
    this.state.send({ instanceId, visibleAt: Date.now(), event: event(Date.now(), { executionRewound: { reason: str(reason), parentExecutionId: str(parentExecutionId) } }) }, change);
  }
}
