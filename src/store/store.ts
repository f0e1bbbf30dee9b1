// The persistence interface every store implements (memory, sqlite). Synchronous on purpose: the
// scheduler groups many changes into one commit() call, which the store applies atomically.
import { ActivityRecord, HistoryEvent, InstanceRecord, MessageRecord, Status } from "../core/model";
import { RetentionPolicy } from "../core/retention";
import { ScheduleRecord } from "../core/schedule";

/** One change in a commit batch. E is how events travel: objects, or protobuf bytes (encoded-batch.ts). */
export type StoreOp<E = HistoryEvent> =
  | { op: "putInstance"; hub: string; instance: InstanceRecord }
  /** Appends events to the history; `from` is the index the first one takes (the history's old length). */
  | { op: "appendHistory"; hub: string; instanceId: string; from: number; events: E[] }
  | { op: "replaceHistory"; hub: string; instanceId: string; events: E[] }
  | { op: "putMessage"; hub: string; message: MessageRecord<E> }
  | { op: "deleteMessages"; hub: string; seqs: number[] }
  | { op: "putActivity"; hub: string; activity: ActivityRecord }
  | { op: "deleteActivity"; hub: string; seq: number }
  /** Removes the instance with its history, messages and activities. */
  | { op: "deleteInstance"; hub: string; instanceId: string }
  /** Sets the hub's own retention policy (core/retention.ts); none: the scheduler's applies. */
  | { op: "setRetention"; hub: string; policy?: RetentionPolicy }
  /** Creates or replaces the hub's schedule of that id. */
  | { op: "putSchedule"; hub: string; schedule: ScheduleRecord }
  | { op: "deleteSchedule"; hub: string; scheduleId: string }
  /**
   * Creates the hub if missing, with its partition count (default 1; fixed for the hub's life).
   * Ordered with the hub's other writes, so a create after a delete wins.
   */
  | { op: "createHub"; hub: string; partitions?: number }
  /** Puts a message into the inbox of partition `part` of the hub (a partition writes to another's). */
  | { op: "putInbox"; hub: string; part: number; message: PartitionMessage<E> }
  /** Deletes inbox rows of partition `part` once applied; the batch fails unless every one is still there (exactly once). */
  | { op: "deleteInbox"; hub: string; part: number; ids: number[] }
  /** Deletes the hub and everything in it; writes queued before it are applied first. */
  | { op: "deleteHub"; hub: string };

/**
 * A message from one partition of a hub to another: `body` is what the engine means by it (plain
 * JSON, opaque to the store), `events` the history events it carries, which the store keeps as
 * protobuf bytes as it does every event.
 */
export interface PartitionMessage<E = HistoryEvent> {
  body: unknown;
  events: E[];
}

/** One row of a partition's inbox: ids grow within the hub, in the order the rows were written. */
export interface InboxEntry {
  id: number;
  message: PartitionMessage;
}

/** What the scheduler loads at start-up to rebuild its hot state for one hub (or one partition of it). */
export interface HubSnapshot {
  /** Every instance that is not terminal, or that has messages waiting. */
  instances: { instance: InstanceRecord; history: HistoryEvent[] }[];
  messages: MessageRecord[];
  activities: ActivityRecord[];
  /** The hub's schedules, each with where it stands. */
  schedules: ScheduleRecord[];
  /** Largest seq used by messages and activities in the whole hub, every partition (0 when none). */
  maxSeq: number;
  /** The hub's partition count when more than 1 (absent: 1). */
  partitions?: number;
  /** The hub's own retention policy, when one was set. */
  retention?: RetentionPolicy;
}

export interface InstanceFilter {
  statuses?: Status[];
  createdFrom?: number;
  createdTo?: number;
  completedFrom?: number;
  completedTo?: number;
  instanceIdPrefix?: string;
  /** The orchestration's name, exactly. */
  name?: string;
  /** The orchestration's version, exactly; "" selects instances without one. */
  version?: string;
  /** Only sub-orchestrations of this instance. */
  parentInstanceId?: string;
  /** Only instances that are not sub-orchestrations. */
  topLevelOnly?: boolean;
  /** Only instances carrying this tag with this value. */
  tag?: { key: string; value: string };
}

/** One page of a listing by position (the dashboard's pages), not by continuation token. */
export interface InstanceListing {
  /** Newest first (createdAt descending, then instanceId descending) or oldest first. */
  newestFirst: boolean;
  offset: number;
  limit: number;
}

export interface InstancePage {
  instances: InstanceRecord[];
  /** Opaque; pass back to get the next page. Undefined when there is none. */
  continuationToken?: string;
}

