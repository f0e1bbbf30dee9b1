// A task hub split into partitions by instance id (core/partition.ts), as one node runs it: one
// engine (TaskHub) per partition it owns, over one store and one group committer, behind the same
// faces a single TaskHub shows (clients, reads, completions, entities, schedules, workers). Calls
// about one instance go to its partition; completions to the partition whose dispatcher issued the
// token; reads of committed state go to the store through any partition; metrics are summed. A
// worker stream is connected to every partition's dispatcher: its in-flight counters live on the
// stream, so its limits hold across them, and a lease ending in one partition pumps the others.
//
// A node owning only some partitions (the cluster) opens and drops partitions one by one (own,
// disown); a call for an instance of a partition held elsewhere answers UNAVAILABLE, for the
// coordinator to forward.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { SchedulerError } from "../core/errors";
import { EntityQuery, unlocked } from "../core/entities";
import { partitionOf } from "../core/partition";
import { effectivePageSize } from "../core/limits";
import { EntityData, HistoryEvent, InstanceRecord } from "../core/model";
import { EngineStore, HubSnapshot, isAsyncStore } from "../store/store";
import { GroupCommitter } from "./group-commit";
import { EngineOptions } from "./options";
import { PartitionLink } from "./partition-link";
import { TaskHub } from "./task-hub";
import { WorkerConnection } from "./worker";
import { WorkKind } from "./observer";
import { spreadClients, spreadReads } from "./partitioned-calls";

export class PartitionedHub {
  private readonly parts = new Map<number, TaskHub>();
  private readonly workers = new Set<WorkerConnection>();
  private closedReason?: string;
  /** Where the next round of pumps after freed room starts (pumpOthers). */
  private turn = 0;

  readonly clients: TaskHub["clients"];
  readonly reads: TaskHub["reads"];
  readonly completions: TaskHub["completions"];
  readonly schedules: TaskHub["schedules"];
  readonly retention: TaskHub["retention"];
  readonly entities: TaskHub["entities"];

  constructor(readonly name: string, readonly partitions: number, private readonly store: EngineStore, private readonly committer: GroupCommitter, private readonly options: EngineOptions) {
    this.clients = spreadClients(this);
    this.reads = spreadReads(this);
    const byToken = (token: string | null | undefined, instanceId?: string | null) => this.forToken(token, instanceId);
    this.completions = {
      orchestration: (res) => byToken(res.completionToken, res.instanceId).completions.orchestration(res),
      precomputedOrchestration: (req) => byToken(req.completionToken, req.instance?.instanceId).completions.precomputedOrchestration(req),
      activity: (res) => byToken(res.completionToken, res.instanceId).completions.activity(res),
      activityEvent: (token, e) => byToken(token).completions.activityEvent(token, e),
      abandon: (token, kind: WorkKind) => byToken(token).completions.abandon(token, kind),
      release: (token, kind: WorkKind) => byToken(token).completions.release(token, kind),
    };
    this.schedules = {
      create: (d) => this.home().schedules.create(d),
      list: () => this.home().schedules.list(),
      get: (id) => this.home().schedules.get(id),
      pause: (id) => this.home().schedules.pause(id),
      resume: (id) => this.home().schedules.resume(id),
      delete: (id) => this.home().schedules.delete(id),
    };
    this.retention = {
      get: () => this.any().retention.get(),
      // Each partition keeps the policy in its state; the store keeps one per hub.
      set: async (policy) => void (await Promise.all(this.owned().map((p) => p.retention.set(policy)))),
    };
    this.entities = {
      signal: (req: pb.ISignalEntityRequest) => this.route(req.instanceId ?? "").entities.signal(req),
      get: (id) => this.entityView(this.route(id).entities.get(id)),
      query: (q: EntityQuery) => {
        const page = mergeEntityPages(this.owned().map((p) => p.entities.query(q)), q);
        return { ...page, entities: page.entities.map((e) => this.entityView(e)!) };
      },
      clean: async (removeEmpty, release) => {
        const all = await Promise.all(this.owned().map((p) => p.entities.clean(removeEmpty, release)));
        return { removed: all.reduce((n, r) => n + r.removed, 0), released: all.reduce((n, r) => n + r.released, 0) };
      },
      complete: (result) => byToken(result.completionToken).entities.complete(result),
      completePrecomputed: (req) => byToken(req.completionToken).entities.completePrecomputed(req),
    };
  }

