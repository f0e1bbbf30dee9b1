// The live engine of one task hub, put together: the hub state (hub-state.ts) at the bottom; the
// work feed, the commit of an operation and the instance transitions on it; client operations,
// work-item completions and reads on top. Each layer uses only those below it. This class wires
// them and holds no logic of its own beyond start-up; callers see four narrow faces: `clients`
// (one operation, one commit), `reads`, `completions` and `entities`, plus the worker streams.
import { pb } from "../proto";
import { EntityQuery } from "../core/entities";
import { RetentionPolicy } from "../core/retention";
import { EngineStore, HubSnapshot, isAsyncStore } from "../store/store";
import { ClientOperations } from "./client-operations";
import { WorkItemCompletions } from "./completions";
import { Dispatcher, DispatchSource, Lease, WorkKind } from "./dispatcher";
import { GroupCommitter } from "./group-commit";
import { HubCommit } from "./hub-commit";
import { HubReads } from "./hub-reads";
import { HubSchedules } from "./hub-schedules";
import { Due, HubState } from "./hub-state";
import { InstanceWaiters } from "./instance-waiters";
import { InstanceLifecycle } from "./lifecycle";
import { EngineOptions } from "./options";
import { WorkerConnection } from "./worker";
import { WorkFeed } from "./work-feed";
import { PartitionLink } from "./partition-link";
import { PartitionInbox } from "./partition-inbox-reader";

/** What clients may ask of a hub: each call is one operation, one commit. */
export type HubClients = Pick<ClientOperations,
  "startInstance" | "raiseEvent" | "terminate" | "suspend" | "resume" | "rewind" | "restart" | "restartRequest" | "purge" | "purgeable" | "forceTerminate" | "addEvent" | "importInstances">;
/** What clients may read: committed state, store pages, waits, metrics. */
export type HubReadApi = Pick<HubReads,
  "getInstance" | "getHistory" | "queryInstances" | "listInstanceIds" | "findInstanceIds" | "listInstances" | "countByStatus" | "waitFor" | "hotState" | "metrics" | "work" | "workers">;
/** A hub's schedules: each change is one commit; reads see what is committed. */
export type HubScheduleApi = Pick<HubSchedules, "create" | "list" | "get" | "pause" | "resume" | "delete">;
/** What workers complete or give back (entities complete through `entities`). */
export type HubCompletions = Pick<WorkItemCompletions, "orchestration" | "precomputedOrchestration" | "activity" | "activityEvent" | "abandon" | "release">;

export class TaskHub implements DispatchSource {
  readonly dispatcher: Dispatcher;
  private readonly state: HubState;
  private readonly feed: WorkFeed;
  private readonly waiters = new InstanceWaiters();
  private readonly hubCommit: HubCommit;
  private readonly operations: ClientOperations;
  private readonly workItems: WorkItemCompletions;
  private readonly hubReads: HubReads;
  private readonly hubSchedules: HubSchedules;
  /** Messages from the hub's other partitions (none with one partition). */
  private readonly inbox?: PartitionInbox;

  readonly clients: HubClients;
  readonly reads: HubReadApi;
  readonly completions: HubCompletions;
  readonly schedules: HubScheduleApi;

  /** The hub's own retention policy (the scheduler's retention purger applies it). */
  readonly retention: {
    get(): RetentionPolicy | undefined;
    set(policy: RetentionPolicy | undefined): Promise<void>;
  };

  /** The entity side as the gRPC services see it. */
  readonly entities: {
    signal(req: pb.ISignalEntityRequest): Promise<void>;
    get(instanceId: string): ReturnType<HubReads["entity"]>;
    query(q: EntityQuery): ReturnType<HubReads["entities"]>;
    clean(removeEmpty: boolean, releaseOrphanedLocks: boolean): Promise<{ removed: number; released: number }>;
    complete(result: pb.IEntityBatchResult): Promise<void>;
    completePrecomputed(req: pb.durabletask.protos.backend.v1.ICompleteEntityWorkItemRequest): Promise<void>;
  };

  /** Rebuilding from the store (after a failed commit): calls are refused until it is done. */
  private loads = 0;
  loading = false;

