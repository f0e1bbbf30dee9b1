// The entity side of a task hub: signals, operation batches, critical-section locks applied by the
// scheduler, entity reads and storage clean-up. Entities are hot instances with `rec.entity` set,
// held in the hub's instance map; this module keeps their ready queue, batches in flight and lock index.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { invalid, notFound, precondition } from "../core/errors";
import { applyEntityBatch, BatchOutcome, EntityQuery, entityName, entityRequest, isEmptyEntity, nextEntityStep, normalizeEntityId, pageEntities } from "../core/entities";
import { event, fromTimestamp, str, val } from "../core/events";
import { checkPayload, payloadBytes } from "../core/limits";
import { EntityData, InstanceRecord, isTerminal, MessageRecord, Status } from "../core/model";
import { NewMessage } from "../core/model";
import { Change } from "./change";
import { Dispatcher, Lease, WorkKind } from "./dispatcher";
import { EntityLockIndex } from "./entity-locks";
import { Fifo } from "./fifo";
import { committedBacklog, committedInbox, HotInstance, hotInstance } from "./hot-instance";
import { EngineOptions } from "./options";

/** What the entity side uses of its task hub. */
export interface EntityHost {
  readonly name: string;
  readonly options: EngineOptions;
  readonly instances: Map<string, HotInstance>;
  readonly dispatcher: Dispatcher;
  send(m: NewMessage, change: Change): void;
  commit(change: Change): Promise<void>;
  startInto(req: pb.ICreateInstanceRequest, change: Change): string;
  dropInstance(instanceId: string, change: Change): void;
  leaseFor(token: string | null | undefined, kind: WorkKind): Lease;
  abandon(token: string | null | undefined, kind: WorkKind): void;
  enqueueIfReady(h: HotInstance, now: number): void;
  /** Throws RESOURCE_EXHAUSTED while the store is far behind (client requests that add work). */
  admit(): void;
}

export class EntityEngine {
  /** Entities with a batch ready to dispatch (hints: checked again when taken). */
  readonly ready = new Fifo<string>();
  /** The operations of each batch in flight, by lease token. */
  private readonly batches = new Map<string, MessageRecord[]>();
  /** Entities each orchestration holds locked, so its locks go when it ends. */
  private readonly locks = new EntityLockIndex();

  constructor(private readonly hub: EntityHost) {}

  /** An entity loaded from the store: index its lock. */
  loaded(rec: InstanceRecord): void {
    this.locks.move(rec.instanceId, undefined, rec.entity?.lockedBy);
  }

  clear(): void {
    this.ready.clear();
    this.batches.clear();
    this.locks.clear();
  }

  /** A batch's lease ended without a completion. */
  forgetBatch(token: string): void {
    this.batches.delete(token);
  }

  signal(req: pb.ISignalEntityRequest): Promise<void> {
    const id = normalizeEntityId(req.instanceId);
    if (!req.name) throw invalid("name (the operation name) must not be empty");
    checkPayload(val(req.input), "input (the operation input)", this.hub.options.maxPayloadBytes);
    this.hub.admit();
    const now = Date.now();
    const at = fromTimestamp(req.scheduledTime);
    const change = new Change();
    this.hub.send({
      instanceId: id, visibleAt: at && at > now ? at : now,
      event: event(now, { entityOperationSignaled: { requestId: req.requestId || randomUUID(), operation: req.name, input: req.input, scheduledTime: req.scheduledTime, targetInstanceId: str(id) } }),
    }, change);
    return this.hub.commit(change);
  }

  /** The entity as committed (its state after the last durable batch). */
  get(instanceId: string): { rec: InstanceRecord; data: EntityData; backlog: number } | undefined {
    const h = this.hub.instances.get(normalizeEntityId(instanceId));
    return h ? committedView(h) : undefined;
  }

  /** Entities ordered by id; `after` is the last id of the previous page. */
  query(q: EntityQuery) {
    return pageEntities(this.hotEntities(), q);
  }

  private *hotEntities(): Iterable<{ rec: InstanceRecord; data: EntityData; backlog: number }> {
    for (const h of this.hub.instances.values()) {
      const view = committedView(h);
      if (view) yield view;
    }
  }

  /** Removes entities with nothing in them and releases locks whose holder has finished. */
  clean(removeEmpty: boolean, releaseOrphanedLocks: boolean): Promise<{ removed: number; released: number }> {
    const change = new Change();
    let removed = 0;
    let released = 0;
    for (const h of [...this.hub.instances.values()]) {
      const data = h.rec.entity;
      if (!data || h.lease) continue;
      if (releaseOrphanedLocks && data.lockedBy && !this.isLiveOrchestration(data.lockedBy)) {
        this.set(h, { ...data, lockedBy: undefined, criticalSectionId: undefined }, change);
        released++;
      }
      if (removeEmpty && h.rec.entity && isEmptyEntity(h.rec.entity, h.inbox.length)) {
        this.hub.dropInstance(h.rec.instanceId, change);
        removed++;
      }
    }
    return this.hub.commit(change).then(() => ({ removed, released }));
  }

