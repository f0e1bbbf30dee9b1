// What clients read of a hub: committed instances and histories, pages from the store, entity
// views, waits for a condition, metrics, and the canonical hot state the fault tests compare.
import { SchedulerError, notFound } from "../core/errors";
import { EntityQuery, normalizeEntityId, pageEntities } from "../core/entities";
import { MAX_PAGE_PAYLOAD_BYTES } from "../core/limits";
import { ActivityRecord, EntityData, HistoryEvent, InstanceRecord, Status } from "../core/model";
import { trimPageToBytes } from "../store/query";
import { EngineStore, InstanceFilter, InstanceListing, InstancePage } from "../store/store";
import { Dispatcher } from "./dispatcher";
import { committedBacklog, HotInstance } from "./hot-instance";
import { capableWorkers, HubMetrics, hubMetrics } from "./hub-metrics";
import { HubState } from "./hub-state";
import { InstanceWaiters } from "./instance-waiters";
import { EngineOptions } from "./options";
import { WorkFeed } from "./work-feed";
import { InstanceWork, instanceWork, WorkerView, workerViews } from "./work-view";
import { WorkerConnection } from "./worker";

export type EntityView = { rec: InstanceRecord; data: EntityData; backlog: number };

export class HubReads {
  constructor(
    private readonly state: HubState,
    private readonly store: EngineStore,
    private readonly feed: WorkFeed,
    private readonly dispatcher: Dispatcher,
    private readonly waiters: InstanceWaiters,
    private readonly options: EngineOptions,
    /** Why the hub stopped, once it did. */
    private readonly closed: () => string | undefined,
  ) {}

  /** The instance as committed: a client never sees a state that a crash could take back. */
  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const hot = this.state.committedHot(instanceId);
    if (hot) return hot.rec;
    const cold = await this.state.cold.committed(instanceId);
    // It may have been committed in memory while the store was read: memory is then newer.
    return this.state.committedHot(instanceId)?.rec ?? cold;
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[] | undefined> {
    const hot = this.state.committedHot(instanceId);
    if (hot) return hot.history;
    if (!(await this.state.cold.committed(instanceId))) return this.state.committedHot(instanceId)?.history;
    const history = await this.state.cold.committedHistory(instanceId);
    return this.state.committedHot(instanceId)?.history ?? history;
  }

  /** A page of instances; with payloads, also cut short at MAX_PAGE_PAYLOAD_BYTES. */
  async queryInstances(filter: InstanceFilter, pageSize: number, token?: string, withPayloads = false): Promise<InstancePage> {
    const page = await this.store.queryInstances(this.state.name, filter, pageSize, token);
    return withPayloads ? trimPageToBytes(page, MAX_PAGE_PAYLOAD_BYTES) : page;
  }

  async listInstanceIds(filter: InstanceFilter, pageSize: number, after?: string): Promise<{ ids: string[]; last?: string }> {
    return this.store.listInstanceIds(this.state.name, filter, pageSize, after);
  }

  /** A page by position, without payloads (the dashboard's lists). */
  async listInstances(filter: InstanceFilter, listing: InstanceListing): Promise<InstanceRecord[]> {
    return this.store.listInstances(this.state.name, filter, listing);
  }

  async countByStatus(filter: InstanceFilter): Promise<Map<Status, number>> {
    return this.store.countByStatus(this.state.name, filter);
  }

  async findInstanceIds(filter: InstanceFilter, limit: number): Promise<string[]> {
    return this.store.findInstanceIds(this.state.name, filter, limit);
  }

  /** Resolves with the record once the predicate holds, or undefined when timeoutMs passes first. */
  async waitFor(instanceId: string, predicate: (r: InstanceRecord) => boolean, timeoutMs: number, cancelled?: (cb: () => void) => void): Promise<InstanceRecord | undefined> {
    let current = this.state.committedHot(instanceId)?.rec;
    if (!current) {
      const read = await this.getInstance(instanceId);
      // Memory again, in the turn that registers the waiter: no commit can slip between the two.
      current = this.state.committedHot(instanceId)?.rec ?? read;
    }
    if (!current) throw notFound(`Orchestration instance '${instanceId}' not found`);
    if (predicate(current)) return Promise.resolve(current);
    if (this.waiters.size >= this.options.maxWaiters) {
      throw new SchedulerError("RESOURCE_EXHAUSTED", `Task hub '${this.state.name}' already has ${this.waiters.size} callers waiting on instances (the limit); poll with GetInstance or try again later`);
    }
    return this.waiters.wait(instanceId, predicate, Math.min(timeoutMs, this.options.maxWaitMs), cancelled).then((rec) => {
      // Released because the hub closed (deleted, recreated, shutting down), not because time ran out.
      const closed = this.closed();
      if (!rec && closed !== undefined) throw new SchedulerError("UNAVAILABLE", closed);
      return rec;
    });
  }

  /** The entity as committed (its state after the last durable batch). */
  entity(instanceId: string): EntityView | undefined {
    const h = this.state.get(normalizeEntityId(instanceId));
    return h ? committedView(h) : undefined;
  }

  /** Entities ordered by id; `after` is the last id of the previous page. */
  entities(q: EntityQuery) {
    return pageEntities(this.hotEntities(), q);
  }

  /**
   * The hot state in a canonical form (instances by id with record, history and inbox seqs; activity
   * tasks by seq): two hubs hold the same state exactly when these are deep-equal. A hub freshly
   * loaded from the store gives what is on disk, so fault tests compare the two.
   */
  hotState(): { instances: { rec: InstanceRecord; history: HistoryEvent[]; inbox: number[] }[]; activities: ActivityRecord[] } {
    const instances = [...this.state.all()]
      .map((h) => ({ rec: h.rec, history: h.history, inbox: h.inbox.map((m) => m.seq) }))
      .sort((a, b) => (a.rec.instanceId < b.rec.instanceId ? -1 : a.rec.instanceId > b.rec.instanceId ? 1 : 0));
    return { instances, activities: [...this.state.activities()].sort((a, b) => a.seq - b.seq) };
  }

  /** What a live instance waits on (its work with a worker, queued activities, inbox); empty when it is not in memory. */
  work(instanceId: string): InstanceWork {
    return instanceWork(this.state.get(instanceId), this.state.activitiesOf(instanceId), (seq) => this.state.activityLeases.get(seq));
  }

  workers(): WorkerView[] {
    return workerViews(this.dispatcher);
  }

  metrics(): HubMetrics {
    const now = Date.now();
    return hubMetrics({
      instances: this.state.all(), hotInstances: this.state.size, isReady: (h) => this.feed.isReady(h, now), activities: this.state.activities(),
      activityLeases: this.state.activityLeases, leases: this.dispatcher.leases.values(), workers: countWorkers(this.dispatcher.workers),
      capable: capableWorkers([...this.dispatcher.workers]),
    }, now);
  }

  private *hotEntities(): Iterable<EntityView> {
    for (const h of this.state.all()) {
      const view = committedView(h);
      if (view) yield view;
    }
  }
}

/** Workers connected to this node: a stream mirrored for a worker connected to another node counts there. */
function countWorkers(workers: Iterable<WorkerConnection>): number {
  let n = 0;
  for (const w of workers) if (w.mirrorFor === undefined) n++;
  return n;
}

/** What a client may see of an entity: its committed record, and the committed messages waiting for it. */
function committedView(h: HotInstance): EntityView | undefined {
  const rec = h.committed?.rec;
  return rec?.entity ? { rec, data: rec.entity, backlog: committedBacklog(h) } : undefined;
}