  /**
   * `snapshot`: what the store holds for it; none for a hub created just now. `link`: the partition
   * of the hub this engine is (by default the whole hub, one partition).
   */
  constructor(readonly name: string, private readonly store: EngineStore, private readonly committer: GroupCommitter, options: EngineOptions, snapshot?: HubSnapshot, readonly link = new PartitionLink()) {
    this.dispatcher = new Dispatcher(this, options, name, link.single ? undefined : link.part);
    this.state = new HubState(name, store, this.dispatcher, (due) => this.onDue(due), link);
    this.feed = new WorkFeed(this.state, options);
    this.hubCommit = new HubCommit(this.state, this.feed, this.dispatcher, this.waiters, committer, options);
    const lifecycle = new InstanceLifecycle(this.state, options);
    this.operations = this.clients = new ClientOperations(this.state, lifecycle, this.hubCommit, options);
    this.workItems = this.completions = new WorkItemCompletions(this.state, lifecycle, this.feed, this.hubCommit, this.dispatcher, options);
    this.hubSchedules = this.schedules = new HubSchedules(this.state, lifecycle, this.hubCommit, options);
    this.hubReads = this.reads = new HubReads(this.state, store, this.feed, this.dispatcher, this.waiters, options, () => this.hubCommit.closed);
    this.retention = {
      get: () => this.state.retention && { ...this.state.retention },
      set: (policy) => this.operations.setRetention(policy),
    };
    this.entities = {
      signal: (req) => this.operations.signal(req),
      get: (id) => this.hubReads.entity(id),
      query: (q) => this.hubReads.entities(q),
      clean: (removeEmpty, releaseOrphanedLocks) => this.operations.cleanEntities(removeEmpty, releaseOrphanedLocks),
      complete: (result) => this.workItems.entity(result),
      completePrecomputed: (req) => this.workItems.precomputedEntity(req),
    };
    if (!link.single) this.inbox = new PartitionInbox(this.state, lifecycle, store, this.hubCommit, () => this.loading);
    // A hub created just now starts empty: the store may still hold a deleted namesake's data
    // until the queued delete is written.
    if (snapshot) this.load(snapshot, true);
  }

  // ---------------------------------------------------------------- start-up and shut-down

  /** startup: the scheduler has just started (schedules catch up on what they missed while it was down). */
  private load(snapshot: HubSnapshot, startup: boolean): void {
    // A hub's schedules run in its partition 0; they start occurrences of other partitions there.
    if (this.link.part !== 0) snapshot = { ...snapshot, schedules: [] };
    const now = Date.now();
    const { stale, readyActivities } = this.state.load(snapshot, now);
    for (const seq of readyActivities) this.feed.queueActivity(seq, now);
    for (const h of this.state.all()) this.hubCommit.wake(h, now);
    this.hubSchedules.start(now, startup);
    if (stale.length > 0) this.committer.commit([{ op: "deleteMessages", hub: this.name, seqs: stale }], () => {});
    this.inbox?.pull();
  }

  /** Applies what other partitions sent this one (they tell it after their commits; a timer polls too). */
  pullInbox(): void {
    this.inbox?.pull();
  }

  /**
   * Rebuilds the hot state from the store (after a failed commit left memory ahead of disk). From a
   * store that answers through promises, the hub is `loading` (its calls refused) until it resolves.
   */
  reload(): Promise<void> | void {
    for (const lease of [...this.dispatcher.leases.values()]) this.dispatcher.end(lease);
    this.state.clear();
    this.feed.clear();
    const part = this.link.single ? undefined : this.link.part;
    if (!isAsyncStore(this.store)) return this.loaded(this.store.load(this.name, part));
    const load = ++this.loads;
    this.loading = true;
    return this.store.load(this.name, part).then((snapshot) => {
      // A later reload started meanwhile: its snapshot is the newer one.
      if (load !== this.loads || this.hubCommit.closed !== undefined) return;
      this.loading = false;
      this.loaded(snapshot);
    });
  }

  private loaded(snapshot: HubSnapshot): void {
    this.load(snapshot, false);
    this.dispatcher.pump();
  }

  /** Stops the hub: its worker streams end with `reason`, waiters are released, later changes are refused. */
  close(reason: string): void {
    this.inbox?.close();
    this.hubCommit.close(reason);
    this.state.close();
    this.dispatcher.close(reason);
    this.waiters.close();
  }

  // ---------------------------------------------------------------- workers

  connectWorker(worker: WorkerConnection): void { this.dispatcher.connect(worker); }
  /** The orchestration is in this engine's memory and not finished (a partitioned hub's entity views ask). */
  isLiveOrchestration(instanceId: string): boolean { return this.state.isLiveOrchestration(instanceId); }
  /** BeginWorkerDrain: no new work for that worker's streams. */
  drainWorker(workerId: string): boolean { return this.dispatcher.drain(workerId); }
  disconnectWorker(worker: WorkerConnection): void { this.dispatcher.disconnect(worker); }
  hasQueued(kind: WorkKind): boolean { return this.feed.hasQueued(kind); }
  next(lease: Lease): pb.IWorkItem | undefined { return this.feed.next(lease); }
  released(lease: Lease, reason: "disconnected" | "expired"): void { this.workItems.released(lease, reason); }
  filtersGone(): void { this.feed.filtersGone(); }

  private onDue(due: Due[]): void {
    const now = Date.now();
    for (const d of due) {
      if ("scheduleId" in d) {
        this.hubSchedules.due(d.scheduleId, now);
        continue;
      }
      if ("activitySeq" in d) {
        this.feed.queueActivity(d.activitySeq, now);
        continue;
      }
      const h = this.state.get(d.instanceId);
      if (h) this.hubCommit.wake(h, now);
    }
    this.dispatcher.pump();
  }
}
