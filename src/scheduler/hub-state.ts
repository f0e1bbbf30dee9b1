// A hub's in-memory tables (instances with their inboxes and histories, activity tasks, entity
// locks, due times) and the only ways to change them. Every change is recorded into the
// operation's Change, so memory and store move together in one commit. The state is what a
// partitioned store would hand one node: a slice of instances with a single writer.
import { randomUUID } from "crypto";
import { entityName, isEntityId, normalizeEntityId, unlocked } from "../core/entities";
import { notFound, precondition } from "../core/errors";
import { ActivityRecord, EntityData, HistoryEvent, InstanceRecord, isTerminal, NewActivity, NewMessage, Status, statusName } from "../core/model";
import { RetentionPolicy } from "../core/retention";
import { EngineStore, HubSnapshot } from "../store/store";
import { ColdRecords, coldRecords } from "./cold-records";
import { ActivityTable } from "./activity-table";
import { Change } from "./change";
import { Dispatcher, Lease } from "./dispatcher";
import { EntityLockIndex } from "./entity-locks";
import { PartitionLink, requestedLocks } from "./partition-link";
import { endWork, HotInstance, hotInstance, InboxMessage, resultQueued } from "./hot-instance";
import { ScheduleTable } from "./schedule-table";
import { TimerHeap } from "./timer-heap";

/** What a due time is for: an instance's inbox (a timer, a scheduled start, a back-off), an activity task or a schedule's next occurrence. */
export type Due = { instanceId: string } | { activitySeq: number } | { scheduleId: string };

export const newExecutionId = () => randomUUID().replace(/-/g, "");

export class HubState {
  private readonly instances = new Map<string, HotInstance>();
  private readonly activityTable = new ActivityTable();
  /** The lease of each activity task in flight, by seq. */
  readonly activityLeases = new Map<number, Lease>();
  /** Activity deliveries lost in a row, by seq (see WorkItemCompletions.released). */
  readonly lostActivities = new Map<number, number>();
  /** Entities each orchestration holds locked, so its locks go when it ends. */
  private readonly locks = new EntityLockIndex();
  private readonly timers: TimerHeap<Due>;
  private seq = 0;
  /** The hub's own retention policy (none: the scheduler's applies). */
  retention?: RetentionPolicy;
  readonly schedules: ScheduleTable;
  /** The instances outside memory (cold-records.ts). */
  readonly cold: ColdRecords;

  /** `link`: the partition this state is, of how many (one by default: the whole hub). */
  constructor(readonly name: string, store: EngineStore, private readonly dispatcher: Dispatcher, onDue: (due: Due[]) => void, readonly link = new PartitionLink()) {
    this.timers = new TimerHeap<Due>(onDue);
    this.schedules = new ScheduleTable(name);
    this.cold = coldRecords(name, store);
  }

  // ---------------------------------------------------------------- reads

  get(instanceId: string): HotInstance | undefined {
    return this.instances.get(instanceId);
  }

  /** The hot instances (orchestrations and entities). */
  all(): IterableIterator<HotInstance> {
    return this.instances.values();
  }

  get size(): number {
    return this.instances.size;
  }

  activity(seq: number): ActivityRecord | undefined {
    return this.activityTable.get(seq);
  }

  activities(): IterableIterator<ActivityRecord> {
    return this.activityTable.values();
  }

  activitiesOf(instanceId: string): ActivityRecord[] {
    return this.activityTable.ofInstance(instanceId);
  }

  /** The instance as committed when it is in memory (a client never sees a state that a crash could take back). */
  committedHot(instanceId: string): { rec: InstanceRecord; history: HistoryEvent[] } | undefined {
    return this.instances.get(instanceId)?.committed;
  }

