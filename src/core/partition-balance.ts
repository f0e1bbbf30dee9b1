// Which partitions this node should take or hand over so that every live node holds a fair share:
// per hub, each node floor(P/N) partitions and the first P mod N nodes one more. Nodes decide alone
// from the same view of the lease table, so the rule must make them agree and move little:
// - the extra partitions go to the nodes that already hold the most (ties: node order, rotated per
//   hub so that one node does not get every hub's extra), so a node at its share never gives one up;
// - a node takes only free partitions (no live owner) and hands over only its surplus: a newly
//   joined node gets what the loaded ones release, nothing is taken from a live holder;
// - a node over its share always has someone under theirs to take the surplus (the shares sum to P).
// Two nodes reaching for the same free partition is settled by the lease table (one acquire wins).
import { HubPartitions, PartitionRef, partitionKey } from "./leases";

export interface BalanceView {
  /** This node's id. */
  me: string;
  /** The live nodes' ids (this node is counted whether listed or not). */
  nodes: readonly string[];
  hubs: readonly HubPartitions[];
  /** The live owner of each held partition by partitionKey(); a partition not in it is free. */
  owners: ReadonlyMap<string, string>;
}

export interface BalancePlan {
  acquire: PartitionRef[];
  release: PartitionRef[];
}

export function balance(view: BalanceView): BalancePlan {
  const nodes = [...new Set([...view.nodes, view.me])].sort();
  const plan: BalancePlan = { acquire: [], release: [] };
  const hubs = [...view.hubs].sort((a, b) => (a.hub < b.hub ? -1 : a.hub > b.hub ? 1 : 0));
  hubs.forEach(({ hub, partitions }, hubIndex) => {
    const mine: number[] = [];
    const free: number[] = [];
    const counts = new Map(nodes.map((n) => [n, 0]));
    for (let part = 0; part < partitions; part++) {
      const owner = view.owners.get(partitionKey(hub, part));
      if (owner === undefined) free.push(part);
      else if (counts.has(owner)) counts.set(owner, counts.get(owner)! + 1);
      if (owner === view.me) mine.push(part);
    }
    const share = shareOf(view.me, nodes, counts, partitions, hubIndex);
    if (mine.length > share) {
      for (const part of mine.slice(share)) plan.release.push({ hub, part });
    } else if (mine.length < share && free.length > 0) {
      // Start where this node's slice of the ring begins, so nodes joining at once reach for different partitions.
      const start = Math.floor((nodes.indexOf(view.me) * partitions) / nodes.length);
      const order = [...free.filter((p) => p >= start), ...free.filter((p) => p < start)];
      for (const part of order.slice(0, share - mine.length)) plan.acquire.push({ hub, part });
    }
  });
  return plan;
}

/** How many of the hub's partitions `me` should hold: floor(P/N), plus one for the nodes ranked first. */
function shareOf(me: string, nodes: string[], counts: Map<string, number>, partitions: number, hubIndex: number): number {
  const n = nodes.length;
  const extra = partitions % n;
  const turn = (node: string) => (nodes.indexOf(node) - (hubIndex % n) + n) % n;
  const ranked = [...nodes].sort((a, b) => counts.get(b)! - counts.get(a)! || turn(a) - turn(b));
  return Math.floor(partitions / n) + (ranked.indexOf(me) < extra ? 1 : 0);
}
