// Work-item completions, one template for orchestrator, activity and entity items: check the lease,
// compute the outcome (nothing is changed yet, so a refused result leaves the item leased), apply it
// as one change, commit, then end the lease and dispatch the consequences. Also the ways an item
// comes back without a result: abandoned, released, or lost with its stream.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { invalid, notFound, SchedulerError } from "../core/errors";
import { applyEntityBatch, BatchOutcome } from "../core/entities";
import { event, str, val } from "../core/events";
import { passesHistoryLimit, payloadBytes } from "../core/limits";
import { limitedActivityResult } from "../core/activity-result";
import { ActivityRecord, EntityData, FailureDetails, HistoryEvent, isTerminal, MessageRecord, Status } from "../core/model";
import { checkOutcome } from "../core/outcome-limits";
import { ActionError, applyEpisode, EpisodeOutcome } from "../core/orchestration";
import { requestToOutcome } from "../core/precomputed-completion";
import { applyOutcome } from "./apply-outcome";
import { Change } from "./change";
import { Dispatcher, Lease, WorkKind } from "./dispatcher";
import { endWork, HotInstance } from "./hot-instance";
import { HubCommit } from "./hub-commit";
import { HubState, newExecutionId } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";
import { EngineOptions } from "./options";
import { WorkFeed } from "./work-feed";
import { log } from "../log/log";

type PrecomputedRequest = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;
/** How a checked result changes the hub, and the instances outside memory it reads (fetched first). */
type Apply = ((change: Change) => void) & { cold?: { ids: string[]; history: boolean } };

export class WorkItemCompletions {
  constructor(
    private readonly state: HubState,
    private readonly lifecycle: InstanceLifecycle,
    private readonly feed: WorkFeed,
    private readonly commit: HubCommit,
    private readonly dispatcher: Dispatcher,
    private readonly options: EngineOptions,
  ) {}

  /** A portable SDK's episode result: the worker's actions, turned into events here by core/. */
  orchestration(res: pb.IOrchestratorResponse): Promise<void> {
    return this.episode(res.completionToken, res.instanceId, (h, dispatched, now) => applyEpisode({
      instance: h.rec, history: h.history, dispatched, actions: res.actions ?? [], customStatus: val(res.customStatus), now, newExecutionId,
    }));
  }

  /** A Functions host's episode result (BackendService), already turned into events on its side. */
  precomputedOrchestration(req: PrecomputedRequest): Promise<void> {
    return this.episode(req.completionToken, req.instance?.instanceId, (h, _dispatched, now) => requestToOutcome({ instance: h.rec, history: h.history, request: req, now, maxPayloadBytes: this.options.maxPayloadBytes }));
  }

  activity(res: pb.IActivityResponse): Promise<void> {
    return this.complete("activity", res.completionToken, (lease) => this.state.activity(lease.key as number), (a, now) => {
      const e = res.failureDetails
        ? event(now, { taskFailed: { taskScheduledId: a.taskId, failureDetails: res.failureDetails } })
        : limitedActivityResult(a.name, event(now, { taskCompleted: { taskScheduledId: a.taskId, result: res.result } }), this.options.maxPayloadBytes);
      return (change) => this.activityDone(a, e, change);
    });
  }

  /** BackendService's activity completion: the TaskCompleted or TaskFailed event the host built. */
  activityEvent(token: string | null | undefined, e: HistoryEvent | null | undefined): Promise<void> {
    if (!e?.taskCompleted && !e?.taskFailed) throw invalid("responseEvent must be a TaskCompleted or TaskFailed event");
    return this.activity({ completionToken: token, result: e.taskCompleted?.result, failureDetails: e.taskFailed?.failureDetails });
  }

  entity(result: pb.IEntityBatchResult): Promise<void> {
    if (result.failureDetails) {
      // The worker could not run the batch at all (not an operation failure): run it again later.
      this.abandon(result.completionToken, "entity");
      return Promise.resolve();
    }
    return this.batch(result.completionToken, (data, operations, now) => applyEntityBatch(data, operations, result, now, randomUUID));
  }

  /** BackendService's entity completion: new state and the messages the host built. */
  precomputedEntity(req: pb.durabletask.protos.backend.v1.ICompleteEntityWorkItemRequest): Promise<void> {
    return this.batch(req.completionToken, (data, _operations, now) => ({
      entity: { ...data, state: val(req.entityState) || undefined },
      messages: (req.messages ?? []).map((m) => {
        if (!m.instance?.instanceId || !m.event) throw invalid("every message needs an instance id and an event");
        return { instanceId: m.instance.instanceId, executionId: val(m.instance.executionId) || undefined, visibleAt: now, event: m.event };
      }),
      starts: [],
    }));
  }

