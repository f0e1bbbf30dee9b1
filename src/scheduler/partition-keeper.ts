// The node's side of partition ownership: every renewal interval it heartbeats, renews the leases
// it holds, hands over its surplus and takes its fair share of free partitions (core/partition-
// balance.ts), telling the engine through events: `acquired` (load the partition; write with its
// epoch) and `lost` (stop serving and writing it). Each lease also has a LOCAL deadline, on the
// monotonic clock: the start of its last successful renewal + the lease time - a safety margin,
// which is before the database can let anyone else take it. Past it the lease counts as lost here
// whether or not the database answered, so a node cut off from the database stops on its own.
// The commit fence (store/postgres-fence.ts) still refuses any write that races with a takeover.
import { EventEmitter } from "events";
import { FenceClaim, HubPartitions, LeaseLostError, LeaseOwner, PartitionRef, partitionKey } from "../core/leases";
import { balance } from "../core/partition-balance";
import { log } from "../log/log";
import { ClusterNode, LeaseTable, OwnedPartition } from "../store/postgres-leases";

/** Why a lease stopped being held: handed over to balance, refused at renewal, local deadline passed, or the keeper stopped. */
export type LeaseLossReason = "handover" | "moved" | "deadline" | "stopped";

export interface PartitionKeeperOptions {
  nodeId: string;
  /** host:port other nodes reach this node at (--advertise). */
  address: string;
  /** The hubs to share out and their partition counts, read every round. */
  hubs: () => readonly HubPartitions[] | Promise<readonly HubPartitions[]>;
  /** Milliseconds between rounds (default: a third of the lease). */
  renewMs?: number;
  /** How long before the database's expiry a lease counts as lost here (default: a tenth of the lease). */
  safetyMarginMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  clock?: () => number;
  /**
   * Called after `lost` and before partitions are handed over in the database (balance, stop()):
   * the engine's writes of them already in flight can finish under the lease (else the fence
   * refuses them). Rejecting only logs; the handover goes on.
   */
  beforeRelease?: (parts: PartitionRef[]) => Promise<void>;
}

export interface PartitionKeeperEvents {
  acquired: [hub: string, part: number, epoch: number];
  lost: [hub: string, part: number, reason: LeaseLossReason];
  /** A round ended: who owns what and which nodes are live, as just read. */
  round: [];
}

interface Holding extends FenceClaim {
  deadline: number;
}