  /**
   * Purge of one entity (PurgeInstances by its @name@key id): its state, lock and queued operations
   * go; resolves with 1, or 0 when there is no such entity. A batch in flight is dropped (its
   * completion is refused). An entity locked by a live orchestration is refused: purging it would
   * end that orchestration's critical section behind its back.
   */
  purgeInto(instanceId: string, change: Change): number {
    const h = this.hub.instances.get(normalizeEntityId(instanceId));
    const data = h?.rec.entity;
    if (!h || !data) return 0;
    if (data.lockedBy && this.isLiveOrchestration(data.lockedBy)) {
      throw precondition(`Entity '${h.rec.instanceId}' is locked by orchestration '${data.lockedBy}' (a critical section); purge it after that orchestration releases it or ends`);
    }
    if (h.lease) this.batches.delete(h.lease.token);
    this.locks.move(h.rec.instanceId, data.lockedBy, undefined);
    this.hub.dropInstance(h.rec.instanceId, change);
    return 1;
  }

  complete(result: pb.IEntityBatchResult): Promise<void> {
    if (result.failureDetails) {
      // The worker could not run the batch at all (not an operation failure): run it again later.
      this.hub.abandon(result.completionToken, "entity");
      return Promise.resolve();
    }
    return this.completeBatch(result.completionToken, (data, operations, now) => applyEntityBatch(data, operations, result, now, randomUUID));
  }

  /** BackendService's entity completion: new state and the messages the host built. */
  completePrecomputed(req: pb.durabletask.protos.backend.v1.ICompleteEntityWorkItemRequest): Promise<void> {
    return this.completeBatch(req.completionToken, (data, _operations, now) => ({
      entity: { ...data, state: val(req.entityState) || undefined },
      messages: (req.messages ?? []).map((m) => {
        if (!m.instance?.instanceId || !m.event) throw invalid("every message needs an instance id and an event");
        return { instanceId: m.instance.instanceId, executionId: val(m.instance.executionId) || undefined, visibleAt: now, event: m.event };
      }),
      starts: [],
    }));
  }

  private completeBatch(token: string | null | undefined, compute: (data: EntityData, operations: MessageRecord[], now: number) => BatchOutcome): Promise<void> {
    const lease = this.hub.leaseFor(token, "entity");
    const h = this.hub.instances.get(lease.key as string);
    const operations = this.batches.get(lease.token);
    if (!h?.rec.entity || !operations) {
      this.hub.dispatcher.end(lease);
      throw notFound(`Entity '${lease.key}' no longer exists`);
    }
    const now = Date.now();
    let outcome = compute(h.rec.entity, operations, now);
    const size = payloadBytes(outcome.entity.state);
    if (size > this.hub.options.maxPayloadBytes) {
      const failure = { errorType: "PayloadTooLarge", errorMessage: `The state of entity '${h.rec.instanceId}' would be ${size} bytes; the limit is ${this.hub.options.maxPayloadBytes} bytes`, isNonRetriable: true };
      outcome = applyEntityBatch(h.rec.entity, operations, { entityState: str(h.rec.entity.state), results: operations.map(() => ({ failure: { failureDetails: failure } })) }, now, randomUUID);
    }
    lease.completing = true;
    const change = new Change();
    change.consume(this.hub.name, h, operations.map((m) => m.seq));
    this.set(h, outcome.entity, change);
    for (const m of outcome.messages) this.hub.send(m, change);
    for (const start of outcome.starts) {
      try {
        this.hub.startInto({ instanceId: start.instanceId, name: start.name, version: start.version, input: start.input, scheduledStartTimestamp: start.scheduledTime }, change);
      } catch (err) {
        console.error(`dts: entity '${h.rec.instanceId}' could not start orchestration '${start.name}': ${(err as Error).message}`);
      }
    }
    for (const reason of outcome.rejected ?? []) console.error(`dts: entity '${h.rec.instanceId}' could not send a signal: ${reason}`);
    h.abandonCount = 0;
    change.completes = lease;
    change.stepped.add(h.rec.instanceId);
    change.after.push(() => {
      this.batches.delete(lease.token);
      this.hub.dispatcher.end(lease);
      if (h.lease?.token === lease.token) h.lease = undefined;
      this.hub.enqueueIfReady(h, Date.now());
    });
    return this.hub.commit(change);
  }

