// The live engine of one task hub, put together: the hub state (hub-state.ts) at the bottom; the
// work feed, the commit of an operation and the instance transitions on it; client operations,
// work-item completions and reads on top. Each layer uses only those below it. This class wires
// them and is the face the gRPC services call; it holds no logic of its own beyond start-up.
import { pb } from "../proto";
import { EntityQuery } from "../core/entities";
import { HistoryEvent, InstanceRecord, Status } from "../core/model";
import { InstanceFilter, InstanceListing, Store } from "../store/store";
import { ClientOperations } from "./client-operations";
import { WorkItemCompletions } from "./completions";
import { Dispatcher, DispatchSource, Lease, WorkKind } from "./dispatcher";
import { GroupCommitter } from "./group-commit";
import { HubCommit } from "./hub-commit";
import { HubMetrics } from "./hub-metrics";
import { HubReads } from "./hub-reads";
import { InstanceWork, WorkerView } from "./work-view";
import { Due, HubState } from "./hub-state";
import { InstanceWaiters } from "./instance-waiters";
import { InstanceLifecycle } from "./lifecycle";
import { EngineOptions } from "./options";
import { WorkerConnection } from "./worker";
import { WorkFeed } from "./work-feed";

export class TaskHub implements DispatchSource {
  readonly dispatcher: Dispatcher;
  private readonly state: HubState;
  private readonly feed: WorkFeed;
  private readonly waiters = new InstanceWaiters();
  private readonly hubCommit: HubCommit;
  private readonly clients: ClientOperations;
  private readonly completions: WorkItemCompletions;
  private readonly reads: HubReads;

  /** The entity side as the gRPC services see it. */
  readonly entities: {
    signal(req: pb.ISignalEntityRequest): Promise<void>;
    get(instanceId: string): ReturnType<HubReads["entity"]>;
    query(q: EntityQuery): ReturnType<HubReads["entities"]>;
    clean(removeEmpty: boolean, releaseOrphanedLocks: boolean): Promise<{ removed: number; released: number }>;
    complete(result: pb.IEntityBatchResult): Promise<void>;
    completePrecomputed(req: pb.durabletask.protos.backend.v1.ICompleteEntityWorkItemRequest): Promise<void>;
  };

  constructor(readonly name: string, private readonly store: Store, private readonly committer: GroupCommitter, options: EngineOptions, fresh = false) {
    this.dispatcher = new Dispatcher(this, options);
    this.state = new HubState(name, store, this.dispatcher, (due) => this.onDue(due));
    this.feed = new WorkFeed(this.state, options);
    this.hubCommit = new HubCommit(this.state, this.feed, this.dispatcher, this.waiters, committer, options);
    const lifecycle = new InstanceLifecycle(this.state, options);
    this.clients = new ClientOperations(this.state, lifecycle, this.hubCommit, options);
    this.completions = new WorkItemCompletions(this.state, lifecycle, this.feed, this.hubCommit, this.dispatcher, options);
    this.reads = new HubReads(this.state, store, this.feed, this.dispatcher, this.waiters, options, () => this.hubCommit.closed);
    this.entities = {
      signal: (req) => this.clients.signal(req),
      get: (id) => this.reads.entity(id),
      query: (q) => this.reads.entities(q),
      clean: (removeEmpty, releaseOrphanedLocks) => this.clients.cleanEntities(removeEmpty, releaseOrphanedLocks),
      complete: (result) => this.completions.entity(result),
      completePrecomputed: (req) => this.completions.precomputedEntity(req),
    };
    // A hub created just now starts empty: the store may still hold a deleted namesake's data
    // until the queued delete is written.
    if (!fresh) this.load();
  }

  // ---------------------------------------------------------------- start-up and shut-down

  private load(): void {
    const now = Date.now();
    const { stale, readyActivities } = this.state.load(this.store.load(this.name), now);
    for (const seq of readyActivities) this.feed.queueActivity(seq, now);
    for (const h of this.state.all()) this.hubCommit.wake(h, now);
    if (stale.length > 0) this.committer.commit([{ op: "deleteMessages", hub: this.name, seqs: stale }], () => {});
  }

  /** Rebuilds the hot state from the store (after a failed commit left memory ahead of disk). */
  reload(): void {
    for (const lease of [...this.dispatcher.leases.values()]) this.dispatcher.end(lease);
    this.state.clear();
    this.feed.clear();
    this.load();
    this.dispatcher.pump();
  }