  /** A worker gave a work item back: dispatch it again after a delay that grows with each give-back. */
  abandon(token: string | null | undefined, kind: WorkKind): void {
    const lease = this.leaseFor(token, kind);
    this.dispatcher.end(lease);
    this.options.observer.abandoned(this.state.name, kind, lease.token);
    let count: number;
    if (kind !== "activity") {
      const h = this.state.get(lease.key as string);
      count = h ? ++h.abandonCount : 1;
    } else {
      const a = this.state.activity(lease.key as number);
      count = a ? (a.abandonCount = (a.abandonCount ?? 0) + 1) : 1;
    }
    this.giveBack(lease, Math.min(this.options.abandonBaseDelayMs * 2 ** (count - 1), this.options.abandonMaxDelayMs));
    this.dispatcher.pump();
  }

  /** A worker hands an item back to be dispatched again at once (Release*WorkItem). */
  release(token: string | null | undefined, kind: WorkKind): void {
    const lease = this.leaseFor(token, kind);
    this.dispatcher.end(lease);
    this.options.observer.redelivered(this.state.name, kind, lease.token, "released");
    this.giveBack(lease, 0);
    this.dispatcher.pump();
  }

  /**
   * A work item was lost without a completion (its stream closed, or its lease ran out on a silent
   * stream). It goes back to the queue, unless it has now been lost maxDeliveryAttempts times in a
   * row: a work item that kills every worker it reaches is failed with a reason instead of looping.
   */
  released(lease: Lease, reason: "disconnected" | "expired"): void {
    const limit = this.options.maxDeliveryAttempts;
    const why = (n: number) => `Its work item was delivered ${n} times and each time the worker's stream ${reason === "expired" ? "went silent" : "closed"} before completing it, so it is not dispatched again (--max-delivery-attempts ${limit})`;
    if (lease.kind === "activity") {
      const a = this.state.activity(lease.key as number);
      const current = a && this.state.activityLeases.get(a.seq)?.token === lease.token;
      const lost = a ? (this.state.lostActivities.get(a.seq) ?? 0) + 1 : 0;
      if (a && current) this.state.lostActivities.set(a.seq, lost);
      if (a && current && lost >= limit) {
        this.state.activityLeases.delete(a.seq);
        const change = new Change();
        this.activityDone(a, event(Date.now(), { taskFailed: { taskScheduledId: a.taskId, failureDetails: { errorType: "PoisonWorkItem", errorMessage: `Activity '${a.name}' failed: ${why(lost)}`, isNonRetriable: true } } }), change);
        this.commit.run(change).catch(() => undefined);
        return;
      }
    } else {
      const h = this.state.get(lease.key as string);
      if (h && h.lease?.token === lease.token && ++h.lostDeliveries >= limit) {
        const n = h.lostDeliveries;
        this.state.revoke(h);
        if (!h.rec.entity) {
          const change = new Change();
          this.lifecycle.endNow(h, { failed: { errorType: "PoisonWorkItem", errorMessage: `Orchestration '${h.rec.name}' failed: ${why(n)}`, isNonRetriable: true } }, change);
          this.commit.run(change).catch(() => undefined);
          return;
        }
        // An entity has no status to fail; its batch waits the longest back-off before it is tried again.
        log.warning(`dts: entity '${h.rec.instanceId}': ${why(n)}; retrying after ${this.options.abandonMaxDelayMs / 1000} s`, { hub: this.state.name, instanceId: h.rec.instanceId, workItem: lease.token });
        h.lostDeliveries = 0;
        this.options.observer.redelivered(this.state.name, lease.kind, lease.token, reason);
        return this.giveBack(lease, this.options.abandonMaxDelayMs);
      }
    }
    this.options.observer.redelivered(this.state.name, lease.kind, lease.token, reason);
    this.giveBack(lease, 0);
  }

  private giveBack(lease: Lease, delayMs: number): void {
    this.feed.giveBack(lease, delayMs);
    if (lease.kind !== "activity") {
      const h = this.state.get(lease.key as string);
      if (h && delayMs === 0) this.commit.wake(h, Date.now());
    }
  }

