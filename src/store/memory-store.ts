// A Store that keeps everything in Maps: for tests, development and hubs that need no durability.
// Records are copied on the way in and on the way out, so callers never share state with the store
// (HistoryEvent objects are immutable by convention and are shared). commit() is atomic through an
// undo log: each change records how to revert it, and a failing op reverts the batch in reverse.
import { ActivityRecord, HistoryEvent, InstanceRecord, MessageRecord, Status } from "../core/model";
import { RetentionPolicy } from "../core/retention";
import { checkPartitions, partitionOf } from "../core/partition";
import { ScheduleRecord } from "../core/schedule";
import { decodeContinuationToken } from "./continuation";
import { checkAppendFrom, checkPart, inboxConsumed, seqWritten, unknownHub } from "./ops";
import {
  compareByCreated,
  compareForListing,
  listingWindow,
  withoutPayloads,
  compareIds,
  effectiveLimit,
  effectivePageSize,
  matchesFilter,
  needsLoading,
  toIdPage,
  toInstancePage,
} from "./query";
import { HubSnapshot, InboxEntry, InstanceFilter, InstanceListing, InstancePage, PartitionMessage, Store, StoreOp } from "./store";

interface HubData {
  instances: Map<string, InstanceRecord>;
  histories: Map<string, HistoryEvent[]>;
  messages: Map<number, MessageRecord>;
  activities: Map<number, ActivityRecord>;
  schedules: Map<string, ScheduleRecord>;
  /** High-water mark of every seq ever written, so seqs are never reused after deletes. */
  maxSeq: number;
  retention?: RetentionPolicy;
  /** Fixed at creation; instances belong to partitionOf(id, partitions). */
  partitions: number;
  /** Messages between partitions, by id; `nextInboxId` only grows. */
  inbox: Map<number, { part: number; message: PartitionMessage }>;
  nextInboxId: number;
}

type Undo = (() => void)[];

