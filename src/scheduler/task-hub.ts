// The live engine of one task hub: hot instances with their inboxes, ready queues, activity tasks,
// timers, and every state change (client requests and worker completions) turned into one commit.
// State is changed in memory first; acknowledgements, client reads and the dispatch of consequences wait
// for the commit: clients read `committed` records, and a message is not dispatched while `pending`.
// The entity side (batches, locks, entity reads) is entity-engine.ts.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { SchedulerError, invalid, notFound, notStored, precondition } from "../core/errors";
import { createdSubOrchestrationIds, event, executionStarted, findExecutionStarted, fromTimestamp, orchestratorStarted, str, unfinishedSubOrchestrations, val } from "../core/events";
import { isEntityId } from "../core/entities";
import { checkInstanceId, checkPayload, checkTags, MAX_PAGE_PAYLOAD_BYTES, payloadBytes } from "../core/limits";
import { ActivityRecord, FailureDetails, HistoryEvent, InstanceRecord, isTerminal, nonEmpty, Status, statusName } from "../core/model";

export { statusName };
import { checkOutcome } from "../core/outcome-limits";
import { ActionError, applyEpisode, EpisodeOutcome, NewMessage, parentNotification } from "../core/orchestration";
import { requestToOutcome } from "../core/precomputed-completion";
import { trimPageToBytes } from "../store/query";
import { InstanceFilter, Store } from "../store/store";
import { ActivityTable } from "./activity-table";
import { Change } from "./change";
import { Dispatcher, DispatchSource, Lease, WorkKind } from "./dispatcher";
import { EntityEngine } from "./entity-engine";
import { Fifo } from "./fifo";
import { GroupCommitter } from "./group-commit";
import { HotInstance, hotInstance, InboxMessage } from "./hot-instance";
import { HubMetrics, hubMetrics } from "./hub-metrics";
import { InstanceWaiters } from "./instance-waiters";
import { EngineOptions } from "./options";
import { TimerHeap } from "./timer-heap";
import { WorkerConnection } from "./worker";

type PrecomputedRequest = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;
type Due = { instanceId: string } | { activitySeq: number };

export const newExecutionId = () => randomUUID().replace(/-/g, "");

export class TaskHub implements DispatchSource {
  private readonly instances = new Map<string, HotInstance>();
  private readonly activities = new ActivityTable();
  private readonly activityLeases = new Map<number, Lease>();
  /** Activity deliveries lost in a row, by seq (see released()). */
  private readonly lostActivities = new Map<number, number>();
  private readonly orchestrationReady = new Fifo<string>();
  private readonly activityReady = new Fifo<number>();
  private readonly waiters = new InstanceWaiters();
  private readonly timers: TimerHeap<Due>;
  readonly dispatcher: Dispatcher;
  readonly entities: EntityEngine;
  private seq = 0;
  private closed = false;
  private closedReason = "The task hub is closed";

  constructor(
    readonly name: string,
    private readonly store: Store,
    private readonly committer: GroupCommitter,
    private readonly options: EngineOptions,
    fresh = false,
  ) {
    this.timers = new TimerHeap<Due>((due) => this.onDue(due));
    this.dispatcher = new Dispatcher(this, options);
    this.entities = new EntityEngine({
      name, options, instances: this.instances, dispatcher: this.dispatcher,
      send: (m, change) => this.send(m, change),
      commit: (change) => this.commit(change),
      startInto: (req, change) => this.startInto(req, change),
      dropInstance: (id, change) => this.dropInstance(id, change),
      leaseFor: (token, kind) => this.leaseFor(token, kind),
      abandon: (token, kind) => this.abandon(token, kind),
      enqueueIfReady: (h, now) => this.enqueueIfReady(h, now),
      admit: () => this.admit(),
    });
    // A hub created just now starts empty: the store may still hold a deleted namesake's data
    // until the queued delete is written.
    if (!fresh) this.load();
  }

  // ---------------------------------------------------------------- start-up

  private load(): void {
    const snap = this.store.load(this.name);
    // Never back: after a failed commit, refused changes may have used seqs above the store's maximum.
    this.seq = Math.max(this.seq, snap.maxSeq);
    for (const { instance, history } of snap.instances) {
      this.instances.set(instance.instanceId, hotInstance(instance, history, true));
      this.entities.loaded(instance);
    }
    const now = Date.now();
    const stale: number[] = [];
    for (const m of snap.messages) {
      const h = this.instances.get(m.instanceId);
      if (!h || isTerminal(h.rec.status)) stale.push(m.seq);
      else this.addToInbox(h, m, now);
    }
    for (const a of snap.activities) {
      this.activities.set(a.seq, a);
      if (a.visibleAt <= now) this.activityReady.push(a.seq);
      else this.addTimer(a.visibleAt, { activitySeq: a.seq });
    }
    for (const h of this.instances.values()) this.enqueueIfReady(h, now);
    if (stale.length > 0) this.committer.commit([{ op: "deleteMessages", hub: this.name, seqs: stale }], () => {});
  }

  /** Rebuilds the hot state from the store (after a failed commit left memory ahead of disk). */
  reload(): void {
    for (const lease of [...this.dispatcher.leases.values()]) this.dispatcher.end(lease);
    this.instances.clear();
    this.inFlight.clear();
    this.activities.clear();
    this.activityLeases.clear();
    this.lostActivities.clear();
    this.orchestrationReady.clear();
    this.activityReady.clear();
    this.entities.clear();
    this.load();
    this.dispatcher.pump();
  }

  /** Stops the hub: its worker streams end with `reason`, waiters are released, later changes are refused. */
  close(reason: string): void {
    this.closed = true;
    this.closedReason = reason;
    this.timers.close();
    this.dispatcher.close(reason);
    this.waiters.close();
  }

  // ---------------------------------------------------------------- reads (durable state only)

  /** The instance as committed: a client never sees a state that a crash could take back. */
  getInstance(instanceId: string): InstanceRecord | undefined {
    const h = this.instances.get(instanceId);
    return h?.committed?.rec ?? this.store.getInstance(this.name, instanceId);
  }