  /** Stops the hub: its worker streams end with `reason`, waiters are released, later changes are refused. */
  close(reason: string): void {
    this.hubCommit.close(reason);
    this.state.close();
    this.dispatcher.close(reason);
    this.waiters.close();
  }

  // ---------------------------------------------------------------- reads

  getInstance(instanceId: string): InstanceRecord | undefined { return this.reads.getInstance(instanceId); }
  getHistory(instanceId: string): HistoryEvent[] | undefined { return this.reads.getHistory(instanceId); }
  queryInstances(filter: InstanceFilter, pageSize: number, token?: string, withPayloads = false) { return this.reads.queryInstances(filter, pageSize, token, withPayloads); }
  listInstanceIds(filter: InstanceFilter, pageSize: number, after?: string) { return this.reads.listInstanceIds(filter, pageSize, after); }
  findInstanceIds(filter: InstanceFilter, limit: number): string[] { return this.reads.findInstanceIds(filter, limit); }
  listInstances(filter: InstanceFilter, listing: InstanceListing): InstanceRecord[] { return this.reads.listInstances(filter, listing); }
  countByStatus(filter: InstanceFilter): Map<Status, number> { return this.reads.countByStatus(filter); }
  waitFor(instanceId: string, predicate: (r: InstanceRecord) => boolean, timeoutMs: number, cancelled?: (cb: () => void) => void) { return this.reads.waitFor(instanceId, predicate, timeoutMs, cancelled); }
  hotState() { return this.reads.hotState(); }
  metrics(): HubMetrics { return this.reads.metrics(); }
  work(instanceId: string): InstanceWork { return this.reads.work(instanceId); }
  workers(): WorkerView[] { return this.reads.workers(); }

  // ---------------------------------------------------------------- client operations

  startInstance(req: pb.ICreateInstanceRequest): Promise<string> { return this.clients.startInstance(req); }
  raiseEvent(instanceId: string, name: string, input: string | undefined): Promise<void> { return this.clients.raiseEvent(instanceId, name, input); }
  terminate(instanceId: string, reason: string | undefined, recursive: boolean): Promise<void> { return this.clients.terminate(instanceId, reason, recursive); }
  suspend(instanceId: string, reason: string | undefined): Promise<void> { return this.clients.suspend(instanceId, reason); }
  resume(instanceId: string, reason: string | undefined): Promise<void> { return this.clients.resume(instanceId, reason); }
  rewind(instanceId: string, reason: string | undefined): Promise<void> { return this.clients.rewind(instanceId, reason); }
  restart(instanceId: string, withNewInstanceId: boolean): Promise<string> { return this.clients.restart(instanceId, withNewInstanceId); }
  purge(instanceIds: string[], recursive: boolean, strict: boolean): Promise<number> { return this.clients.purge(instanceIds, recursive, strict); }
  forceTerminate(instanceIds: string[], reason: string | undefined): Promise<string[]> { return this.clients.forceTerminate(instanceIds, reason); }
  addEvent(instanceId: string, e: HistoryEvent): Promise<void> { return this.clients.addEvent(instanceId, e); }

  // ---------------------------------------------------------------- workers and completions

  connectWorker(worker: WorkerConnection): void { this.dispatcher.connect(worker); }
  disconnectWorker(worker: WorkerConnection): void { this.dispatcher.disconnect(worker); }
  next(lease: Lease): pb.IWorkItem | undefined { return this.feed.next(lease); }
  released(lease: Lease, reason: "disconnected" | "expired"): void { this.completions.released(lease, reason); }
  completeOrchestration(res: pb.IOrchestratorResponse): Promise<void> { return this.completions.orchestration(res); }
  completePrecomputed(req: pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest): Promise<void> { return this.completions.precomputedOrchestration(req); }
  completeActivity(res: pb.IActivityResponse): Promise<void> { return this.completions.activity(res); }
  completeActivityEvent(token: string | null | undefined, e: HistoryEvent | null | undefined): Promise<void> { return this.completions.activityEvent(token, e); }
  abandon(token: string | null | undefined, kind: WorkKind): void { this.completions.abandon(token, kind); }
  release(token: string | null | undefined, kind: WorkKind): void { this.completions.release(token, kind); }

  private onDue(due: Due[]): void {
    const now = Date.now();
    for (const d of due) {
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
