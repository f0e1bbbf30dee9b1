// The cluster as the partition leases describe it: an instance's partition is served here when this
// node holds its lease and has loaded it, by the peer holding the lease otherwise, and by nobody
// while it changes hands (no lease, or held here but still loading).
import { ClusterView, HERE, Placement } from "./cluster-view";
import { Peer } from "./peer-calls";

/** Who holds which partition (the partition keeper). */
export interface PartitionOwnership {
  /** The holder of the partition's lease, as last read (this node while it holds it). */
  ownerOf(hub: string, part: number): Peer | undefined;
  /** The other nodes holding partitions, as last read. */
  peers(): Peer[];
  /** Reads who owns what again now. */
  refreshOwners(): Promise<void>;
  /** Called after each round of lease renewals and moves. */
  on(event: "round", listener: () => void): unknown;
}

/** How the engine lays a hub out in partitions. */
export interface PartitionLayout {
  /** The hub's partition count; undefined for a hub this node does not know. */
  partitions(hub: string): number | undefined;
  partitionOf(instanceId: string, partitions: number): number;
  /** The partition whose dispatcher issued the completion token; undefined if the token does not say. */
  tokenPartition(token: string): number | undefined;
  /** This node has the partition loaded and serving. */
  serving(hub: string, part: number): boolean;
}

/** How often a call waiting for its partition to change hands looks again. */
const SETTLE_MS = 100;

export class LeaseView implements ClusterView {
  private readonly listeners = new Set<() => void>();
  private known = "";
  private ownership?: PartitionOwnership;

  /** `ownership` may come later (attach): the node's address is known once its port is bound; until then nothing is served. */
  constructor(readonly nodeId: string, private readonly layout: PartitionLayout, ownership?: PartitionOwnership) {
    if (ownership) this.attach(ownership);
  }

  attach(ownership: PartitionOwnership): void {
    this.ownership = ownership;
    ownership.on("round", () => this.roundDone());
  }

  locate(hub: string, instanceId: string): Placement {
    const n = this.layout.partitions(hub);
    // A hub this node does not know: its own handler answers (NOT_FOUND, or creates it with --dynamic-hubs).
    return n === undefined ? HERE : this.place(hub, this.layout.partitionOf(instanceId, n));
  }

  locateToken(hub: string, token: string): Placement {
    const part = this.layout.tokenPartition(token);
    // A token this node cannot place: its engine answers (NOT_FOUND for a token it never issued).
    return part === undefined || this.layout.partitions(hub) === undefined ? HERE : this.place(hub, part);
  }

  peers(): Peer[] {
    return this.ownership?.peers() ?? [];
  }

  async settle(): Promise<void> {
    const started = Date.now();
    await this.ownership?.refreshOwners().catch(() => undefined);
    // At most a read every SETTLE_MS per waiting call, however fast the database answers.
    const rest = SETTLE_MS - (Date.now() - started);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  }

  onPeersChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private place(hub: string, part: number): Placement {
    const owner = this.ownership?.ownerOf(hub, part);
    if (!owner) return { moving: true };
    if (owner.nodeId !== this.nodeId) return { peer: owner };
    return this.layout.serving(hub, part) ? HERE : { moving: true };
  }

  /** Tells the listeners when a round changed the set of peers. */
  private roundDone(): void {
    const key = this.peers().map((p) => `${p.nodeId}@${p.address}`).sort().join(",");
    if (key === this.known) return;
    this.known = key;
    for (const l of [...this.listeners]) l();
  }
}
