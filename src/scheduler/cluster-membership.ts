// A cluster node's engine under its partition leases: a partition is loaded when its lease is
// acquired and dropped when it is lost, and every commit carries the epochs of the leases of the
// partitions it writes (the store's fence), so a node that lost a lease can never write after the
// next owner loaded it. The node is ready once it has joined (its first round of leases done).
import { LeaseLostError, HubPartitions, PartitionRef } from "../core/leases";
import { partitionOf } from "../core/partition";
import { errorText, log } from "../log/log";
import { StoreOp } from "../store/store";
import { PartitionKeeper } from "./partition-keeper";
import { Scheduler } from "./scheduler";

/**
 * The partitions a batch writes: those of the instances, messages and activities it touches, the
 * inboxes it consumes, and partition 0 for schedules (they run there). Messages put into another
 * partition's inbox are the sender's write, not the receiver's. Seqs of a hub of P partitions are
 * ≡ partition (mod P), so a delete by seq names its partition too.
 */
export function partitionsWritten(ops: readonly StoreOp[], partitionsOf: (hub: string) => number | undefined): PartitionRef[] {
  const out = new Map<string, PartitionRef>();
  const add = (hub: string, part: number) => out.set(`${hub}/${part}`, { hub, part });
  for (const op of ops) {
    const n = partitionsOf(op.hub);
    if (n === undefined) continue;
    const byId = (id: string) => add(op.hub, partitionOf(id, n));
    const bySeq = (seq: number) => add(op.hub, seq % n);
    switch (op.op) {
      case "putInstance": byId(op.instance.instanceId); break;
      case "appendHistory":
      case "replaceHistory":
      case "deleteInstance": byId(op.instanceId); break;
      case "putMessage": byId(op.message.instanceId); break;
      case "deleteMessages": op.seqs.forEach(bySeq); break;
      case "putActivity": byId(op.activity.instanceId); break;
      case "deleteActivity": bySeq(op.seq); break;
      case "deleteInbox": add(op.hub, op.part); break;
      case "putSchedule":
      case "deleteSchedule": add(op.hub, 0); break;
      // Another partition's inbox, the hub's retention policy, the hub itself: no partition's state.
      default: break;
    }
  }
  return [...out.values()];
}

export class ClusterMembership {
  private joined = false;
  /** Partitions being loaded now, as hub/part. */
  private readonly loading = new Set<string>();

  constructor(private readonly scheduler: Scheduler, private readonly keeper: PartitionKeeper) {}

  /** The hubs the keeper shares out: the store's, which this node opens or closes to match first. */
  static hubsFrom(scheduler: Scheduler, stored: () => Promise<Map<string, number>>): () => Promise<HubPartitions[]> {
    return async () => {
      scheduler.adoptHubs(await stored());
      return scheduler.hubNames().flatMap((hub) => {
        const h = scheduler.partitioned(hub);
        return h ? [{ hub, partitions: h.partitions }] : [];
      });
    };
  }

  /** The store's fence for a batch: the claims of the partitions it writes (LeaseLostError when one is not held). */
  fence(ops: readonly StoreOp[]): ReturnType<PartitionKeeper["claims"]> {
    return this.keeper.claims(partitionsWritten(ops, (hub) => this.scheduler.partitioned(hub)?.partitions));
  }

  /**
   * Joins: the first round of leases is taken and the partitions it got are loaded (rejects when the
   * database cannot be used), then rounds go on. A hub created here is shared out at once.
   */
  async start(): Promise<void> {
    const first: Promise<void>[] = [];
    this.keeper.on("acquired", (hub, part) => {
      const loaded = this.load(hub, part);
      if (!this.joined) first.push(loaded);
    });
    this.keeper.on("lost", (hub, part, reason) => {
      this.scheduler.partitioned(hub)?.disown(part, `Partition ${part} of task hub '${hub}' moved to another node (${reason}); retry the call`);
    });
    // Every round, a partition held but not running (its hub was created again, or a load failed) is loaded.
    this.keeper.on("round", () => {
      for (const { hub, part } of this.keeper.heldPartitions()) if (!this.scheduler.partitioned(hub)?.owns(part)) void this.load(hub, part);
    });
    // A round may be under way with the hubs read before: the next one sees the new hub.
    this.scheduler.onHubCreated(() => void this.keeper.tick().then(() => this.keeper.tick()).catch(() => undefined));
    this.scheduler.gateReadiness(() => (this.joined ? undefined : "joining the cluster: the first round of partition leases is not done"));
    await this.keeper.start();
    await Promise.all(first);
    this.joined = true;
  }

  /** SIGTERM: the partitions are dropped, writes in flight finish under their leases, then the leases are handed over at once. */
  stop(): Promise<void> {
    return this.keeper.stop({ release: true });
  }

  /** Loads an acquired partition; gives it up again if the lease went meanwhile; retries a failed load while the lease lasts. */
  private async load(hub: string, part: number): Promise<void> {
    const h = this.scheduler.partitioned(hub);
    const key = `${hub}/${part}`;
    if (!h || this.loading.has(key) || this.keeper.held(hub, part) === undefined) return;
    this.loading.add(key);
    try {
      await h.own(part);
    } catch (err) {
      if (!(err instanceof LeaseLostError)) log.error(`dts: loading partition ${part} of task hub '${hub}' failed (${errorText(err)}); trying again at the next round`, { hub });
      return;
    } finally {
      this.loading.delete(key);
    }
    if (this.keeper.held(hub, part) === undefined) h.disown(part);
  }
}
