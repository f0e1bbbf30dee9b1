// The lease view's placements: here only while this node holds the lease AND serves the partition,
// the holder otherwise, nobody without a lease; tokens placed by the partition they name; listeners
// told only when a round changed the set of peers.
import { EventEmitter } from "events";
import { LeaseView, PartitionLayout, PartitionOwnership } from "../../src/server/lease-view";
import { Peer } from "../../src/server/peer-calls";

class Leases extends EventEmitter implements PartitionOwnership {
  readonly nodeId = "me";
  owners = new Map<number, Peer>();
  ownerOf(_hub: string, part: number): Peer | undefined {
    return this.owners.get(part);
  }
  refreshOwners(): Promise<void> {
    return Promise.resolve();
  }
  peers(): Peer[] {
    const out = new Map<string, Peer>();
    for (const p of this.owners.values()) if (p.nodeId !== this.nodeId) out.set(p.nodeId, p);
    return [...out.values()];
  }
}

const me: Peer = { nodeId: "me", address: "me:8080" };
const other: Peer = { nodeId: "other", address: "other:8080" };
const serving = new Set<number>();
const layout: PartitionLayout = {
  partitions: (hub) => (hub === "default" ? 4 : undefined),
  partitionOf: (id) => Number(id.slice(-1)) % 4,
  tokenPartition: (token) => (token.startsWith("p") ? Number(token[1]) : undefined),
  serving: (_hub, part) => serving.has(part),
};

test("placements follow the leases, and a partition held here is served here only once loaded", () => {
  const leases = new Leases();
  const view = new LeaseView("me", layout, leases);
  leases.owners.set(1, me).set(2, other);
  expect(view.locate("default", "x1")).toEqual({ moving: true }); // held, still loading
  serving.add(1);
  expect(view.locate("default", "x1")).toEqual({ here: true });
  expect(view.locate("default", "x2")).toEqual({ peer: other });
  expect(view.locate("default", "x3")).toEqual({ moving: true }); // no lease
  expect(view.locate("unknown-hub", "x2")).toEqual({ here: true }); // the local handler answers NOT_FOUND
  expect(view.locateToken("default", "p2-17")).toEqual({ peer: other });
  expect(view.locateToken("default", "p1-3")).toEqual({ here: true });
  expect(view.locateToken("default", "not-ours")).toEqual({ here: true });
});

test("peer listeners hear of a changed set of peers once per change", () => {
  const leases = new Leases();
  const view = new LeaseView("me", layout, leases);
  let told = 0;
  const stop = view.onPeersChanged(() => told++);
  leases.owners.set(0, me);
  leases.emit("round");
  expect(told).toBe(0);
  leases.owners.set(2, other);
  leases.emit("round");
  leases.emit("round");
  expect(told).toBe(1);
  expect(view.peers()).toEqual([other]);
  leases.owners.delete(2);
  leases.emit("round");
  expect(told).toBe(2);
  stop();
  leases.owners.set(3, other);
  leases.emit("round");
  expect(told).toBe(2);
});