  /**
   * Every partition, from a snapshot of the whole hub (none: a hub created just now): what a single
   * node owning the whole hub runs.
   */
  static whole(name: string, partitions: number, store: EngineStore, committer: GroupCommitter, options: EngineOptions, snapshot?: HubSnapshot): PartitionedHub {
    const hub = new PartitionedHub(name, partitions, store, committer, options);
    const slices = splitSnapshot(snapshot ?? { instances: [], messages: [], activities: [], schedules: [], maxSeq: 0 }, partitions);
    slices.forEach((slice, part) => hub.ownLoaded(part, slice));
    return hub;
  }

  // ---------------------------------------------------------------- ownership

  /** The partitions this node runs. */
  ownedParts(): number[] {
    return [...this.parts.keys()].sort((a, b) => a - b);
  }

  owns(part: number): boolean {
    return this.parts.has(part);
  }

  /** Loads partition `part` from the store and starts serving it (its workers connected, its inbox read). */
  async own(part: number, snapshot?: HubSnapshot): Promise<void> {
    if (this.parts.has(part)) return;
    if (part < 0 || part >= this.partitions || !Number.isInteger(part)) throw new Error(`task hub '${this.name}' has ${this.partitions} partitions; there is no partition ${part}`);
    snapshot ??= isAsyncStore(this.store) ? await this.store.load(this.name, part) : this.store.load(this.name, part);
    this.ownLoaded(part, snapshot);
  }

  private ownLoaded(part: number, snapshot: HubSnapshot): void {
    if (this.parts.has(part)) return;
    const link = new PartitionLink(part, this.partitions, (to) => this.parts.get(to)?.pullInbox(), this.finishedHere);
    const engine = new TaskHub(this.name, this.store, this.committer, this.options, snapshot, link);
    engine.dispatcher.onFreed = () => this.pumpOthers(engine);
    this.parts.set(part, engine);
    for (const w of this.workers) engine.connectWorker(w);
  }

  /**
   * Stops serving partition `part` (its lease moved): its engine closes without writing more; what
   * it committed stays in the store for the next owner. Its workers' items in flight are refused.
   */
  disown(part: number, reason = `Partition ${part} of task hub '${this.name}' moved to another node`): void {
    const engine = this.parts.get(part);
    if (!engine) return;
    this.parts.delete(part);
    for (const w of this.workers) engine.disconnectWorker(w);
    engine.close(reason);
  }

  /** Another process wrote to a partition's inbox (PostgreSQL NOTIFY): its owner here applies it. */
  inboxWritten(part: number): void {
    this.parts.get(part)?.pullInbox();
  }

  /** The engine of the partition an instance belongs to; UNAVAILABLE when this node does not own it. */
  route(instanceId: string): TaskHub {
    this.checkOpen();
    const part = partitionOf(instanceId, this.partitions);
    const engine = this.parts.get(part);
    if (!engine) throw new SchedulerError("UNAVAILABLE", `Instance '${instanceId}' is in partition ${part} of task hub '${this.name}', which this node does not own`);
    return engine;
  }

  engineOf(instanceId: string): TaskHub | undefined {
    this.checkOpen();
    return this.parts.get(partitionOf(instanceId, this.partitions));
  }

  /** The owner commits before it acknowledges, so the store holds what clients may see of an instance another node runs. */
  stored(instanceId: string): { instance(): Promise<InstanceRecord | undefined>; history(): Promise<HistoryEvent[] | undefined> } {
    const instance = async () => this.store.getInstance(this.name, instanceId);
    return {
      instance,
      history: async () => ((await instance()) ? this.store.getHistory(this.name, instanceId) : undefined),
    };
  }

  owned(): TaskHub[] {
    this.checkOpen();
    return this.ownedParts().map((p) => this.parts.get(p)!);
  }

  /** Some owned partition, for reads of the store and hub-wide settings. */
  any(): TaskHub {
    const [first] = this.owned();
    if (!first) throw new SchedulerError("UNAVAILABLE", `This node owns no partition of task hub '${this.name}'`);
    return first;
  }

  /** Partition 0, where the hub's schedules run. */
  private home(): TaskHub {
    this.checkOpen();
    const engine = this.parts.get(0);
    if (!engine) throw new SchedulerError("UNAVAILABLE", `The schedules of task hub '${this.name}' are in partition 0, which this node does not own`);
    return engine;
  }