  getHistory(instanceId: string): HistoryEvent[] | undefined {
    const committed = this.instances.get(instanceId)?.committed;
    if (committed) return committed.history;
    return this.store.getInstance(this.name, instanceId) ? this.store.getHistory(this.name, instanceId) : undefined;
  }

  /** The engine's own view, including changes still being committed. */
  private current(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId)?.rec ?? this.store.getInstance(this.name, instanceId);
  }

  private currentHistory(instanceId: string): HistoryEvent[] | undefined {
    const h = this.instances.get(instanceId);
    if (h) return h.history;
    return this.store.getInstance(this.name, instanceId) ? this.store.getHistory(this.name, instanceId) : undefined;
  }

  /** A page of instances; with payloads, also cut short at MAX_PAGE_PAYLOAD_BYTES. */
  queryInstances(filter: InstanceFilter, pageSize: number, token?: string, withPayloads = false) {
    const page = this.store.queryInstances(this.name, filter, pageSize, token);
    return withPayloads ? trimPageToBytes(page, MAX_PAGE_PAYLOAD_BYTES) : page;
  }

  listInstanceIds(filter: InstanceFilter, pageSize: number, after?: string) {
    return this.store.listInstanceIds(this.name, filter, pageSize, after);
  }

  /** Resolves with the record once the predicate holds, or undefined when timeoutMs passes first. */
  waitFor(instanceId: string, predicate: (r: InstanceRecord) => boolean, timeoutMs: number, cancelled?: (cb: () => void) => void): Promise<InstanceRecord | undefined> {
    const current = this.getInstance(instanceId);
    if (!current) return Promise.reject(notFound(`Orchestration instance '${instanceId}' not found`));
    if (predicate(current)) return Promise.resolve(current);
    if (this.waiters.size >= this.options.maxWaiters) {
      throw new SchedulerError("RESOURCE_EXHAUSTED", `Task hub '${this.name}' already has ${this.waiters.size} callers waiting on instances (the limit); poll with GetInstance or try again later`);
    }
    return this.waiters.wait(instanceId, predicate, Math.min(timeoutMs, this.options.maxWaitMs), cancelled).then((rec) => {
      // Released because the hub closed (deleted, recreated, shutting down), not because time ran out.
      if (!rec && this.closed) throw new SchedulerError("UNAVAILABLE", this.closedReason);
      return rec;
    });
  }

  /**
   * The hot state in a canonical form (instances by id with record, history and inbox seqs; activity
   * tasks by seq): two hubs hold the same state exactly when these are deep-equal. A hub freshly
   * loaded from the store gives what is on disk, so fault tests compare the two.
   */
  hotState(): { instances: { rec: InstanceRecord; history: HistoryEvent[]; inbox: number[] }[]; activities: ActivityRecord[] } {
    const instances = [...this.instances.values()]
      .map((h) => ({ rec: h.rec, history: h.history, inbox: h.inbox.map((m) => m.seq) }))
      .sort((a, b) => (a.rec.instanceId < b.rec.instanceId ? -1 : a.rec.instanceId > b.rec.instanceId ? 1 : 0));
    return { instances, activities: [...this.activities.values()].sort((a, b) => a.seq - b.seq) };
  }

  metrics(): HubMetrics {
    const now = Date.now();
    return hubMetrics({
      instances: this.instances, isReady: (h) => this.isReady(h, now), activities: this.activities.values(),
      activityLeases: this.activityLeases, leases: this.dispatcher.leases.values(), workers: this.dispatcher.workers.size,
    }, now);
  }

  // ---------------------------------------------------------------- client operations

  /** Starts an orchestration; resolves with its instance id once durable. */
  startInstance(req: pb.ICreateInstanceRequest): Promise<string> {
    this.admit();
    const change = new Change();
    const instanceId = this.startInto(req, change);
    return this.commit(change).then(() => instanceId);
  }

  /** Validates a start request and adds the new instance to the change; returns its id. */
  private startInto(req: pb.ICreateInstanceRequest, change: Change): string {
    const instanceId = req.instanceId ? checkInstanceId(req.instanceId) : randomUUID();
    if (!req.name) throw invalid("name (the orchestration name) must not be empty");
    checkPayload(val(req.input), "input", this.options.maxPayloadBytes);
    checkTags(req.tags);
    const existing = this.current(instanceId);
    if (existing) {
      const replaceable = req.orchestrationIdReusePolicy?.replaceableStatus ?? [];
      const allowed = replaceable.length > 0 ? replaceable.includes(existing.status) : isTerminal(existing.status);
      if (!allowed) {
        throw new SchedulerError("ALREADY_EXISTS", `An orchestration with instance id '${instanceId}' already exists and is ${statusName(existing.status)}; ` +
          (isTerminal(existing.status) ? "its status is not in the request's reuse policy" : "purge or terminate it first, or allow its status in the reuse policy"));
      }
      this.dropInstance(instanceId, change);
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
    this.createInstance(rec, start, rec.scheduledStartAt ?? now, change);
    return instanceId;
  }

  raiseEvent(instanceId: string, name: string, input: string | undefined): Promise<void> {
    if (!name) throw invalid("name (the event name) must not be empty");
    checkPayload(input, "input (the event data)", this.options.maxPayloadBytes);
    const h = this.requireLive(instanceId, "raise an event to");
    this.admit();
    const change = new Change();
    this.send({ instanceId: h.rec.instanceId, visibleAt: Date.now(), event: event(Date.now(), { eventRaised: { name, input: str(input) } }) }, change);
    return this.commit(change);
  }

  terminate(instanceId: string, reason: string | undefined, recursive: boolean): Promise<void> {
    checkPayload(reason, "output (the termination reason)", this.options.maxPayloadBytes);
    this.requireLive(instanceId, "terminate");
    const change = new Change();
    this.terminateInto(instanceId, reason, recursive, change, new Set());
    return this.commit(change);
  }

  suspend(instanceId: string, reason: string | undefined): Promise<void> {
    const h = this.requireLive(instanceId, "suspend");
    if (h.rec.status === Status.ORCHESTRATION_STATUS_SUSPENDED) return Promise.resolve();
    const change = new Change();
    this.setStatus(h, Status.ORCHESTRATION_STATUS_SUSPENDED, change);
    this.send({ instanceId, visibleAt: Date.now(), event: event(Date.now(), { executionSuspended: { input: str(reason) } }) }, change);
    return this.commit(change);
  }

  resume(instanceId: string, reason: string | undefined): Promise<void> {
    const h = this.requireLive(instanceId, "resume");
    if (h.rec.status !== Status.ORCHESTRATION_STATUS_SUSPENDED) return Promise.resolve();
    const change = new Change();
    this.setStatus(h, Status.ORCHESTRATION_STATUS_RUNNING, change);
    this.send({ instanceId, visibleAt: Date.now(), event: event(Date.now(), { executionResumed: { input: str(reason) } }) }, change);
    return this.commit(change);
  }

  rewind(instanceId: string, reason: string | undefined): Promise<void> {
    const rec = this.current(instanceId);
    if (!rec) throw notFound(`Orchestration instance '${instanceId}' not found`);
    if (rec.status !== Status.ORCHESTRATION_STATUS_FAILED) {
      throw precondition(`Orchestration instance '${instanceId}' is ${statusName(rec.status)}; only Failed instances can be rewound`);
    }
    const change = new Change();
    this.rewindInto(instanceId, reason, change);
    return this.commit(change);
  }

  restart(instanceId: string, withNewInstanceId: boolean): Promise<string> {
    const rec = this.current(instanceId);
    if (!rec) throw notFound(`Orchestration instance '${instanceId}' not found`);
    // A restart under a new id leaves the original alone, so it may still be running (as the SDKs allow).
    if (!withNewInstanceId && !isTerminal(rec.status)) {
      throw precondition(`Orchestration instance '${instanceId}' is ${statusName(rec.status)}; only a completed, failed or terminated instance can be restarted under its own id (or restart it with a new instance id)`);
    }
    const history = this.currentHistory(instanceId) ?? [];
    const started = findExecutionStarted(history);
    return this.startInstance({
      instanceId: withNewInstanceId ? randomUUID() : instanceId, name: rec.name, version: str(rec.version),
      input: str(rec.input), tags: rec.tags, parentTraceContext: started?.parentTraceContext,
    });
  }

  /** Purges terminal instances (and, when recursive, their sub-orchestrations), or an entity given as `strict`'s one id; resolves with the count. */
  purge(instanceIds: string[], recursive: boolean, strict: boolean): Promise<number> {
    const change = new Change();
    let count = 0;
    // Ids can form a cycle (a child created with its parent's id after a purge): visit each once.
    const seen = new Set<string>();
    const visit = (id: string, top: boolean) => {
      if (seen.has(id)) return;
      seen.add(id);
      // An entity is purged only by its own id (never by a filter or batch, where its status reads Running).
      if (isEntityId(id)) {
        if (top && strict) count += this.entities.purgeInto(id, change);
        return;
      }
      const rec = this.current(id);
      if (!rec) return;
      // Not finished: left alone and not counted (the SDKs report a count of 0, not an error).
      if (!isTerminal(rec.status)) return;
      const children = recursive ? this.childIds(id) : [];
      this.dropInstance(id, change);
      count++;
      for (const c of children) visit(c, false);
    };
    for (const id of instanceIds) visit(id, true);
    return this.commit(change).then(() => count);
  }

  findInstanceIds(filter: InstanceFilter, limit: number): string[] {
    return this.store.findInstanceIds(this.name, filter, limit);
  }

  // ---------------------------------------------------------------- workers

  connectWorker(worker: WorkerConnection): void {
    this.dispatcher.connect(worker);
  }

  disconnectWorker(worker: WorkerConnection): void {
    this.dispatcher.disconnect(worker);
  }

  next(lease: Lease): pb.IWorkItem | undefined {
    if (lease.kind === "orchestration") return this.nextOrchestration(lease);
    if (lease.kind === "activity") return this.nextActivity(lease);
    return this.leaseFromQueue(this.entities.ready, lease, (h, now) => this.entities.batchFor(h, lease, now));
  }

  /**
   * Takes instances off a ready queue until `take` builds a work item for one; queue entries are
   * hints, so an instance that is gone or no longer ready is skipped. The taken instance is leased.
   */
  private leaseFromQueue(queue: Fifo<string>, lease: Lease, take: (h: HotInstance, now: number) => pb.IWorkItem | undefined): pb.IWorkItem | undefined {
    const now = Date.now();
    for (;;) {
      const id = queue.shift();
      if (id === undefined) return undefined;
      const h = this.instances.get(id);
      if (!h) continue;
      h.queued = false;
      if (h.lease) continue;
      const item = take(h, now);
      if (!item) continue;
      lease.key = id;
      h.lease = lease;
      return item;
    }
  }

  private nextOrchestration(lease: Lease): pb.IWorkItem | undefined {
    return this.leaseFromQueue(this.orchestrationReady, lease, (h, now) => {
      if (h.rec.entity || !this.isReady(h, now)) return undefined;
      const newEvents: HistoryEvent[] = [orchestratorStarted(now)];
      const consumed: number[] = [];
      for (const m of h.inbox) {
        if (m.visibleAt > now || m.pending) continue;
        // A bounded episode: the rest of a flood of messages waits, in order, for the next one (a
        // new execution's start is always taken, wherever it is).
        if (consumed.length >= this.options.maxEventsPerWorkItem && !m.event.executionStarted) {
          if (h.history.length > 0 || newEvents[1]?.executionStarted) break;
          continue;
        }
        // A rewind goes alone: the SDKs expect its work item's new events to be exactly
        // [orchestratorStarted, executionRewound]; what arrived after it waits for the next one.
        if (m.event.executionRewound) {
          if (consumed.length === 0) {
            consumed.push(m.seq);
            newEvents.push(m.event);
          }
          break;
        }
        consumed.push(m.seq);
        // A new execution's ExecutionStarted goes first, whatever else arrived before it.
        if (m.event.executionStarted) newEvents.splice(1, 0, m.event);
        else newEvents.push(m.event);
      }
      this.inFlight.set(lease.token, { consumed, newEvents });
      // A long history goes by StreamInstanceHistory to a worker that can fetch it (its commit is done: the
      // instance was not leased before), instead of in one message.
      const stream = lease.worker.historyStreaming && h.history.length > this.options.historyStreamingThreshold;
      return {
        orchestratorRequest: {
          instanceId: h.rec.instanceId, executionId: str(h.rec.executionId), pastEvents: stream ? [] : h.history, newEvents, requiresHistoryStreaming: stream,
        },
      };
    });
  }

  private readonly inFlight = new Map<string, { consumed: number[]; newEvents: HistoryEvent[] }>();

  private nextActivity(lease: Lease): pb.IWorkItem | undefined {
    for (;;) {
      const seq = this.activityReady.shift();
      if (seq === undefined) return undefined;
      const a = this.activities.get(seq);
      if (!a || this.activityLeases.has(seq)) continue;
      lease.key = seq;
      this.activityLeases.set(seq, lease);
      return {
        activityRequest: {
          name: a.name, version: str(a.version), input: str(a.input), taskId: a.taskId, tags: a.tags,
          orchestrationInstance: { instanceId: a.instanceId, executionId: str(a.executionId) },
        },
      };
    }
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
      const a = this.activities.get(lease.key as number);
      const lost = a ? (this.lostActivities.get(a.seq) ?? 0) + 1 : 0;
      if (a && this.activityLeases.get(a.seq)?.token === lease.token) this.lostActivities.set(a.seq, lost);
      if (a && lost >= limit && this.activityLeases.get(a.seq)?.token === lease.token) {
        this.activityLeases.delete(a.seq);
        this.failActivity(a, { errorType: "PoisonWorkItem", errorMessage: `Activity '${a.name}' failed: ${why(lost)}`, isNonRetriable: true }).catch(() => undefined);
        return;
      }
    } else {
      const h = this.instances.get(lease.key as string);
      if (h && h.lease?.token === lease.token && ++h.lostDeliveries >= limit) {
        const n = h.lostDeliveries;
        this.inFlight.delete(lease.token);
        this.entities.forgetBatch(lease.token);
        h.lease = undefined;
        if (!h.rec.entity) {
          const change = new Change();
          this.endNow(h, { failed: { errorType: "PoisonWorkItem", errorMessage: `Orchestration '${h.rec.name}' failed: ${why(n)}`, isNonRetriable: true } }, change);
          this.commit(change).catch(() => undefined);
          return;
        }
        // An entity has no status to fail; its batch waits the longest back-off before it is tried again.
        console.error(`dts: entity '${h.rec.instanceId}': ${why(n)}; retrying after ${this.options.abandonMaxDelayMs / 1000} s`);
        h.lostDeliveries = 0;
        return this.giveBack(lease, this.options.abandonMaxDelayMs);
      }
    }
    this.giveBack(lease, 0);
  }

  private giveBack(lease: Lease, delayMs: number): void {
    if (lease.kind !== "activity") {
      this.inFlight.delete(lease.token);
      this.entities.forgetBatch(lease.token);
      const h = this.instances.get(lease.key as string);
      if (!h || h.lease?.token !== lease.token) return;
      h.lease = undefined;
      if (delayMs > 0) {
        h.notBefore = Date.now() + delayMs;
        this.timers.add(h.notBefore, { instanceId: h.rec.instanceId });
      } else {
        this.enqueueIfReady(h, Date.now());
      }
    } else {
      const seq = lease.key as number;
      if (this.activityLeases.get(seq)?.token !== lease.token) return;
      this.activityLeases.delete(seq);
      if (!this.activities.has(seq)) return;
      if (delayMs > 0) this.timers.add(Date.now() + delayMs, { activitySeq: seq });
      else this.activityReady.unshift(seq);
    }
  }

  private leaseFor(token: string | null | undefined, kind: WorkKind): Lease {
    const lease = this.dispatcher.lease(token, kind);
    if (!lease) {
      throw notFound(`The ${kind} work item's completion token is unknown or expired (its lock timed out, its stream closed, or it was already completed); the result was not applied`);
    }
    return lease;
  }

  /** A portable SDK's episode result: the worker's actions, turned into events here by core/. */
  completeOrchestration(res: pb.IOrchestratorResponse): Promise<void> {
    return this.completeEpisode(res.completionToken, res.instanceId, (h, dispatched, now) => applyEpisode({
      instance: h.rec, history: h.history, dispatched, actions: res.actions ?? [], customStatus: val(res.customStatus), now, newExecutionId,
    }));
  }

  /** A Functions host's episode result (BackendService), already turned into events on its side. */
  completePrecomputed(req: PrecomputedRequest): Promise<void> {
    return this.completeEpisode(req.completionToken, req.instance?.instanceId, (h, _dispatched, now) => requestToOutcome({ instance: h.rec, history: h.history, request: req, now }));
  }

  /** One commit path for every episode, whoever turned its actions into events. */
  private completeEpisode(token: string | null | undefined, instanceId: string | null | undefined, compute: (h: HotInstance, dispatched: HistoryEvent[], now: number) => EpisodeOutcome): Promise<void> {
    const lease = this.leaseFor(token, "orchestration");
    const h = this.instances.get(lease.key as string);
    const dispatched = this.inFlight.get(lease.token);
    if (!h || !dispatched) {
      this.dispatcher.end(lease);
      throw notFound(`Orchestration instance '${lease.key}' no longer exists`);
    }
    if (instanceId && instanceId !== h.rec.instanceId) {
      throw invalid(`instanceId '${instanceId}' does not match the work item's instance '${h.rec.instanceId}'`);
    }
    const now = Date.now();
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
      outcome = fail({ errorType: err instanceof ActionError ? "InvalidAction" : "PayloadTooLarge", errorMessage: err.message });
    }
    const length = outcome.replaceHistory ? outcome.replaceHistory.length : h.history.length + outcome.append.length;
    if (length > this.options.maxHistoryEvents && !isTerminal(outcome.instance.status)) {
      outcome = fail({
        errorType: "HistoryTooLarge", isNonRetriable: true,
        errorMessage: `The history of orchestration '${h.rec.instanceId}' would have ${length} events; the limit is ${this.options.maxHistoryEvents} (--max-history-events). Use continue-as-new to keep an eternal or very long orchestration's history short`,
      });
    }
    lease.completing = true;
    const change = new Change();
    change.consume(this.name, h, dispatched.consumed);
    this.applyOutcome(h, outcome, change);
    h.abandonCount = 0;
    h.lostDeliveries = 0;
    change.after.push(() => {
      this.inFlight.delete(lease.token);
      this.dispatcher.end(lease);
      if (h.lease?.token === lease.token) h.lease = undefined;
      this.enqueueIfReady(h, Date.now());
      this.evictIfDone(h);
    });
    return this.commit(change);
  }

  /** BackendService's activity completion: the TaskCompleted or TaskFailed event the host built. */
  completeActivityEvent(token: string | null | undefined, e: HistoryEvent | null | undefined): Promise<void> {
    if (!e?.taskCompleted && !e?.taskFailed) throw invalid("responseEvent must be a TaskCompleted or TaskFailed event");
    return this.completeActivity({ completionToken: token, result: e.taskCompleted?.result, failureDetails: e.taskFailed?.failureDetails });
  }

  completeActivity(res: pb.IActivityResponse): Promise<void> {
    const lease = this.leaseFor(res.completionToken, "activity");
    const a = this.activities.get(lease.key as number);
    if (!a) {
      this.dispatcher.end(lease);
      throw notFound("The activity's orchestration no longer exists");
    }
    lease.completing = true;
    const now = Date.now();
    let e: HistoryEvent;
    const result = val(res.result);
    if (res.failureDetails) {
      e = event(now, { taskFailed: { taskScheduledId: a.taskId, failureDetails: res.failureDetails } });
    } else if (payloadBytes(result) > this.options.maxPayloadBytes) {
      e = event(now, {
        taskFailed: {
          taskScheduledId: a.taskId,
          failureDetails: { errorType: "PayloadTooLarge", errorMessage: `The result of activity '${a.name}' is ${payloadBytes(result)} bytes; the limit is ${this.options.maxPayloadBytes} bytes`, isNonRetriable: true },
        },
      });
    } else {
      e = event(now, { taskCompleted: { taskScheduledId: a.taskId, result: res.result } });
    }
    return this.activityDone(a, e, () => {
      this.activityLeases.delete(a.seq);
      this.dispatcher.end(lease);
    });
  }

  /** An activity that will never complete is failed, so its orchestration can handle it. */
  private failActivity(a: ActivityRecord, failureDetails: FailureDetails): Promise<void> {
    return this.activityDone(a, event(Date.now(), { taskFailed: { taskScheduledId: a.taskId, failureDetails } }));
  }

  /** The activity's task leaves the hub and its result event goes to the orchestration, in one change. */
  private activityDone(a: ActivityRecord, e: HistoryEvent, after?: () => void): Promise<void> {
    const change = new Change();
    change.ops.push({ op: "deleteActivity", hub: this.name, seq: a.seq });
    this.activities.delete(a.seq);
    this.lostActivities.delete(a.seq);
    this.send({ instanceId: a.instanceId, executionId: a.executionId, visibleAt: Date.now(), event: e }, change);
    if (after) change.after.push(after);
    return this.commit(change);
  }

  /** A worker gave a work item back: dispatch it again after a delay that grows with each give-back. */
  abandon(token: string | null | undefined, kind: WorkKind): void {
    const lease = this.leaseFor(token, kind);
    this.dispatcher.end(lease);
    let count: number;
    if (kind !== "activity") {
      const h = this.instances.get(lease.key as string);
      count = h ? ++h.abandonCount : 1;
    } else {
      const a = this.activities.get(lease.key as number);
      count = a ? (a.abandonCount = (a.abandonCount ?? 0) + 1) : 1;
    }
    const delay = Math.min(this.options.abandonBaseDelayMs * 2 ** (count - 1), this.options.abandonMaxDelayMs);
    this.giveBack(lease, delay);
    this.dispatcher.pump();
  }

  /** A worker hands an item back to be dispatched again at once (Release*WorkItem). */
  release(token: string | null | undefined, kind: WorkKind): void {
    const lease = this.leaseFor(token, kind);
    this.dispatcher.end(lease);
    this.giveBack(lease, 0);
    this.dispatcher.pump();
  }

  /** Terminates instances at once, without their workers' graceful handling; returns the ids it could not terminate. */
  forceTerminate(instanceIds: string[], reason: string | undefined): Promise<string[]> {
    const change = new Change();
    const missed: string[] = [];
    for (const id of instanceIds) {
      const h = this.instances.get(id);
      if (!h || h.rec.entity || isTerminal(h.rec.status)) missed.push(id);
      else this.terminateNow(h, reason, change);
    }
    return this.commit(change).then(() => missed);
  }

  /**
   * Delivers an event a Functions host raised for an instance (AddEvent): raised events, suspend,
   * resume, terminate and entity signals go through the same checks as the sidecar's RPCs.
   */
  addEvent(instanceId: string, e: HistoryEvent): Promise<void> {
    if (e.eventRaised) return this.raiseEvent(instanceId, e.eventRaised.name ?? "", val(e.eventRaised.input));
    if (e.executionTerminated) return this.terminate(instanceId, val(e.executionTerminated.input), !!e.executionTerminated.recurse);
    if (e.executionSuspended) return this.suspend(instanceId, val(e.executionSuspended.input));
    if (e.executionResumed) return this.resume(instanceId, val(e.executionResumed.input));
    if (e.entityOperationSignaled) {
      const s = e.entityOperationSignaled;
      return this.entities.signal({ instanceId, name: s.operation, input: s.input, requestId: s.requestId, scheduledTime: s.scheduledTime });
    }
    throw invalid(`AddEvent supports EventRaised, ExecutionTerminated, ExecutionSuspended, ExecutionResumed and EntityOperationSignaled events`);
  }

  // ---------------------------------------------------------------- internals

  private applyOutcome(h: HotInstance, outcome: EpisodeOutcome, change: Change): void {
    const hub = this.name;
    const id = h.rec.instanceId;
    const wasExecution = h.rec.executionId;
    h.rec = outcome.instance;
    change.ops.push({ op: "putInstance", hub, instance: h.rec });
    if (outcome.replaceHistory) {
      h.history = outcome.replaceHistory;
      change.ops.push({ op: "replaceHistory", hub, instanceId: id, events: h.history });
    } else if (outcome.append.length > 0) {
      change.ops.push({ op: "appendHistory", hub, instanceId: id, from: h.history.length, events: outcome.append });
      h.history = h.history.concat(outcome.append);
    }
    // A new execution id means continue-as-new, unless a rewind gave it (the same execution goes on).
    const continued = h.rec.executionId !== wasExecution && !h.rec.rewoundExecutionIds?.includes(wasExecution);
    if (continued) {
      // Continue-as-new: only messages for no particular execution (raised events) carry over.
      const dropped = h.inbox.filter((m) => m.executionId !== undefined);
      if (dropped.length > 0) change.ops.push({ op: "deleteMessages", hub, seqs: dropped.map((m) => m.seq) });
      h.inbox = h.inbox.filter((m) => m.executionId === undefined);
      this.dropActivitiesOf(id, change);
    }
    const now = Date.now();
    // A rewind issues again the work its execution still waits for; what is still running, or whose
    // result already waits in the inbox, is not doubled.
    const rewind = !!outcome.replaceHistory?.length;
    const running = rewind ? new Set(this.activities.ofInstance(id).map((a) => a.taskId)) : undefined;
    const ticking = rewind ? new Set<number | null | undefined>() : undefined;
    if (running && ticking) {
      for (const { event: e } of h.inbox) {
        const result = e.taskCompleted ?? e.taskFailed;
        if (result) running.add(result.taskScheduledId ?? 0);
        if (e.timerFired) ticking.add(e.timerFired.timerId);
      }
    }
    for (const a of outcome.activities) {
      if (running?.has(a.taskId)) continue;
      const rec: ActivityRecord = { ...a, seq: ++this.seq };
      this.activities.set(rec.seq, rec);
      change.ops.push({ op: "putActivity", hub, activity: rec });
      change.activities.push(rec.seq);
    }
    for (const child of outcome.children) {
      const existing = this.current(child.instance.instanceId);
      if (existing && !isTerminal(existing.status)) {
        this.send({
          instanceId: id, executionId: h.rec.executionId, visibleAt: now,
          event: event(now, { subOrchestrationInstanceFailed: { taskScheduledId: child.parentTaskId, failureDetails: { errorType: "InstanceExists", errorMessage: `An orchestration with instance id '${child.instance.instanceId}' is already ${statusName(existing.status)}` } } }),
        }, change);
        continue;
      }
      if (existing) this.dropInstance(child.instance.instanceId, change);
      this.createInstance(child.instance, child.start, now, change);
    }
    for (const m of outcome.messages) {
      if (m.instanceId === id && m.event.timerFired && ticking?.has(m.event.timerFired.timerId)) continue;
      this.send(m, change);
    }
    for (const t of outcome.terminations) {
      if (this.instances.has(t.instanceId)) this.terminateInto(t.instanceId, t.reason, t.recurse, change, new Set());
    }
    for (const c of outcome.rewindChildren) {
      const rec = this.current(c.instanceId);
      if (!rec) {
        const childRec: InstanceRecord = {
          instanceId: c.instanceId, executionId: newExecutionId(), name: c.created.name ?? "", version: val(c.created.version),
          status: Status.ORCHESTRATION_STATUS_PENDING, input: val(c.created.input), createdAt: now, lastUpdatedAt: now, parentInstanceId: id, tags: nonEmpty(c.created.tags),
        };
        this.createInstance(childRec, executionStarted(now, {
          name: c.created.name, version: c.created.version, input: c.created.input, tags: c.created.tags,
          orchestrationInstance: { instanceId: c.instanceId, executionId: str(childRec.executionId) },
          parentInstance: { taskScheduledId: c.taskId, name: str(h.rec.name), orchestrationInstance: { instanceId: id, executionId: str(h.rec.executionId) } },
        }), now, change);
      } else if (rec.status === Status.ORCHESTRATION_STATUS_FAILED) {
        this.rewindInto(c.instanceId, "Rewound with its parent", change, h.rec.executionId);
      } else if (isTerminal(rec.status)) {
        this.resendChildResult(h, rec, change, now);
      }
      // A child still running reports to an execution id the parent had before the rewind; send() accepts it.
    }
    if (outcome.parentNotification) this.send(outcome.parentNotification, change);
    if (isTerminal(h.rec.status)) this.finish(h, change);
    if (isTerminal(h.rec.status) || continued) this.entities.releaseLocksOf(id, change);
    change.wake.add(id);
    change.notify.add(id);
  }

  /**
   * A child that finished while its parent was Failed had its result dropped; the rewound parent
   * waits for it, so it is sent again (unless it is already in the parent's inbox).
   */
  private resendChildResult(parent: HotInstance, child: InstanceRecord, change: Change, now: number): void {
    const started = findExecutionStarted(this.currentHistory(child.instanceId) ?? []);
    const link = started?.parentInstance;
    if (link?.orchestrationInstance?.instanceId !== parent.rec.instanceId) return; // the id now names another instance
    const taskId = link.taskScheduledId ?? 0;
    const result = (e: HistoryEvent) => (e.subOrchestrationInstanceCompleted ?? e.subOrchestrationInstanceFailed)?.taskScheduledId === taskId;
    if (parent.inbox.some((m) => result(m.event))) return;
    const note = parentNotification(child, started, now);
    if (note) this.send({ ...note, executionId: parent.rec.executionId }, change);
  }

  /** An execution ended: its queued work and messages go. */
  private finish(h: HotInstance, change: Change): void {
    if (h.inbox.length > 0) change.ops.push({ op: "deleteMessages", hub: this.name, seqs: h.inbox.map((m) => m.seq) });
    h.inbox = [];
    this.dropActivitiesOf(h.rec.instanceId, change);
  }

  private dropActivitiesOf(instanceId: string, change: Change): void {
    for (const a of this.activities.ofInstance(instanceId)) {
      if (!this.activityLeases.has(a.seq)) {
        this.activities.delete(a.seq);
        this.lostActivities.delete(a.seq);
        change.ops.push({ op: "deleteActivity", hub: this.name, seq: a.seq });
      }
    }
  }

  private createInstance(rec: InstanceRecord, start: HistoryEvent, visibleAt: number, change: Change): void {
    const h = hotInstance(rec);
    this.instances.set(rec.instanceId, h);
    change.ops.push({ op: "putInstance", hub: this.name, instance: rec });
    this.send({ instanceId: rec.instanceId, executionId: rec.executionId, visibleAt, event: start }, change);
    change.notify.add(rec.instanceId);
  }

  /** Removes an instance from memory and store (purge, or replacement by a new one with its id). */
  private dropInstance(instanceId: string, change: Change): void {
    const h = this.instances.get(instanceId);
    if (h) {
      if (h.lease) {
        this.inFlight.delete(h.lease.token);
        this.dispatcher.end(h.lease);
      }
      this.dropActivitiesOf(instanceId, change);
      this.instances.delete(instanceId);
    }
    this.entities.releaseLocksOf(instanceId, change);
    change.ops.push({ op: "deleteInstance", hub: this.name, instanceId });
  }

  private terminateInto(instanceId: string, reason: string | undefined, recursive: boolean, change: Change, seen: Set<string>): void {
    if (seen.has(instanceId)) return; // a cycle of sub-orchestration ids
    seen.add(instanceId);
    const h = this.instances.get(instanceId);
    if (!h || isTerminal(h.rec.status)) return;
    const now = Date.now();
    if (h.history.length === 0 && !h.lease) {
      // Never started (e.g. a scheduled start still in the future): no worker needs to see it.
      this.terminateNow(h, reason, change);
      return;
    }
    this.send({ instanceId, visibleAt: now, event: event(now, { executionTerminated: { input: str(reason), recurse: recursive } }) }, change);
    if (recursive) {
      for (const c of unfinishedSubOrchestrations(h.history)) {
        if (c.created.instanceId) this.terminateInto(c.created.instanceId, reason, true, change, seen);
      }
    }
  }

  /** Ends an execution as Terminated without asking its worker; an in-flight work item's completion is then refused. */
  private terminateNow(h: HotInstance, reason: string | undefined, change: Change): void {
    this.endNow(h, { terminated: reason }, change);
  }

  /** Ends an execution without a worker: Terminated with a reason, or Failed with failure details. */
  private endNow(h: HotInstance, end: { terminated: string | undefined } | { failed: FailureDetails }, change: Change): void {
    const now = Date.now();
    if (h.lease) {
      this.inFlight.delete(h.lease.token);
      this.dispatcher.end(h.lease);
      h.lease = undefined;
    }
    const rec: InstanceRecord = "failed" in end
      ? { ...h.rec, status: Status.ORCHESTRATION_STATUS_FAILED, failureDetails: end.failed, completedAt: now, lastUpdatedAt: now }
      : { ...h.rec, status: Status.ORCHESTRATION_STATUS_TERMINATED, output: end.terminated, completedAt: now, lastUpdatedAt: now };
    const started = findExecutionStarted(h.history, h.inbox.map((m) => m.event));
    h.rec = rec;
    change.ops.push({ op: "putInstance", hub: this.name, instance: rec });
    if (h.history.length > 0) {
      const ended = "failed" in end
        ? [event(now, { executionCompleted: { orchestrationStatus: rec.status, failureDetails: end.failed } })]
        : [event(now, { executionTerminated: { input: str(end.terminated) } }), event(now, { executionCompleted: { orchestrationStatus: rec.status, result: str(end.terminated) } })];
      change.ops.push({ op: "appendHistory", hub: this.name, instanceId: rec.instanceId, from: h.history.length, events: ended });
      h.history = h.history.concat(ended);
    }
    this.finish(h, change);
    this.entities.releaseLocksOf(rec.instanceId, change);
    const note = parentNotification(rec, started, now);
    if (note) this.send(note, change);
    change.notify.add(rec.instanceId);
    change.after.push(() => this.evictIfDone(h));
  }

  /** parentExecutionId: a rewound parent's execution, which the SDK writes into the child's rewritten ExecutionStarted. */
  private rewindInto(instanceId: string, reason: string | undefined, change: Change, parentExecutionId?: string): void {
    let h = this.instances.get(instanceId);
    if (!h) {
      const rec = this.store.getInstance(this.name, instanceId);
      if (!rec) return;
      h = hotInstance(rec, this.store.getHistory(this.name, instanceId), true);
      this.instances.set(instanceId, h);
    }
    this.setStatus(h, Status.ORCHESTRATION_STATUS_RUNNING, change, { completedAt: undefined });
    this.send({ instanceId, visibleAt: Date.now(), event: event(Date.now(), { executionRewound: { reason: str(reason), parentExecutionId: str(parentExecutionId) } }) }, change);
  }

  private setStatus(h: HotInstance, status: Status, change: Change, extra: Partial<InstanceRecord> = {}): void {
    h.rec = { ...h.rec, ...extra, status, lastUpdatedAt: Date.now() };
    change.ops.push({ op: "putInstance", hub: this.name, instance: h.rec });
    change.notify.add(h.rec.instanceId);
  }

  /** Delivers a message to a live instance's inbox; messages to unknown or finished instances are dropped. */
  private send(m: NewMessage, change: Change): void {
    const h = this.instances.get(m.instanceId) ?? (isEntityId(m.instanceId) ? this.entities.create(m.instanceId, change) : undefined);
    if (!h || isTerminal(h.rec.status)) return;
    if (m.executionId && m.executionId !== h.rec.executionId && !h.rec.rewoundExecutionIds?.includes(m.executionId)) return;
    const rec: InboxMessage = { ...m, seq: ++this.seq, pending: true };
    change.ops.push({ op: "putMessage", hub: this.name, message: rec });
    change.sent.push(rec);
    this.addToInbox(h, rec, Date.now());
    change.wake.add(m.instanceId);
  }

  private addToInbox(h: HotInstance, m: InboxMessage, now: number): void {
    h.inbox.push(m);
    if (m.visibleAt > now) this.addTimer(m.visibleAt, { instanceId: h.rec.instanceId });
  }

  /**
   * Due-time entries are hints and stay in the heap until they fire, even when what they were for is
   * gone; when they outnumber what is alive, the stale ones are dropped so the heap stays bounded.
   */
  private addTimer(at: number, due: Due): void {
    this.timers.add(at, due);
    if (this.timers.size > 2 * (this.instances.size + this.activities.size) + 1024) {
      this.timers.compact((d) => ("instanceId" in d ? this.instances.has(d.instanceId) : this.activities.has(d.activitySeq)));
    }
  }

  private requireLive(instanceId: string, verb: string): HotInstance {
    const h = this.instances.get(instanceId);
    if (h && !isTerminal(h.rec.status)) return h;
    const rec = h?.rec ?? this.store.getInstance(this.name, instanceId);
    if (!rec) throw notFound(`Orchestration instance '${instanceId}' not found`);
    throw precondition(`Cannot ${verb} orchestration instance '${instanceId}': it is already ${statusName(rec.status)}`);
  }

  private childIds(instanceId: string): string[] {
    return createdSubOrchestrationIds(this.currentHistory(instanceId) ?? []);
  }

  private isReady(h: HotInstance, now: number): boolean {
    if (h.lease || isTerminal(h.rec.status) || h.notBefore > now) return false;
    if (h.rec.entity) return this.entities.step(h, now)?.kind === "batch";
    if (h.rec.runRequested && h.history.length > 0) return true;
    for (const m of h.inbox) {
      if (m.visibleAt > now || m.pending) continue;
      if (h.history.length > 0 || m.event.executionStarted) return true;
    }
    return false;
  }

  private enqueueIfReady(h: HotInstance, now: number): void {
    if (h.rec.entity && !h.lease) this.entities.runControl(h, now);
    if (!h.queued && this.isReady(h, now)) {
      h.queued = true;
      (h.rec.entity ? this.entities.ready : this.orchestrationReady).push(h.rec.instanceId);
    }
  }

  private evictIfDone(h: HotInstance): void {
    // Finished instances leave memory once durable; reads then go to the store.
    if (isTerminal(h.rec.status) && !h.lease && this.instances.get(h.rec.instanceId) === h) this.instances.delete(h.rec.instanceId);
  }

  private onDue(due: Due[]): void {
    const now = Date.now();
    for (const d of due) {
      if ("instanceId" in d) {
        const h = this.instances.get(d.instanceId);
        if (h) this.enqueueIfReady(h, now);
      } else if (this.activities.has(d.activitySeq) && !this.activityLeases.has(d.activitySeq)) {
        this.activityReady.push(d.activitySeq);
      }
    }
    this.dispatcher.pump();
  }

  private commit(change: Change): Promise<void> {
    if (this.closed) return Promise.reject(new SchedulerError("UNAVAILABLE", this.closedReason));
    this.entities.settle(change);
    const durable = this.committedAfter(change);
    return new Promise((resolve, reject) => {
      this.committer.commit(change.ops, () => {
        if (this.closed) return resolve();
        // Durable now: clients may read it, and its messages may be dispatched.
        for (const m of change.sent) m.pending = false;
        for (const [h, committed] of durable) if (this.instances.get(h.rec.instanceId) === h) h.committed = committed;
        const now = Date.now();
        for (const f of change.after) f();
        for (const seq of change.activities) {
          const a = this.activities.get(seq);
          if (!a) continue;
          if (a.visibleAt <= now) this.activityReady.push(seq);
          else this.addTimer(a.visibleAt, { activitySeq: seq });
        }
        for (const id of change.wake) {
          const h = this.instances.get(id);
          if (h) this.enqueueIfReady(h, now);
        }
        for (const id of change.notify) this.notify(id);
        this.dispatcher.pump();
        resolve();
      }, (err) => reject(err instanceof SchedulerError ? err : notStored(err)));
    });
  }

  /** What each instance the change writes will look like on disk once it is committed (changes commit in order). */
  private committedAfter(change: Change): Map<HotInstance, { rec: InstanceRecord; history: HistoryEvent[] }> {
    const out = new Map<HotInstance, { rec: InstanceRecord; history: HistoryEvent[] }>();
    for (const op of change.ops) {
      const id = op.op === "putInstance" ? op.instance.instanceId : op.op === "appendHistory" || op.op === "replaceHistory" ? op.instanceId : undefined;
      const h = id === undefined ? undefined : this.instances.get(id);
      if (h) out.set(h, { rec: h.rec, history: h.history });
    }
    return out;
  }

  /** Client requests that add work are refused while the store is far behind, rather than queueing without bound. */
  private admit(): void {
    const backlog = this.committer.backlog;
    if (backlog >= this.options.maxCommitBacklog) {
      throw new SchedulerError("RESOURCE_EXHAUSTED", `The scheduler's store is ${backlog} changes behind; try again shortly`);
    }
  }

  private notify(instanceId: string): void {
    if (this.waiters.has(instanceId)) this.waiters.notify(instanceId, this.getInstance(instanceId));
  }
}