export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  private hubs = new Map<string, HubData>();
  private closed = false;

  listHubs(): string[] {
    return [...this.open().keys()].sort(compareIds);
  }

  createHub(hub: string, partitions = 1): void {
    const hubs = this.open();
    if (!hubs.has(hub)) hubs.set(hub, emptyHub(partitions));
  }

  deleteHub(hub: string): void {
    this.open().delete(hub);
  }

  load(hub: string, part?: number): HubSnapshot {
    const h = this.open().get(hub);
    if (!h) return { instances: [], messages: [], activities: [], schedules: [], maxSeq: 0 };
    if (part !== undefined) checkPart(hub, part, h.partitions);
    const mine = (r: { instanceId: string }) => part === undefined || partitionOf(r.instanceId, h.partitions) === part;
    const withMessages = new Set<string>();
    for (const m of h.messages.values()) withMessages.add(m.instanceId);
    const instances: HubSnapshot["instances"] = [];
    for (const r of h.instances.values()) {
      if (mine(r) && needsLoading(r, withMessages.has(r.instanceId))) {
        instances.push({ instance: copyInstance(r), history: (h.histories.get(r.instanceId) ?? []).slice() });
      }
    }
    const bySeq = (a: { seq: number }, b: { seq: number }) => a.seq - b.seq;
    return {
      instances,
      messages: [...h.messages.values()].filter(mine).sort(bySeq).map(copyMessage),
      activities: [...h.activities.values()].filter(mine).sort(bySeq).map(copyActivity),
      schedules: [...h.schedules.values()].sort((a, b) => compareIds(a.scheduleId, b.scheduleId)).map((r) => ({ ...r })),
      maxSeq: h.maxSeq,
      ...(h.retention ? { retention: { ...h.retention } } : {}),
      ...(h.partitions > 1 ? { partitions: h.partitions } : {}),
    };
  }

  readInbox(hub: string, part: number, limit: number): InboxEntry[] {
    const h = this.open().get(hub);
    if (!h) throw unknownHub(hub);
    checkPart(hub, part, h.partitions);
    const out: InboxEntry[] = [];
    for (const [id, row] of h.inbox) if (row.part === part) out.push({ id, message: row.message });
    return out.sort((a, b) => a.id - b.id).slice(0, limit).map((e) => ({ id: e.id, message: copyInboxMessage(e.message) }));
  }

  commit(ops: StoreOp[]): void {
    const hubs = this.open();
    const undo: Undo = [];
    try {
      for (const op of ops) {
        if (op.op === "createHub" || op.op === "deleteHub") {
          set(hubs, op.hub, op.op === "createHub" ? hubs.get(op.hub) ?? emptyHub(op.partitions) : undefined, undo);
          continue;
        }
        const h = hubs.get(op.hub);
        if (!h) throw unknownHub(op.hub);
        apply(h, op, undo);
      }
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]();
      throw err;
    }
  }

  getInstance(hub: string, instanceId: string): InstanceRecord | undefined {
    const r = this.open().get(hub)?.instances.get(instanceId);
    return r && copyInstance(r);
  }

  getHistory(hub: string, instanceId: string): HistoryEvent[] {
    return (this.open().get(hub)?.histories.get(instanceId) ?? []).slice();
  }

  queryInstances(hub: string, filter: InstanceFilter, pageSize: number, continuationToken?: string): InstancePage {
    const size = effectivePageSize(pageSize);
    const after = continuationToken ? decodeContinuationToken(continuationToken) : undefined;
    const rows = this.matching(hub, filter)
      .filter((r) => !after || compareByCreated(r, after) > 0)
      .sort(compareByCreated);
    return toInstancePage(rows.slice(0, size + 1).map(copyInstance), size);
  }

  listInstanceIds(hub: string, filter: InstanceFilter, pageSize: number, after?: string): { ids: string[]; last?: string } {
    const size = effectivePageSize(pageSize);
    const ids = this.matching(hub, filter)
      .map((r) => r.instanceId)
      .filter((id) => !after || compareIds(id, after) > 0)
      .sort(compareIds);
    return toIdPage(ids.slice(0, size + 1), size);
  }

  listInstances(hub: string, filter: InstanceFilter, listing: InstanceListing): InstanceRecord[] {
    const { offset, limit } = listingWindow(listing.offset, listing.limit);
    return this.matching(hub, filter)
      .sort(compareForListing(listing.newestFirst))
      .slice(offset, offset + limit)
      .map((r) => withoutPayloads(copyInstance(r)));
  }

  countByStatus(hub: string, filter: InstanceFilter): Map<Status, number> {
    const counts = new Map<Status, number>();
    for (const r of this.matching(hub, filter)) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    return counts;
  }

  findInstanceIds(hub: string, filter: InstanceFilter, limit: number): string[] {
    return this.matching(hub, filter)
      .slice(0, effectiveLimit(limit))
      .map((r) => r.instanceId);
  }

  close(): void {
    this.hubs.clear();
    this.closed = true;
  }

  private open(): Map<string, HubData> {
    if (this.closed) throw new Error("the memory store is closed");
    return this.hubs;
  }

  private matching(hub: string, filter: InstanceFilter): InstanceRecord[] {
    const h = this.open().get(hub);
    return h ? [...h.instances.values()].filter((r) => matchesFilter(r, filter)) : [];
  }
}

