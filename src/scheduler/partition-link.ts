// How one partition of a task hub reaches the others: which instances it owns, which seqs it may
// use, and the messages it sends them. A message goes into the receiving partition's inbox as a
// store op of the sending change, so it is written in the same commit as the change that sends it;
// the receiver applies it in a change of its own that also deletes it (partition-inbox.ts).
import { HistoryEvent, InstanceRecord, NewMessage, Status } from "../core/model";
import { nextSeq, partitionOf } from "../core/partition";
import { Change } from "./change";

/** What a partition asks of another. Events travel beside the body, as protobuf in the store. */
export type PartitionBody =
  /** Deliver events[0] to an instance's inbox (the receiver's send(), with all its checks). */
  | {
    kind: "send"; instanceId: string; executionId?: string; visibleAt: number;
    /** A lock grant: when its orchestration has ended, these entities are unlocked again. */
    lockSet?: string[];
    /** A sub-orchestration result sent again after a rewind: dropped if one already waits. */
    unlessQueued?: boolean;
  }
  /**
   * Create an orchestration (events[0] is its ExecutionStarted). An existing one is replaced when
   * its status is in `replaceable` (none given: when it is finished); `parent` is told when not.
   */
  | { kind: "start"; instance: InstanceRecord; visibleAt: number; replaceable?: Status[]; keepExisting?: boolean; parent?: { instanceId: string; executionId: string; taskId: number } }
  /** Unlock these entities if `orchestrationId` holds them for this critical section (it has ended, or never will use them). */
  | { kind: "release"; orchestrationId: string; criticalSectionId: string; entities: string[] }
  /** Terminate an instance (and, with `recurse`, its sub-orchestrations). */
  | { kind: "terminate"; instanceId: string; reason?: string; recurse: boolean }
  /** A rewound parent's sub-orchestration: created again (events[0] is its SubOrchestrationInstanceCreated), rewound, or its result sent again. */
  | { kind: "rewindChild"; parent: { instanceId: string; executionId: string; name: string }; instanceId: string; taskId: number };

export class PartitionLink {
  /**
   * `posted`: partitions a change sent messages to, told once it is durable (the in-process wake-up).
   * `finishedHere`: whether an orchestration of a partition this node runs has finished.
   */
  constructor(
    readonly part = 0,
    readonly partitions = 1,
    private readonly posted: (part: number) => void = () => {},
    private readonly finishedHere: (instanceId: string) => boolean = () => false,
  ) {}

  get single(): boolean {
    return this.partitions <= 1;
  }

  partitionOf(instanceId: string): number {
    return partitionOf(instanceId, this.partitions);
  }

  /** This partition holds the instance (always so with one partition). */
  owns(instanceId: string): boolean {
    return this.partitions <= 1 || partitionOf(instanceId, this.partitions) === this.part;
  }

  /**
   * An entity's lock holder of another partition has finished: its end committed the release, which
   * is on its way here as a message, so the lock counts as released already (as clients are shown it).
   */
  releaseUnderway(holder: string): boolean {
    return !this.owns(holder) && this.finishedHere(holder);
  }

  nextSeq(seq: number): number {
    return nextSeq(seq, this.part, this.partitions);
  }

  /** Puts a message for the partition holding `target` into the change. */
  post(hub: string, target: string, body: PartitionBody, events: HistoryEvent[], change: Change): void {
    const part = this.partitionOf(target);
    change.ops.push({ op: "putInbox", hub, part, message: { body, events } });
    change.after.push(() => this.posted(part));
  }

  /** A message to an instance of another partition. */
  send(hub: string, m: NewMessage, change: Change, extra: { lockSet?: string[]; unlessQueued?: boolean } = {}): void {
    this.post(hub, m.instanceId, { kind: "send", instanceId: m.instanceId, executionId: m.executionId, visibleAt: m.visibleAt, ...extra }, [m.event], change);
  }

  /**
   * Releases, in their partitions, the entities of other partitions among `entities` that the
   * orchestration may hold for this critical section: as the local lock index does for this
   * partition's own, at once, not behind the entity's queue.
   */
  release(hub: string, orchestrationId: string, criticalSectionId: string, entities: Iterable<string>, change: Change): void {
    const byPart = new Map<number, string[]>();
    for (const entityId of new Set(entities)) {
      if (this.owns(entityId)) continue;
      const part = this.partitionOf(entityId);
      byPart.set(part, [...(byPart.get(part) ?? []), entityId]);
    }
    for (const [, list] of byPart) this.post(hub, list[0], { kind: "release", orchestrationId, criticalSectionId, entities: list }, [], change);
  }
}

/** The critical sections an orchestration's history asked for, with the entities it has not unlocked since (it may hold any of them). */
export function requestedLocks(history: Iterable<HistoryEvent>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of history) {
    const r = e.entityLockRequested;
    if (r?.criticalSectionId) out.set(r.criticalSectionId, new Set((r.lockSet ?? []).map(String)));
    const u = e.entityUnlockSent;
    if (u?.criticalSectionId) out.get(u.criticalSectionId)?.delete(u.targetInstanceId?.value ?? "");
  }
  return out;
}
