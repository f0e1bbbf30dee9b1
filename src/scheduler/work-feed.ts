// What the dispatcher hands out: ready queues of orchestrations, activity tasks and entities, and
// the work item each becomes when a worker stream has room. Queue entries are hints, checked again
// when taken; a message is dispatched once it is no longer held (hot-instance.ts).
import { pb } from "../proto";
import { entityName, entityRequest } from "../core/entities";
import { orchestratorStarted, str } from "../core/events";
import { HistoryEvent, isTerminal } from "../core/model";
import { isTaskResult, resultsDueAt } from "../core/result-batching";
import { NameFilter } from "../core/work-filters";
import { Lease, WorkKind } from "./dispatcher";
import { entityStep } from "./entity-steps";
import { endWork, HotInstance, openTasks } from "./hot-instance";
import { HubState } from "./hub-state";
import { EngineOptions } from "./options";
import { ReadyQueue } from "./ready-queue";

export class WorkFeed {
  private readonly orchestrationReady = new ReadyQueue<string>();
  private readonly entityReady = new ReadyQueue<string>();
  private readonly activityReady = new ReadyQueue<number>();

  constructor(private readonly state: HubState, private readonly options: EngineOptions) {}

  clear(): void {
    this.orchestrationReady.clear();
    this.entityReady.clear();
    this.activityReady.clear();
  }

  /** Ready to dispatch now: waiting work that a worker may see, and no work item in flight. */
  isReady(h: HotInstance, now: number): boolean {
    return this.readyAt(h, now) <= now;
  }

  /**
   * From when the instance's waiting work may run it: Infinity while nothing may (no message, a
   * work item in flight, a back-off; each of those wakes it when it ends). Task results alone may
   * hold an orchestration a little longer, for the others it waits on (core/result-batching.ts).
   */
  private readyAt(h: HotInstance, now: number): number {
    if (h.lease || isTerminal(h.rec.status) || h.notBefore > now) return Infinity;
    if (h.rec.entity) return entityStep(this.state, h, now, this.options.entityBatchSize)?.kind === "batch" ? now : Infinity;
    if (h.rec.runRequested && h.history.length > 0) return now;
    let results = 0;
    let firstResultAt = Infinity;
    for (const m of h.inbox) {
      if (m.visibleAt > now || m.held) continue;
      if (h.history.length === 0 && !m.event.executionStarted) continue;
      if (!isTaskResult(m.event)) return now;
      // A full work item's worth need not wait for more (and the scan stays bounded).
      if (++results >= this.options.maxEventsPerWorkItem) return now;
      firstResultAt = Math.min(firstResultAt, m.visibleAt);
    }
    if (results === 0) return Infinity;
    return resultsDueAt(results, firstResultAt, openTasks(h), h.lastEpisodeMs, this.options.resultBatchFactor, this.options.resultBatchMaxWaitMs);
  }

  /** A lock step waits at the head of an idle entity's queue with no operation to carry it. */
  waitsForLockStep(h: HotInstance, now: number): boolean {
    return !!h.rec.entity && !h.lease && entityStep(this.state, h, now, this.options.entityBatchSize)?.kind === "control";
  }

  enqueueIfReady(h: HotInstance, now: number): void {
    if (h.queued) return;
    const at = this.readyAt(h, now);
    if (at <= now) {
      h.queued = true;
      if (h.rec.entity) this.entityReady.push(h.rec.instanceId, entityName(h.rec.instanceId), undefined);
      else this.orchestrationReady.push(h.rec.instanceId, h.rec.name, h.rec.version);
    } else if (at !== Infinity && at !== h.heldUntil) {
      // Held for more results: woken then (one due time per deadline, however often it is checked).
      h.heldUntil = at;
      this.state.addTimer(at, { instanceId: h.rec.instanceId });
    }
  }

  /** No connected worker has a filter any more: the name indexes go. */
  filtersGone(): void {
    this.orchestrationReady.dropIndex();
    this.entityReady.dropIndex();
    this.activityReady.dropIndex();
  }

  /** An activity task to run now, or once it is visible. */
  queueActivity(seq: number, now: number): void {
    const a = this.state.activity(seq);
    if (!a || this.state.activityLeases.has(seq)) return;
    if (a.visibleAt > now) this.state.addTimer(a.visibleAt, { activitySeq: seq });
    else this.activityReady.push(seq, a.name, a.version);
  }

  /** Whether any entry of the kind is queued (taken entries excluded): with none, next() has nothing to give. */
  hasQueued(kind: WorkKind): boolean {
    const queue = kind === "orchestration" ? this.orchestrationReady : kind === "activity" ? this.activityReady : this.entityReady;
    return queue.length > 0;
  }

