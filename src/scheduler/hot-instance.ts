// An instance (orchestration or entity) held in memory while it has work: its record, history,
// waiting messages and dispatch bookkeeping. `rec`, `history` and `inbox` run ahead of the store
// while a change is being committed; `committed` and the messages' `pending` flag say what is
// durable, and only that is read by clients or dispatched.
import { HistoryEvent, InstanceRecord, MessageRecord } from "../core/model";
import { openTaskCount } from "../core/result-batching";
import { Lease } from "./dispatcher";

/** A message in an inbox; `pending` until the change that sent it is committed. */
export type InboxMessage = MessageRecord & { pending?: boolean };

export interface HotInstance {
  rec: InstanceRecord;
  history: HistoryEvent[];
  inbox: InboxMessage[];
  /** The record and history as last committed; undefined until the instance's first commit. */
  committed?: { rec: InstanceRecord; history: HistoryEvent[] };
  /** The work item in flight, if one is, with what it was dispatched with. */
  lease?: Lease;
  /** An orchestration's episode in flight: the messages it consumes and the events it was sent. */
  episode?: { consumed: number[]; newEvents: HistoryEvent[] };
  /** An entity's batch in flight: its operations. */
  batch?: MessageRecord[];
  /** In its ready queue already. */
  queued: boolean;
  /** Not dispatched before this time (after an abandon). */
  notBefore: number;
  abandonCount: number;
  /** Messages taken out of the inbox by changes not yet committed: still waiting, as far as the store knows. */
  consumedUncommitted: number;
  /** Work items lost without a completion in a row (stream closed, lock given up); see options.maxDeliveryAttempts. */
  lostDeliveries: number;
  /** How long its last episode took, dispatch to commit (how long a replay of its history takes). */
  lastEpisodeMs: number;
  /** Waiting task results hold it until then (a due time is set for it). */
  heldUntil: number;
  /** openTasks' count for one history array (appending makes a new one). */
  openTasks?: { of: HistoryEvent[]; count: number };
}

/** A hot instance; `durable` when its record and history come from the store. */
export function hotInstance(rec: InstanceRecord, history: HistoryEvent[] = [], durable = false): HotInstance {
  return { rec, history, inbox: [], committed: durable ? { rec, history } : undefined, queued: false, notBefore: 0, abandonCount: 0, lostDeliveries: 0, consumedUncommitted: 0, lastEpisodeMs: 0, heldUntil: 0 };
}

/** Tasks its history scheduled that have no result yet, counted once per history array. */
export function openTasks(h: HotInstance): number {
  if (h.openTasks?.of !== h.history) h.openTasks = { of: h.history, count: openTaskCount(h.history) };
  return h.openTasks.count;
}

/** The instance's work item is over (completed, given back or revoked). */
export function endWork(h: HotInstance): void {
  h.lease = undefined;
  h.episode = undefined;
  h.batch = undefined;
}

/** Messages waiting as the store has them: committed and not consumed by a committed change. */
export function committedBacklog(h: HotInstance): number {
  return committedInbox(h).length + h.consumedUncommitted;
}

/** The messages an instance may act on: those whose commit is done. */
export function committedInbox(h: HotInstance): InboxMessage[] {
  for (const m of h.inbox) if (m.pending) return h.inbox.filter((x) => !x.pending);
  return h.inbox;
}

/**
 * A sub-orchestration result for the same task as `m` already waits in the instance's inbox, or is
 * in its history (a result sent again after a rewind, when the first one was not dropped after all:
 * across partitions it may reach the parent after the rewind).
 */
export function resultQueued(h: HotInstance, m: { event: HistoryEvent }): boolean {
  const taskId = (m.event.subOrchestrationInstanceCompleted ?? m.event.subOrchestrationInstanceFailed)?.taskScheduledId;
  if (taskId === undefined) return false;
  const same = (e: HistoryEvent) => (e.subOrchestrationInstanceCompleted ?? e.subOrchestrationInstanceFailed)?.taskScheduledId === taskId;
  return h.inbox.some((x) => same(x.event)) || h.history.some(same);
}
