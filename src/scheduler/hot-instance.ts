// An instance (orchestration or entity) held in memory while it has work: its record, history,
// waiting messages and dispatch bookkeeping. `rec`, `history` and `inbox` run ahead of the store
// while a change is being committed; `committed` and the messages' `pending` flag say what is
// durable, and only that is read by clients. A message is dispatched once it is no longer `held`:
// when its change is durable, or sooner when that change is a worker's completion (hub-commit.ts).
import { HistoryEvent, InstanceRecord, MessageRecord } from "../core/model";
import { taskBalance } from "../core/result-batching";
import { Lease } from "./dispatcher";

/** A message in an inbox; `pending` until the change that sent it is committed, `held` until it may be dispatched. */
export type InboxMessage = MessageRecord & { pending?: boolean; held?: boolean };

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
  /** openTasks' balance as of one history array (appending makes a new one, extending it). */
  openTasks?: { of: HistoryEvent[]; balance: number };
}

/** A hot instance; `durable` when its record and history come from the store. */
export function hotInstance(rec: InstanceRecord, history: HistoryEvent[] = [], durable = false): HotInstance {
  return { rec, history, inbox: [], committed: durable ? { rec, history } : undefined, queued: false, notBefore: 0, abandonCount: 0, lostDeliveries: 0, consumedUncommitted: 0, lastEpisodeMs: 0, heldUntil: 0 };
}

/** Tasks its history scheduled that have no result yet; after an append only the new events are counted. */
export function openTasks(h: HotInstance): number {
  const last = h.openTasks;
  if (last?.of !== h.history) {
    const n = last?.of.length ?? 0;
    const extends_ = last !== undefined && n > 0 && h.history.length >= n && h.history[n - 1] === last.of[n - 1];
    h.openTasks = { of: h.history, balance: extends_ ? last.balance + taskBalance(h.history, n) : taskBalance(h.history) };
  }
  return Math.max(0, h.openTasks!.balance);
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

/** The messages the store has: those whose commit is done. */
export function committedInbox(h: HotInstance): InboxMessage[] {
  for (const m of h.inbox) if (m.pending) return h.inbox.filter((x) => !x.pending);
  return h.inbox;
}

/** The messages a worker may be given. */
export function dispatchableInbox(h: HotInstance): InboxMessage[] {
  for (const m of h.inbox) if (m.held) return h.inbox.filter((x) => !x.held);
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