  /** The entity's next batch as a work item under `lease`, or undefined when it has none ready. */
  batchFor(h: HotInstance, lease: Lease, now: number): pb.IWorkItem | undefined {
    const step = h.rec.entity ? this.step(h, now) : undefined;
    if (step?.kind !== "batch") return undefined;
    this.batches.set(lease.token, step.operations);
    return { entityRequestV2: entityRequest(h.rec.instanceId, h.rec.entity!, step.operations) };
  }

  step(h: HotInstance, now: number) {
    return nextEntityStep(h.rec.instanceId, h.rec.entity!, committedInbox(h), now, this.hub.options.entityBatchSize, (o) => this.isLiveOrchestration(o));
  }

  /**
   * Applies, inside the operation's own change, the lock requests and releases that its messages and
   * lock releases brought to the head of an entity's queue (they need no worker), then forgets the
   * entities those steps left empty: one operation, one commit. Messages of earlier changes not yet
   * committed count too: this change commits after them.
   */
  settle(change: Change): void {
    const now = Date.now();
    // The set grows while it is walked: a granted lock forwards the request to the next entity.
    for (const id of change.wake) {
      const h = this.hub.instances.get(id);
      if (!h?.rec.entity || (h.lease && h.lease !== change.completes)) continue;
      for (;;) {
        const step = nextEntityStep(id, h.rec.entity, h.inbox, now, this.hub.options.entityBatchSize, (o) => this.isLiveOrchestration(o));
        if (step?.kind !== "control") break;
        change.consume(this.hub.name, h, [step.consumed.seq]);
        this.set(h, step.entity, change);
        for (const m of step.messages) this.hub.send(m, change);
        change.stepped.add(id);
      }
    }
    for (const id of change.stepped) this.forgetIfEmpty(id, change);
  }

  /**
   * A lock step waiting with no operation to carry it (loaded from the store, or behind a batch that
   * was given back) runs as an operation of its own.
   */
  runControl(h: HotInstance, now: number): void {
    if (this.step(h, now)?.kind !== "control") return;
    const change = new Change();
    change.wake.add(h.rec.instanceId);
    this.hub.commit(change).catch(() => {});
  }

  create(instanceId: string, change: Change): HotInstance | undefined {
    let id: string;
    try {
      id = normalizeEntityId(instanceId);
    } catch {
      return undefined;
    }
    const existing = this.hub.instances.get(id);
    if (existing) return existing;
    const now = Date.now();
    const rec: InstanceRecord = {
      instanceId: id, executionId: "", name: entityName(id), status: Status.ORCHESTRATION_STATUS_RUNNING,
      createdAt: now, lastUpdatedAt: now, entity: {},
    };
    const h = hotInstance(rec);
    this.hub.instances.set(id, h);
    change.ops.push({ op: "putInstance", hub: this.hub.name, instance: rec });
    return h;
  }

  private set(h: HotInstance, data: EntityData, change: Change): void {
    const before = h.rec.entity?.lockedBy;
    h.rec = { ...h.rec, entity: data, lastUpdatedAt: Date.now() };
    change.ops.push({ op: "putInstance", hub: this.hub.name, instance: h.rec });
    this.locks.move(h.rec.instanceId, before, data.lockedBy);
    change.wake.add(h.rec.instanceId);
  }

  /** An orchestration ended (or moved to a new execution): the entities it locked are free again. */
  releaseLocksOf(orchestrationId: string, change: Change): void {
    for (const entityId of this.locks.takeAll(orchestrationId)) {
      const h = this.hub.instances.get(entityId);
      if (h?.rec.entity?.lockedBy === orchestrationId) this.set(h, { ...h.rec.entity, lockedBy: undefined, criticalSectionId: undefined }, change);
    }
  }

  private isLiveOrchestration(instanceId: string): boolean {
    const h = this.hub.instances.get(instanceId);
    return !!h && !h.rec.entity && !isTerminal(h.rec.status);
  }

  /** An entity with no state, lock or queue leaves memory and store. */
  private forgetIfEmpty(id: string, change: Change): void {
    const h = this.hub.instances.get(id);
    const data = h?.rec.entity;
    if (!h || !data || (h.lease && h.lease !== change.completes) || !isEmptyEntity(data, h.inbox.length)) return;
    this.hub.instances.delete(id);
    change.ops.push({ op: "deleteInstance", hub: this.hub.name, instanceId: id });
  }
}

/** What a client may see of an entity: its committed record, and the committed messages waiting for it. */
function committedView(h: HotInstance): { rec: InstanceRecord; data: EntityData; backlog: number } | undefined {
  const rec = h.committed?.rec;
  return rec?.entity ? { rec, data: rec.entity, backlog: committedBacklog(h) } : undefined;
}