/**
 * A store speaks in a hub's state and its changes, never in queries of its own engine: load() gives
 * the state the scheduler keeps hot, commit() writes changes (StoreOps) atomically. That is the
 * seam where a partitioned store would load and write one slice of a hub's instances instead.
 */
export interface Store {
  readonly kind: "memory" | "sqlite";
  listHubs(): string[];
  /** Creates the hub if missing, with `partitions` (default 1; only PostgreSQL and memory stores take more). */
  createHub(hub: string, partitions?: number): void;
  /** Deletes the hub and everything in it. */
  deleteHub(hub: string): void;
  /** The hub's hot state; with `part`, only the slice of that partition (instances whose partitionOf is `part`). */
  load(hub: string, part?: number): HubSnapshot;
  /** The oldest `limit` rows of the partition's inbox, by id. */
  readInbox(hub: string, part: number, limit: number): InboxEntry[];
  /** Applies all ops atomically, in order: all or nothing. Throws on failure. */
  commit(ops: StoreOp[]): void;
  /**
   * The same off the caller's thread, when the store can: resolves once durable. Callers keep at
   * most one in flight, so batches still apply in order. May resolve with the milliseconds its
   * transaction's commit (the sync to disk) took, for the fsync metric.
   */
  commitAsync?(ops: StoreOp[]): Promise<number | void>;
  getInstance(hub: string, instanceId: string): InstanceRecord | undefined;
  getHistory(hub: string, instanceId: string): HistoryEvent[];
  /** Ordered by (createdAt, instanceId). pageSize <= 0 means a default of 100; at most 1000 (MAX_PAGE_SIZE) per page. */
  queryInstances(hub: string, filter: InstanceFilter, pageSize: number, continuationToken?: string): InstancePage;
  /** Ordered by instanceId; `after` is the last id of the previous page. Page sizes as for queryInstances. */
  listInstanceIds(hub: string, filter: InstanceFilter, pageSize: number, after?: string): { ids: string[]; last?: string };
  /** A page by position, without payloads (input, output, custom status), at most MAX_PAGE_SIZE rows. */
  listInstances(hub: string, filter: InstanceFilter, listing: InstanceListing): InstanceRecord[];
  /** How many instances match the filter, per status. */
  countByStatus(hub: string, filter: InstanceFilter): Map<Status, number>;
  /** Ids of every instance matching the filter (for purge by filter). */
  findInstanceIds(hub: string, filter: InstanceFilter, limit: number): string[];
  /** Closes the store; waits for a writer thread to finish when there is one. */
  close(): void | Promise<void>;
  /** Resolves once the store can write (its writer thread opened the database); rejects if it cannot. */
  ready?(): Promise<void>;
  /** Calls the listener once if the store loses the ability to write (its writer thread died). */
  onFatal?(listener: (err: StoreFatalError) => void): void;
}

/** The calls every store answers, whatever its engine. */
type StoreCall = "listHubs" | "createHub" | "deleteHub" | "load" | "readInbox" | "commit" | "getInstance" | "getHistory" | "queryInstances" | "listInstanceIds" | "listInstances" | "countByStatus" | "findInstanceIds";

/**
 * The Store's calls as a store behind a network connection answers them (PostgreSQL): the same
 * arguments and results, each a promise. The shared store suite runs every store through this shape.
 */
export type AsyncStore = { readonly kind: Store["kind"] | "postgres"; close(): Promise<void> } & {
  [K in StoreCall]: (...args: Parameters<Store[K]>) => Promise<ReturnType<Store[K]>>;
};

/**
 * A store the engine runs on: one that answers at once (memory, SQLite), or one that answers through
 * promises (PostgreSQL), which then also commits off the event loop.
 */
export type EngineStore = Store | (AsyncStore & {
  readonly kind: "postgres";
  commitAsync(ops: StoreOp[]): Promise<number | void>;
  /** Calls the listener when another process wrote to a partition's inbox; resolves with how to stop. */
  onInbox?(listener: (hub: string, part: number) => void): Promise<() => Promise<void>>;
  /** Every hub with its partition count (a cluster node learns of hubs other nodes created or deleted). */
  hubPartitions?(): Promise<Map<string, number>>;
});

export function isAsyncStore(store: EngineStore): store is Exclude<EngineStore, Store> {
  return store.kind === "postgres";
}

/** The store can no longer write at all (writer thread gone, database unopenable): stop, do not retry. */
export class StoreFatalError extends Error {}

/** Thrown for a continuation token the store did not issue. */
export class InvalidContinuationTokenError extends Error {}