  /** A new instance id for a start without one, so the start can go to its partition. */
  newInstanceId(): string {
    return randomUUID();
  }

  /**
   * An entity as clients see it: a lock whose holder (in a partition here) has finished is shown
   * released, as with one partition, where the release commits with the holder's end; here it
   * follows as a message to the entity's partition.
   */
  private entityView<T extends { data: EntityData }>(view: T | undefined): T | undefined {
    return view?.data.lockedBy && this.finishedHere(view.data.lockedBy) ? { ...view, data: unlocked(view.data) } : view;
  }

  /** The orchestration, of a partition this node runs, has finished (the locks it held are released or on their way). */
  private readonly finishedHere = (instanceId: string): boolean => {
    const engine = this.parts.get(partitionOf(instanceId, this.partitions));
    return !!engine && !engine.isLiveOrchestration(instanceId);
  };

  // ---------------------------------------------------------------- workers and life cycle

  get loading(): boolean {
    return [...this.parts.values()].some((p) => p.loading);
  }

  connectWorker(worker: WorkerConnection): void {
    this.workers.add(worker);
    for (const p of this.parts.values()) p.connectWorker(worker);
  }

  disconnectWorker(worker: WorkerConnection): void {
    this.workers.delete(worker);
    for (const p of this.parts.values()) p.disconnectWorker(worker);
  }

  /** BeginWorkerDrain over every partition. */
  drainWorker(workerId: string): boolean {
    let found = false;
    for (const p of this.parts.values()) found = p.dispatcher.drain(workerId) || found;
    return found;
  }

  close(reason: string): void {
    this.closedReason = reason;
    for (const p of this.parts.values()) p.close(reason);
    this.parts.clear();
  }

  async reload(): Promise<void> {
    await Promise.all([...this.parts.values()].map((p) => p.reload()));
  }

  private checkOpen(): void {
    if (this.closedReason !== undefined) throw new SchedulerError("UNAVAILABLE", this.closedReason);
  }

  private forToken(token: string | null | undefined, instanceId?: string | null): TaskHub {
    const prefix = token ? token.slice(0, token.indexOf(".")) : "";
    for (const p of this.parts.values()) if (p.dispatcher.tokenPrefix === prefix) return p;
    // A token no partition here issued: its instance's partition refuses it as any stale token.
    return instanceId ? this.route(instanceId) : this.any();
  }

  /** The other partitions pump, starting one further each time, so freed room is shared in turn. */
  private pumpOthers(from: TaskHub): void {
    const others = [...this.parts.values()].filter((p) => p !== from);
    if (others.length === 0) return;
    const start = this.turn++ % others.length;
    for (let i = 0; i < others.length; i++) others[(start + i) % others.length].dispatcher.pump();
  }
}

/** One page of entities over the partitions' pages (each in id order, each at most a page). */
function mergeEntityPages(pages: ReturnType<TaskHub["entities"]["query"]>[], q: EntityQuery): ReturnType<TaskHub["entities"]["query"]> {
  const all = pages.flatMap((p) => p.entities).sort((a, b) => (a.rec.instanceId < b.rec.instanceId ? -1 : 1));
  const size = effectivePageSize(q.pageSize);
  const page = all.slice(0, size);
  const more = all.length > size || pages.some((p) => p.last !== undefined);
  return { entities: page, last: more && page.length > 0 ? page[page.length - 1].rec.instanceId : undefined };
}

/** A whole hub's snapshot cut into its partitions' (the schedules go to partition 0, where they run). */
export function splitSnapshot(snapshot: HubSnapshot, partitions: number): HubSnapshot[] {
  const slices: HubSnapshot[] = Array.from({ length: partitions }, (_, part) => ({
    instances: [], messages: [], activities: [], schedules: part === 0 ? snapshot.schedules : [], maxSeq: snapshot.maxSeq,
    partitions, ...(snapshot.retention ? { retention: snapshot.retention } : {}),
  }));
  const of = (id: string) => slices[partitionOf(id, partitions)];
  for (const i of snapshot.instances) of(i.instance.instanceId).instances.push(i);
  for (const m of snapshot.messages) of(m.instanceId).messages.push(m);
  for (const a of snapshot.activities) of(a.instanceId).activities.push(a);
  return slices;
}