function apply(h: HubData, op: StoreOp, undo: Undo): void {
  switch (op.op) {
    case "putInstance":
      set(h.instances, op.instance.instanceId, copyInstance(op.instance), undo);
      break;
    case "appendHistory": {
      const history = h.histories.get(op.instanceId);
      const length = history?.length ?? 0;
      checkAppendFrom(op, length);
      if (!history) {
        if (op.events.length > 0) set(h.histories, op.instanceId, op.events.slice(), undo);
      } else {
        // Appending in place keeps long histories linear; the undo truncates back.
        for (const ev of op.events) history.push(ev);
        undo.push(() => void (history.length = length));
      }
      break;
    }
    case "replaceHistory":
      set(h.histories, op.instanceId, op.events.length > 0 ? op.events.slice() : undefined, undo);
      break;
    case "putMessage":
      set(h.messages, op.message.seq, copyMessage(op.message), undo);
      break;
    case "deleteMessages":
      for (const seq of op.seqs) set(h.messages, seq, undefined, undo);
      break;
    case "putActivity":
      set(h.activities, op.activity.seq, copyActivity(op.activity), undo);
      break;
    case "deleteActivity":
      set(h.activities, op.seq, undefined, undo);
      break;
    case "setRetention": {
      const previous = h.retention;
      h.retention = op.policy && { ...op.policy };
      undo.push(() => void (h.retention = previous));
      break;
    }
    case "putSchedule":
      set(h.schedules, op.schedule.scheduleId, { ...op.schedule }, undo);
      break;
    case "deleteSchedule":
      set(h.schedules, op.scheduleId, undefined, undo);
      break;
    case "putInbox": {
      checkPart(op.hub, op.part, h.partitions);
      const id = ++h.nextInboxId;
      undo.push(() => void h.nextInboxId--);
      set(h.inbox, id, { part: op.part, message: copyInboxMessage(op.message) }, undo);
      break;
    }
    case "deleteInbox": {
      const gone = op.ids.filter((id) => h.inbox.get(id)?.part !== op.part);
      if (gone.length > 0) throw inboxConsumed(op.hub, op.part, gone);
      for (const id of op.ids) set(h.inbox, id, undefined, undo);
      break;
    }
    case "createHub":
    case "deleteHub":
      break; // commit() applies hub ops
    case "deleteInstance":
      set(h.instances, op.instanceId, undefined, undo);
      set(h.histories, op.instanceId, undefined, undo);
      for (const m of h.messages.values()) if (m.instanceId === op.instanceId) set(h.messages, m.seq, undefined, undo);
      for (const a of h.activities.values()) if (a.instanceId === op.instanceId) set(h.activities, a.seq, undefined, undo);
      break;
    default:
      throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
  }
  const seq = seqWritten(op);
  if (seq > h.maxSeq) {
    const previous = h.maxSeq;
    h.maxSeq = seq;
    undo.push(() => void (h.maxSeq = previous));
  }
}

/** Sets (or, for undefined, deletes) a map entry and records how to revert it. */
function set<K, V>(map: Map<K, V>, key: K, value: V | undefined, undo: Undo): void {
  if (map.has(key)) {
    const previous = map.get(key) as V;
    undo.push(() => void map.set(key, previous));
  } else if (value === undefined) {
    return;
  } else {
    undo.push(() => void map.delete(key));
  }
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

function emptyHub(partitions = 1): HubData {
  return {
    instances: new Map(), histories: new Map(), messages: new Map(), activities: new Map(), schedules: new Map(), maxSeq: 0,
    partitions: checkPartitions(partitions), inbox: new Map(), nextInboxId: 0,
  };
}

/** The body goes through JSON, as it does in PostgreSQL, so nothing is shared with the caller. */
function copyInboxMessage(m: PartitionMessage): PartitionMessage {
  return { body: JSON.parse(JSON.stringify(m.body)) as unknown, events: m.events.slice() };
}

function copyInstance(r: InstanceRecord): InstanceRecord {
  return r.tags ? { ...r, tags: { ...r.tags } } : { ...r };
}

/** The record's own fields: the engine's in-memory marks on it (pending, held) are not stored. */
function copyMessage(m: MessageRecord): MessageRecord {
  const copy: MessageRecord = { seq: m.seq, instanceId: m.instanceId, visibleAt: m.visibleAt, event: m.event };
  if (m.executionId !== undefined) copy.executionId = m.executionId;
  return copy;
}

function copyActivity(a: ActivityRecord): ActivityRecord {
  return a.tags ? { ...a, tags: { ...a.tags } } : { ...a };
}