export class PartitionKeeper extends EventEmitter<PartitionKeeperEvents> {
  private readonly node: ClusterNode;
  private readonly renewMs: number;
  private readonly marginMs: number;
  private readonly clock: () => number;
  private readonly holdings = new Map<string, Holding>();
  /** Other nodes' live leases as last read, for routing. */
  private others = new Map<string, LeaseOwner>();
  private refreshing: Promise<void> | undefined;
  /** The hubs shared out, as the last round read them. */
  private hubs: readonly HubPartitions[] = [];
  private members: readonly ClusterNode[] = [];
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly leases: LeaseTable, private readonly options: PartitionKeeperOptions) {
    super();
    this.node = { nodeId: options.nodeId, address: options.address };
    this.renewMs = options.renewMs ?? Math.max(1, Math.floor(leases.leaseMs / 3));
    this.marginMs = options.safetyMarginMs ?? Math.floor(leases.leaseMs / 10);
    this.clock = options.clock ?? (() => performance.now());
    if (!(this.renewMs >= 1) || !(this.marginMs >= 0)) throw new Error(`the renewal interval (${this.renewMs} ms) must be at least 1 ms and the safety margin (${this.marginMs} ms) not negative`);
    if (this.renewMs + this.marginMs >= leases.leaseMs) throw new Error(`the renewal interval (${this.renewMs} ms) plus the safety margin (${this.marginMs} ms) must be shorter than the lease (${leases.leaseMs} ms)`);
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  /** Joins: the first round (rejects when the database cannot be used), then a round every renewal interval. */
  async start(): Promise<void> {
    await this.tick();
    if (this.stopped) return;
    this.timer = setInterval(() => this.tick().then(() => this.reachable(), (err: Error) => this.unreachable(err)), this.renewMs);
  }

  /** One round now (the one running, if any: rounds never overlap). */
  tick(): Promise<void> {
    this.round ??= this.runRound().finally(() => (this.round = undefined));
    return this.round;
  }

  /** The epoch this node holds the partition at, or undefined (never held, lost, or past its local deadline). */
  held(hub: string, part: number): number | undefined {
    const h = this.holdings.get(partitionKey(hub, part));
    return h && h.deadline > this.clock() ? h.epoch : undefined;
  }

  /** The claim a write of this partition commits with (PostgresStore's fence); LeaseLostError when not held. */
  claim(hub: string, part: number): FenceClaim {
    return this.claims([{ hub, part }])[0];
  }

  /**
   * The claims a write of these partitions commits with, e.g. store.setFence((ops) =>
   * keeper.claims(partitionsOf(ops))); LeaseLostError naming every one not held.
   */
  claims(parts: readonly PartitionRef[]): FenceClaim[] {
    const out: FenceClaim[] = [];
    const lost: PartitionRef[] = [];
    for (const { hub, part } of parts) {
      const epoch = this.held(hub, part);
      if (epoch === undefined) lost.push({ hub, part });
      else out.push({ hub, part, epoch });
    }
    if (lost.length > 0) throw new LeaseLostError(lost);
    return out;
  }

  /** Every partition held now, with its epoch. */
  heldPartitions(): FenceClaim[] {
    const now = this.clock();
    return [...this.holdings.values()].filter((h) => h.deadline > now).map(({ hub, part, epoch }) => ({ hub, part, epoch }));
  }

  /** Who holds the partition, for routing: this node while it holds it, else the owner last read (refreshed every round). */
  ownerOf(hub: string, part: number): LeaseOwner | undefined {
    const epoch = this.held(hub, part);
    if (epoch !== undefined) return { nodeId: this.node.nodeId, address: this.node.address, epoch };
    return this.others.get(partitionKey(hub, part));
  }

  /**
   * Reads who owns the hubs' partitions now, between rounds (a call for a partition that changed
   * hands since the last round waits on this instead of failing). Concurrent callers share one read.
   */
  refreshOwners(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        this.readOthers(await this.leases.owners(this.hubs));
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** The live nodes (this one included once it has beaten) as last read, by id: where work and calls can be forwarded. */
  liveNodes(): readonly ClusterNode[] {
    return this.members;
  }

  /**
   * Leaves: no more rounds; every lease counts as lost here (`lost` with "stopped"), and with
   * `release` (the default, SIGTERM) they are handed over in the database at once and the node is
   * marked leaving. Without it they lapse at their expiry, as when the process dies.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.deadlineTimer);
    await this.round?.catch(() => {});
    const held = [...this.holdings.values()];
    for (const h of held) this.drop(h, "stopped");
    if (options.release ?? true) {
      await this.beforeRelease(held);
      await this.leases.leave(this.node.nodeId).catch((err) => log.warning(`dts: node ${this.node.nodeId} could not hand its partitions over (they lapse in ${this.leases.leaseMs / 1000} s): ${(err as Error).message}`));
    }
  }

  /** One line when rounds start failing and one when they work again, not one per round. */
  private unreachable(err: Error): void {
    if (this.failing) return;
    this.failing = true;
    log.warning(`dts: node ${this.node.nodeId} cannot renew its partition leases (${err.message}); retrying every ${this.renewMs} ms, and each lease counts as lost here at its deadline`);
  }

  private reachable(): void {
    if (!this.failing) return;
    this.failing = false;
    log.info(`dts: node ${this.node.nodeId} renews its partition leases again`);
  }

  private async runRound(): Promise<void> {
    if (this.stopped) return;
    const me = this.node.nodeId;
    const started = this.clock();
    await this.leases.heartbeat(this.node);
    const held = this.heldPartitions();
    const refused = new Set((await this.leases.renew(me, held)).map((c) => partitionKey(c.hub, c.part)));
    for (const c of held) {
      const h = this.holdings.get(partitionKey(c.hub, c.part));
      if (h?.epoch !== c.epoch) continue; // given up meanwhile (its deadline passed): never resumed
      if (refused.has(partitionKey(c.hub, c.part))) this.drop(h, "moved");
      else h.deadline = started + this.leases.leaseMs - this.marginMs;
    }
    this.armDeadline();
    if (this.stopped) return;

    const hubs = await this.options.hubs();
    this.hubs = hubs;
    const nodes = await this.leases.liveNodes();
    this.members = nodes;
    const owned = await this.leases.owners(hubs);
    // Leases the database still gives this node but it does not hold (given up at their deadline
    // while the database was out of reach): handed over, never resumed, as an epoch is held once.
    const stale = owned.filter((o) => o.nodeId === me && this.holdings.get(partitionKey(o.hub, o.part))?.epoch !== o.epoch);
    const live = owned.filter((o) => !stale.includes(o));
    const plan = balance({ me, nodes: nodes.map((n) => n.nodeId), hubs, owners: new Map(live.map((o) => [partitionKey(o.hub, o.part), o.nodeId])) });
    // Partitions of hubs that are gone or smaller go too.
    const size = new Map(hubs.map((h) => [h.hub, h.partitions]));
    const orphaned = [...this.holdings.values()].filter((h) => !(h.part < (size.get(h.hub) ?? 0)));
    const handover = [...plan.release, ...orphaned];
    for (const p of handover) this.drop(p, "handover");
    await this.beforeRelease(handover);
    await this.leases.release(me, [...stale, ...handover]);

    const acquiredAt = this.clock();
    const got = await this.leases.acquire(me, plan.acquire);
    if (this.stopped) {
      await this.leases.release(me, got);
      return;
    }
    for (const c of got) this.holdings.set(partitionKey(c.hub, c.part), { ...c, deadline: acquiredAt + this.leases.leaseMs - this.marginMs });
    this.readOthers(live);
    for (const c of got) this.others.delete(partitionKey(c.hub, c.part));
    this.armDeadline();
    for (const c of got) this.emit("acquired", c.hub, c.part, c.epoch);
    this.emit("round");
  }

  /** Remembers the other nodes' leases, for routing. */
  private readOthers(owned: readonly OwnedPartition[]): void {
    const me = this.node.nodeId;
    this.others = new Map(owned.filter((o) => o.nodeId !== me).map((o) => [partitionKey(o.hub, o.part), { nodeId: o.nodeId, address: o.address, epoch: o.epoch }]));
  }

  private async beforeRelease(held: readonly PartitionRef[]): Promise<void> {
    if (held.length === 0 || !this.options.beforeRelease) return;
    await this.options.beforeRelease(held.map(({ hub, part }) => ({ hub, part }))).catch((err: Error) => log.warning(`dts: node ${this.node.nodeId}: finishing writes before handing partitions over failed: ${err.message}`));
  }

  private drop(p: PartitionRef, reason: LeaseLossReason): void {
    if (!this.holdings.delete(partitionKey(p.hub, p.part))) return;
    this.emit("lost", p.hub, p.part, reason);
  }

  /** A timer at the earliest local deadline, which gives up every lease past its own. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    if (this.stopped || this.holdings.size === 0) return;
    const next = Math.min(...[...this.holdings.values()].map((h) => h.deadline));
    this.deadlineTimer = setTimeout(() => {
      const now = this.clock();
      for (const h of [...this.holdings.values()]) if (h.deadline <= now) this.drop(h, "deadline");
      this.armDeadline();
    }, Math.max(0, next - this.clock()));
  }
}