  /** The instance as committed, hot or cold (after fetchCold when the store answers through promises). */
  committed(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId)?.committed?.rec ?? this.cold.instance(instanceId);
  }

  /** The engine's own view, including changes still being committed. */
  current(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId)?.rec ?? this.cold.instance(instanceId);
  }

  currentHistory(instanceId: string): HistoryEvent[] | undefined {
    const h = this.instances.get(instanceId);
    if (h) return h.history;
    return this.cold.instance(instanceId) ? this.cold.history(instanceId) : undefined;
  }

  /**
   * Readies current()/currentHistory() for these ids when they are not in memory; undefined when
   * nothing needs awaiting (always so on a store that answers at once).
   */
  fetchCold(instanceIds: Iterable<string>, history = false): Promise<void> | undefined {
    const cold: string[] = [];
    for (const id of instanceIds) if (!this.instances.has(id)) cold.push(id);
    return cold.length === 0 ? undefined : this.cold.fetch(cold, history);
  }

  /** The instance, hot and not finished; NOT_FOUND or FAILED_PRECONDITION (naming `verb`) otherwise. */
  requireLive(instanceId: string, verb: string): HotInstance {
    const h = this.instances.get(instanceId);
    if (h && !isTerminal(h.rec.status)) return h;
    const rec = h?.rec ?? this.cold.instance(instanceId);
    if (!rec) throw notFound(`Orchestration instance '${instanceId}' not found`);
    throw precondition(`Cannot ${verb} orchestration instance '${instanceId}': it is already ${statusName(rec.status)}`);
  }

  /**
   * An orchestration of another partition counts as live: its partition unlocks what a finished one
   * was granted (see releaseLocksOf and partition-inbox.ts).
   */
  isLiveOrchestration(instanceId: string): boolean {
    if (!this.link.owns(instanceId)) return true;
    const h = this.instances.get(instanceId);
    return !!h && !h.rec.entity && !isTerminal(h.rec.status);
  }

  // ---------------------------------------------------------------- start-up

  /** Fills the tables from the store's snapshot; returns the seqs of messages to finished or unknown instances. */
  load(snap: HubSnapshot, now: number): { stale: number[]; readyActivities: number[] } {
    // Never back: after a failed commit, refused changes may have used seqs above the store's maximum.
    this.seq = Math.max(this.seq, snap.maxSeq);
    this.retention = snap.retention;
    for (const { instance, history } of snap.instances) {
      this.instances.set(instance.instanceId, hotInstance(instance, history, true));
      this.locks.move(instance.instanceId, undefined, instance.entity?.lockedBy);
    }
    const stale: number[] = [];
    for (const m of snap.messages) {
      const h = this.instances.get(m.instanceId);
      if (!h || isTerminal(h.rec.status)) stale.push(m.seq);
      else this.addToInbox(h, m, now);
    }
    this.schedules.load(snap.schedules);
    const readyActivities: number[] = [];
    for (const a of snap.activities) {
      this.activityTable.set(a.seq, a);
      if (a.visibleAt <= now) readyActivities.push(a.seq);
      else this.addTimer(a.visibleAt, { activitySeq: a.seq });
    }
    return { stale, readyActivities };
  }

  clear(): void {
    for (const h of this.instances.values()) if (h.lease) this.dispatcher.end(h.lease);
    for (const lease of this.activityLeases.values()) this.dispatcher.end(lease);
    this.instances.clear();
    this.activityTable.clear();
    this.activityLeases.clear();
    this.lostActivities.clear();
    this.locks.clear();
    this.retention = undefined;
    this.schedules.clear();
    this.cold.clear();
  }

  close(): void {
    this.timers.close();
  }

  // ---------------------------------------------------------------- instances

  createInstance(rec: InstanceRecord, start: HistoryEvent, visibleAt: number, change: Change): void {
    this.instances.set(rec.instanceId, hotInstance(rec));
    change.ops.push({ op: "putInstance", hub: this.name, instance: rec });
    this.send({ instanceId: rec.instanceId, executionId: rec.executionId, visibleAt, event: start }, change);
    change.notify.add(rec.instanceId);
  }

  /** Removes an instance from memory and store (purge, replacement by a new one with its id, an emptied entity). */
  dropInstance(instanceId: string, change: Change): void {
    const h = this.instances.get(instanceId);
    if (h) {
      this.revoke(h);
      this.dropActivitiesOf(instanceId, change);
      this.instances.delete(instanceId);
      if (h.rec.entity) this.locks.move(instanceId, h.rec.entity.lockedBy, undefined);
    }
    this.releaseLocksOf(instanceId, change, h?.history);
    change.ops.push({ op: "deleteInstance", hub: this.name, instanceId });
    this.wroteCold(instanceId, undefined, [], change);
  }

  /** Writes a finished instance that is not in memory (an import). */
  putCold(rec: InstanceRecord, history: HistoryEvent[], change: Change): void {
    change.ops.push({ op: "putInstance", hub: this.name, instance: rec }, { op: "replaceHistory", hub: this.name, instanceId: rec.instanceId, events: history });
    this.wroteCold(rec.instanceId, rec, history, change);
  }

  private wroteCold(instanceId: string, rec: InstanceRecord | undefined, history: HistoryEvent[], change: Change): void {
    this.cold.wrote(instanceId, rec, history, false);
    change.after.push(() => this.cold.unpin(instanceId));
  }

  /** Ends the instance's work item in flight: its completion will be refused. */
  revoke(h: HotInstance): void {
    if (h.lease) this.dispatcher.end(h.lease);
    endWork(h);
  }

  /** A finished instance leaves memory once durable; reads then go to the store. */
  evictIfDone(h: HotInstance): void {
    // Only once its finished record is committed: reads of an evicted instance go to the store.
    if (isTerminal(h.rec.status) && !h.lease && h.committed?.rec === h.rec && this.instances.get(h.rec.instanceId) === h) {
      this.instances.delete(h.rec.instanceId);
      // Its history is left out: few reads need it, and the store has it.
      this.cold.wrote(h.rec.instanceId, h.rec, undefined, true);
    }
  }

  setRecord(h: HotInstance, rec: InstanceRecord, change: Change): void {
    const old = h.rec;
    // An execution ends when it reaches a terminal status, or when continue-as-new replaces it.
    if (!old.entity && old.executionId && !isTerminal(old.status) && (isTerminal(rec.status) || rec.executionId !== old.executionId)) {
      change.ended.push(rec.executionId === old.executionId ? rec : { ...old, status: Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW, lastUpdatedAt: rec.lastUpdatedAt });
    }
    h.rec = rec;
    change.ops.push({ op: "putInstance", hub: this.name, instance: rec });
  }

  setStatus(h: HotInstance, status: Status, change: Change, extra: Partial<InstanceRecord> = {}): void {
    this.setRecord(h, { ...h.rec, ...extra, status, lastUpdatedAt: Date.now() }, change);
    change.notify.add(h.rec.instanceId);
  }

  appendHistory(h: HotInstance, events: HistoryEvent[], change: Change): void {
    if (events.length === 0) return;
    change.ops.push({ op: "appendHistory", hub: this.name, instanceId: h.rec.instanceId, from: h.history.length, events });
    h.history = h.history.concat(events);
  }

  replaceHistory(h: HotInstance, events: HistoryEvent[], change: Change): void {
    h.history = events;
    change.ops.push({ op: "replaceHistory", hub: this.name, instanceId: h.rec.instanceId, events });
  }

  /** A rewound instance's record and history back in memory when it had left it. */
  reheat(instanceId: string): HotInstance | undefined {
    let h = this.instances.get(instanceId);
    if (h) return h;
    const rec = this.cold.instance(instanceId);
    if (!rec) return undefined;
    h = hotInstance(rec, this.cold.history(instanceId), true);
    this.instances.set(instanceId, h);
    return h;
  }

  // ---------------------------------------------------------------- messages

  /**
   * Delivers a message to a live instance's inbox; messages to unknown or finished instances are
   * dropped. One for an instance of another partition goes to that partition's inbox.
   */
  send(m: NewMessage, change: Change, extra?: { lockSet?: string[]; unlessQueued?: boolean }): void {
    if (!this.link.owns(m.instanceId)) return this.link.send(this.name, m, change, extra);
    const h = this.instances.get(m.instanceId) ?? (isEntityId(m.instanceId) ? this.createEntity(m.instanceId, change) : undefined);
    if (!h || isTerminal(h.rec.status)) return;
    if (m.executionId && m.executionId !== h.rec.executionId && !h.rec.rewoundExecutionIds?.includes(m.executionId)) return;
    if (extra?.unlessQueued && resultQueued(h, m)) return;
    const rec: InboxMessage = { ...m, seq: (this.seq = this.link.nextSeq(this.seq)), pending: true, held: true };
    change.ops.push({ op: "putMessage", hub: this.name, message: rec });
    change.sent.push(rec);
    this.addToInbox(h, rec, Date.now());
    change.wake.add(m.instanceId);
  }

  /** Drops the waiting messages that `drop` picks. */
  dropMessages(h: HotInstance, drop: (m: InboxMessage) => boolean, change: Change): void {
    const dropped = h.inbox.filter(drop);
    if (dropped.length === 0) return;
    change.ops.push({ op: "deleteMessages", hub: this.name, seqs: dropped.map((m) => m.seq) });
    h.inbox = h.inbox.filter((m) => !drop(m));
  }

  /** An execution ended: its queued work and messages go. */
  finish(h: HotInstance, change: Change): void {
    this.dropMessages(h, () => true, change);
    this.dropActivitiesOf(h.rec.instanceId, change);
  }

  private addToInbox(h: HotInstance, m: InboxMessage, now: number): void {
    h.inbox.push(m);
    if (m.visibleAt > now) this.addTimer(m.visibleAt, { instanceId: h.rec.instanceId });
  }

  // ---------------------------------------------------------------- activity tasks

  addActivity(a: NewActivity, change: Change): void {
    const rec: ActivityRecord = { ...a, seq: (this.seq = this.link.nextSeq(this.seq)) };
    this.activityTable.set(rec.seq, rec);
    change.ops.push({ op: "putActivity", hub: this.name, activity: rec });
    change.activities.push(rec.seq);
  }

  deleteActivity(seq: number, change: Change): void {
    this.activityTable.delete(seq);
    this.lostActivities.delete(seq);
    change.ops.push({ op: "deleteActivity", hub: this.name, seq });
  }

  /** The instance's activity tasks that are not running go (a running one's completion is then refused). */
  dropActivitiesOf(instanceId: string, change: Change): void {
    for (const a of this.activityTable.ofInstance(instanceId)) if (!this.activityLeases.has(a.seq)) this.deleteActivity(a.seq, change);
  }

  // ---------------------------------------------------------------- entities

  /** The entity's hot instance, created (empty, in the change) on its first message; undefined for a malformed id. */
  createEntity(instanceId: string, change: Change): HotInstance | undefined {
    let id: string;
    try {
      id = normalizeEntityId(instanceId);
    } catch {
      return undefined;
    }
    const existing = this.instances.get(id);
    if (existing) return existing;
    const now = Date.now();
    const rec: InstanceRecord = {
      instanceId: id, executionId: "", name: entityName(id), status: Status.ORCHESTRATION_STATUS_RUNNING,
      createdAt: now, lastUpdatedAt: now, entity: {},
    };
    const h = hotInstance(rec);
    this.instances.set(id, h);
    change.ops.push({ op: "putInstance", hub: this.name, instance: rec });
    return h;
  }

  setEntity(h: HotInstance, data: EntityData, change: Change): void {
    const before = h.rec.entity?.lockedBy;
    this.setRecord(h, { ...h.rec, entity: data, lastUpdatedAt: Date.now() }, change);
    this.locks.move(h.rec.instanceId, before, data.lockedBy);
    change.wake.add(h.rec.instanceId);
  }

  /**
   * An orchestration ended (or moved to a new execution): the entities it locked are free again.
   * Entities of other partitions are sent an unlock for each critical section `history` asked for
   * and did not release (an unlock of a lock not held is ignored).
   */
  releaseLocksOf(orchestrationId: string, change: Change, history = this.instances.get(orchestrationId)?.history): void {
    for (const entityId of this.locks.takeAll(orchestrationId)) {
      const h = this.instances.get(entityId);
      if (h?.rec.entity?.lockedBy === orchestrationId) this.setEntity(h, unlocked(h.rec.entity), change);
    }
    if (this.link.single || !history) return;
    for (const [cs, entities] of requestedLocks(history)) this.link.release(this.name, orchestrationId, cs, entities, change);
  }

  /** Unlocks the entity if the orchestration holds it for this critical section (a release from another partition). */
  releaseLock(entityId: string, orchestrationId: string, criticalSectionId: string, change: Change): void {
    let id: string;
    try {
      id = normalizeEntityId(entityId);
    } catch {
      return;
    }
    const h = this.instances.get(id);
    const data = h?.rec.entity;
    if (h && data?.lockedBy === orchestrationId && data.criticalSectionId === criticalSectionId) this.setEntity(h, unlocked(data), change);
  }

  // ---------------------------------------------------------------- due times

  /**
   * Due-time entries are hints and stay in the heap until they fire, even when what they were for is
   * gone; when they outnumber what is alive, the stale ones are dropped so the heap stays bounded.
   */
  addTimer(at: number, due: Due): void {
    this.timers.add(at, due);
    if (this.timers.size > 2 * (this.instances.size + this.activityTable.size + this.schedules.size) + 1024) {
      this.timers.compact((d) => ("instanceId" in d ? this.instances.has(d.instanceId) : "scheduleId" in d ? this.schedules.has(d.scheduleId) : this.activityTable.has(d.activitySeq)));
    }
  }
}