  /** The next ready work item of the lease's kind, leased to it; undefined when none is ready. */
  next(lease: Lease): pb.IWorkItem | undefined {
    if (lease.kind === "orchestration") return this.leaseFromQueue(this.orchestrationReady, lease, (h, now) => this.episode(h, lease, now));
    if (lease.kind === "activity") return this.nextActivity(lease);
    return this.leaseFromQueue(this.entityReady, lease, (h, now) => this.batch(h, now));
  }

  /** A work item comes back without a completion: its instance or task is dispatched again, now or after `delayMs`. */
  giveBack(lease: Lease, delayMs: number): void {
    if (lease.kind === "activity") {
      const seq = lease.key as number;
      if (this.state.activityLeases.get(seq)?.token !== lease.token) return;
      this.state.activityLeases.delete(seq);
      const a = this.state.activity(seq);
      if (!a) return;
      if (delayMs > 0) this.state.addTimer(Date.now() + delayMs, { activitySeq: seq });
      else this.activityReady.unshift(seq, a.name, a.version); // it was dispatched before: first in line again
      return;
    }
    const h = this.state.get(lease.key as string);
    if (!h || h.lease?.token !== lease.token) return;
    endWork(h);
    if (delayMs > 0) {
      h.notBefore = Date.now() + delayMs;
      this.state.addTimer(h.notBefore, { instanceId: h.rec.instanceId });
    } else {
      this.enqueueIfReady(h, Date.now());
    }
  }

  /**
   * Takes instances off a ready queue until `build` makes a work item for one; queue entries are
   * hints, so an instance that is gone or no longer ready is skipped. The taken instance is leased.
   */
  private leaseFromQueue(queue: ReadyQueue<string>, lease: Lease, build: (h: HotInstance, now: number) => pb.IWorkItem | undefined): pb.IWorkItem | undefined {
    const now = Date.now();
    for (;;) {
      const id = take(queue, lease.worker.filter?.[lease.kind]);
      if (id === undefined) return undefined;
      const h = this.state.get(id);
      if (!h) continue;
      h.queued = false;
      if (h.lease) continue;
      const item = build(h, now);
      if (!item) continue;
      lease.key = id;
      h.lease = lease;
      return item;
    }
  }

  private episode(h: HotInstance, lease: Lease, now: number): pb.IWorkItem | undefined {
    if (h.rec.entity || !this.isReady(h, now)) return undefined;
    // A long history goes by StreamInstanceHistory to a worker that can fetch it, which reads what
    // is committed: one with a commit still being written (speculative dispatch) waits for it.
    const stream = lease.worker.historyStreaming && h.history.length > this.options.historyStreamingThreshold;
    if (stream && h.committed?.history !== h.history) return undefined;
    const newEvents: HistoryEvent[] = [orchestratorStarted(now)];
    const consumed: number[] = [];
    for (const m of h.inbox) {
      if (m.visibleAt > now || m.held) continue;
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
    h.episode = { consumed, newEvents };
    return {
      orchestratorRequest: {
        instanceId: h.rec.instanceId, executionId: str(h.rec.executionId), pastEvents: stream ? [] : h.history, newEvents, requiresHistoryStreaming: stream,
      },
    };
  }

  private batch(h: HotInstance, now: number): pb.IWorkItem | undefined {
    const step = h.rec.entity ? entityStep(this.state, h, now, this.options.entityBatchSize) : undefined;
    if (step?.kind !== "batch") return undefined;
    h.batch = step.operations;
    return { entityRequestV2: entityRequest(h.rec.instanceId, h.rec.entity!, step.operations) };
  }

  private nextActivity(lease: Lease): pb.IWorkItem | undefined {
    for (;;) {
      const seq = take(this.activityReady, lease.worker.filter?.activity);
      if (seq === undefined) return undefined;
      const a = this.state.activity(seq);
      if (!a || this.state.activityLeases.has(seq)) continue;
      lease.key = seq;
      this.state.activityLeases.set(seq, lease);
      return {
        activityRequest: {
          name: a.name, version: str(a.version), input: str(a.input), taskId: a.taskId, tags: a.tags, parentTraceContext: a.parentTraceContext,
          orchestrationInstance: { instanceId: a.instanceId, executionId: str(a.executionId) },
        },
      };
    }
  }
}

/** The next entry a worker may run: the oldest, or the oldest its filter accepts. */
function take<K>(queue: ReadyQueue<K>, filter: NameFilter | undefined): K | undefined {
  return filter ? queue.shiftAccepted(filter) : queue.shift();
}