  /** One path for every episode, whoever turned its actions into events. */
  private episode(token: string | null | undefined, instanceId: string | null | undefined, compute: (h: HotInstance, dispatched: HistoryEvent[], now: number) => EpisodeOutcome): Promise<void> {
    return this.complete("orchestration", token, (lease) => this.leased(lease, (h) => !!h.episode), (h, now) => {
      if (instanceId && instanceId !== h.rec.instanceId) {
        throw invalid(`instanceId '${instanceId}' does not match the work item's instance '${h.rec.instanceId}'`);
      }
      const dispatched = h.episode!;
      // A result the scheduler cannot store fails the orchestration instead of looping on retries.
      const fail = (failureDetails: FailureDetails) => applyEpisode({
        instance: h.rec, history: h.history, dispatched: dispatched.newEvents, now, newExecutionId,
        actions: [{ id: -1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_FAILED, failureDetails } }],
      });
      let outcome: EpisodeOutcome;
      try {
        outcome = compute(h, dispatched.newEvents, now);
        checkOutcome(outcome, this.options.maxPayloadBytes);
      } catch (err) {
        if (!(err instanceof SchedulerError) && !(err instanceof ActionError)) throw err;
        const invalidAction = err instanceof ActionError || err.code === "INVALID_ARGUMENT";
        outcome = fail({ errorType: invalidAction ? "InvalidAction" : "PayloadTooLarge", errorMessage: err.message });
      }
      const length = outcome.replaceHistory ? outcome.replaceHistory.length : h.history.length + outcome.append.length;
      if (passesHistoryLimit(length, this.options.maxHistoryEvents, isTerminal(outcome.instance.status))) {
        outcome = fail({
          errorType: "HistoryTooLarge", isNonRetriable: true,
          errorMessage: `The history of orchestration '${h.rec.instanceId}' would have ${length} events; the limit is ${this.options.maxHistoryEvents} (--max-history-events). Use continue-as-new to keep an eternal or very long orchestration's history short`,
        });
      }
      const final = outcome;
      const apply: Apply = (change) => {
        change.consume(this.state.name, h, dispatched.consumed);
        applyOutcome(this.state, this.lifecycle, h, final, change);
        const inline = final.inlineActivities;
        if (inline) change.after.push(() => this.options.observer.ranInline?.(this.state.name, h.rec.instanceId, final.instance.executionId, inline));
        h.abandonCount = 0;
        h.lostDeliveries = 0;
      };
      // Sub-orchestrations it starts or rewinds may exist outside memory (a rewound one's result is sent again from its history).
      if (final.children.length > 0 || final.rewindChildren.length > 0) {
        apply.cold = { ids: [...final.children.map((c) => c.instance.instanceId), ...final.rewindChildren.map((c) => c.instanceId)], history: final.rewindChildren.length > 0 };
      }
      return apply;
    });
  }

  private batch(token: string | null | undefined, compute: (data: EntityData, operations: MessageRecord[], now: number) => BatchOutcome): Promise<void> {
    return this.complete("entity", token, (lease) => this.leased(lease, (h) => !!h.rec.entity && !!h.batch), (h, now) => {
      const data = h.rec.entity!;
      const operations = h.batch!;
      let outcome = compute(data, operations, now);
      const size = payloadBytes(outcome.entity.state);
      if (size > this.options.maxPayloadBytes) {
        const failure = { errorType: "PayloadTooLarge", errorMessage: `The state of entity '${h.rec.instanceId}' would be ${size} bytes; the limit is ${this.options.maxPayloadBytes} bytes`, isNonRetriable: true };
        outcome = applyEntityBatch(data, operations, { entityState: str(data.state), results: operations.map(() => ({ failure: { failureDetails: failure } })) }, now, randomUUID);
      }
      const final = outcome;
      const apply: Apply = (change) => {
        change.consume(this.state.name, h, operations.map((m) => m.seq));
        this.state.setEntity(h, final.entity, change);
        for (const m of final.messages) this.state.send(m, change);
        for (const start of final.starts) {
          try {
            this.lifecycle.start({ instanceId: start.instanceId, name: start.name, version: start.version, input: start.input, scheduledStartTimestamp: start.scheduledTime }, change);
          } catch (err) {
            log.error(`dts: entity '${h.rec.instanceId}' could not start orchestration '${start.name}': ${(err as Error).message}`, { hub: this.state.name, instanceId: h.rec.instanceId });
          }
        }
        for (const reason of final.rejected ?? []) log.error(`dts: entity '${h.rec.instanceId}' could not send a signal: ${reason}`, { hub: this.state.name, instanceId: h.rec.instanceId });
        h.abandonCount = 0;
        change.stepped.add(h.rec.instanceId);
      };
      if (final.starts.length > 0) apply.cold = { ids: final.starts.flatMap((s) => (s.instanceId ? [s.instanceId] : [])), history: false };
      return apply;
    });
  }

  /**
   * The template. `locate` finds what the lease is for (undefined: it is gone); `compute` checks the
   * result and returns how to apply it, or throws with nothing changed.
   */
  private complete<T>(kind: WorkKind, token: string | null | undefined, locate: (lease: Lease) => T | undefined, compute: (target: T, now: number) => Apply): Promise<void> {
    const lease = this.leaseFor(token, kind);
    const target = locate(lease);
    if (target === undefined) {
      this.dispatcher.end(lease);
      throw notFound(kind === "activity" ? "The activity's orchestration no longer exists" : `${kind === "entity" ? "Entity" : "Orchestration instance"} '${lease.key}' no longer exists`);
    }
    this.options.observer.completionReceived?.(this.state.name, lease.kind, lease.token);
    const apply = compute(target, Date.now());
    lease.completing = true;
    const fetched = apply.cold && this.state.fetchCold(apply.cold.ids, apply.cold.history);
    if (!fetched) return this.applyCompletion(lease, apply);
    return fetched.then(() => {
      // While the store was read, the item may have been taken back (terminated, purged, hub reloaded).
      if (this.dispatcher.leases.get(lease.token) !== lease || locate(lease) !== target) throw notFound(`The ${kind} work item was taken back while its result was being applied; the result was not applied`);
      return this.applyCompletion(lease, apply);
    }, (err: Error) => {
      lease.completing = false;
      throw new SchedulerError("UNAVAILABLE", `The ${kind} work item's result could not be applied (reading the store failed: ${err.message}); complete it again`);
    });
  }

  private applyCompletion(lease: Lease, apply: Apply): Promise<void> {
    const change = new Change();
    change.speculative = this.options.speculativeDispatch;
    apply(change);
    // Speculative: the instance may take its next work item now, not once this is durable.
    if (change.speculative) change.released.push(() => this.freeInstance(lease, Date.now()));
    change.after.push(() => this.endLease(lease));
    return this.commit.run(change);
  }

  /** The lease's instance while it still holds the lease (and `holds` its dispatched work). */
  private leased(lease: Lease, holds: (h: HotInstance) => boolean): HotInstance | undefined {
    const h = this.state.get(lease.key as string);
    return h && h.lease === lease && holds(h) ? h : undefined;
  }

  /** A completion is durable: its lease ends, and its instance may be dispatched again or leave memory. */
  private endLease(lease: Lease): void {
    this.dispatcher.end(lease);
    this.options.observer.completed(this.state.name, lease.kind, lease.token);
    if (lease.kind === "activity") {
      if (this.state.activityLeases.get(lease.key as number) === lease) this.state.activityLeases.delete(lease.key as number);
      return;
    }
    const h = this.state.get(lease.key as string);
    if (!h) return;
    const now = Date.now();
    this.freeInstance(lease, now);
    // Freed earlier (speculative), it may have waited for this commit (work-feed.ts, history streaming).
    this.feed.enqueueIfReady(h, now);
    this.state.evictIfDone(h);
  }

  /** The orchestration or entity no longer holds the completed work item, so it may take its next. */
  private freeInstance(lease: Lease, now: number): void {
    const h = lease.kind === "activity" ? undefined : this.state.get(lease.key as string);
    if (!h || h.lease !== lease) return;
    this.dispatcher.end(lease);
    h.lastEpisodeMs = now - lease.leasedAt;
    endWork(h);
    this.feed.enqueueIfReady(h, now);
  }

  /** The activity's task leaves the hub and its result event goes to the orchestration, in one change. */
  private activityDone(a: ActivityRecord, e: HistoryEvent, change: Change): void {
    this.state.deleteActivity(a.seq, change);
    this.state.send({ instanceId: a.instanceId, executionId: a.executionId, visibleAt: Date.now(), event: e }, change);
  }

  private leaseFor(token: string | null | undefined, kind: WorkKind): Lease {
    const lease = this.dispatcher.lease(token, kind);
    if (!lease) {
      throw notFound(`The ${kind} work item's completion token is unknown or expired (its lock timed out, its stream closed, or it was already completed); the result was not applied`);
    }
    return lease;
  }
}
