// Partition keepers as cluster nodes in one test process, each with its own connection pool, and a
// watch over all of them that records any moment two of them believe they hold the same partition
// or a partition is acquired at an epoch not above the last one.
import { FenceClaim, HubPartitions, partitionKey } from "../../src/core/leases";
import { LeaseLossReason, PartitionKeeper, PartitionKeeperOptions } from "../../src/scheduler/partition-keeper";
import { PostgresLeases } from "../../src/store/postgres-leases";

export interface TestNode {
  id: string;
  keeper: PartitionKeeper;
  leases: PostgresLeases;
  acquired: FenceClaim[];
  lost: { hub: string; part: number; reason: LeaseLossReason }[];
}

export class KeeperCluster {
  readonly nodes: TestNode[] = [];
  readonly violations: string[] = [];
  private readonly lastEpoch = new Map<string, number>();
  private readonly sweep = setInterval(() => this.check(), 5);

  constructor(readonly url: string, private readonly hubs: HubPartitions[], private readonly leaseMs: number) {}

  /** A node joining: its keeper started (its first round done). */
  async start(id: string, options: Partial<PartitionKeeperOptions> & { url?: string } = {}): Promise<TestNode> {
    const leases = PostgresLeases.open(options.url ?? this.url, { leaseMs: this.leaseMs });
    const keeper = new PartitionKeeper(leases, { nodeId: id, address: `${id}:8080`, hubs: () => this.hubs, ...options });
    const node: TestNode = { id, keeper, leases, acquired: [], lost: [] };
    keeper.on("acquired", (hub, part, epoch) => {
      node.acquired.push({ hub, part, epoch });
      const key = partitionKey(hub, part);
      if (epoch <= (this.lastEpoch.get(key) ?? 0)) this.violations.push(`${id} acquired ${key} at epoch ${epoch}, not above ${this.lastEpoch.get(key)}`);
      this.lastEpoch.set(key, epoch);
      this.check();
    });
    keeper.on("lost", (hub, part, reason) => node.lost.push({ hub, part, reason }));
    this.nodes.push(node);
    await keeper.start();
    return node;
  }

  /** How many partitions each node holds now, by node id. */
  shares(): Record<string, number> {
    return Object.fromEntries(this.nodes.map((n) => [n.id, n.keeper.heldPartitions().length]));
  }

  /** Every partition held now, by whom. */
  holders(): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of this.nodes) for (const c of n.keeper.heldPartitions()) out.set(partitionKey(c.hub, c.part), n.id);
    return out;
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    this.check();
    for (const n of this.nodes) {
      await n.keeper.stop({ release: false });
      await n.leases.close();
    }
  }

  /** No partition held by two nodes at once. */
  private check(): void {
    const seen = new Map<string, string>();
    for (const n of this.nodes) {
      for (const c of n.keeper.heldPartitions()) {
        const key = partitionKey(c.hub, c.part);
        const other = seen.get(key);
        if (other !== undefined) this.violations.push(`${key} held by ${other} and ${n.id} at once`);
        seen.set(key, n.id);
      }
    }
  }
}
