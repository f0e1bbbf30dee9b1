// A `dts serve` on PostgreSQL is a node of a cluster (of one, until others join the same database):
// its partition keeper takes its share of every hub's partitions, its engine loads and drops them
// as the leases come and go, every commit is fenced on their epochs, and the gRPC edge routes calls
// and work by who owns what (the lease view).
import { partitionOf } from "../core/partition";
import { ClusterMembership } from "../scheduler/cluster-membership";
import { tokenPartition } from "../scheduler/dispatcher";
import { PartitionKeeper } from "../scheduler/partition-keeper";
import { Scheduler } from "../scheduler/scheduler";
import { PostgresLeases } from "../store/postgres-leases";
import { PostgresStore } from "../store/postgres-store";
import { LeaseView } from "./lease-view";

/** A node of a cluster on PostgreSQL (--node-id, --advertise, --lease-seconds). */
export interface ClusterNodeSettings {
  nodeId: string;
  /** host:port, or a host alone (the port bound is added), that other nodes reach this node's gRPC port at; undefined: this machine's host name. */
  advertise: string | undefined;
  leaseMs: number;
}

export interface ClusterNode {
  readonly view: LeaseView;
  /** Joins once the gRPC port is bound (its address is what peers are told). */
  join(port: number, hostName: string): Promise<void>;
  /** SIGTERM: the partitions handed over at once, after writes in flight finish. */
  leave(): Promise<void>;
}

export function clusterNode(scheduler: Scheduler, store: PostgresStore, url: string, settings: ClusterNodeSettings): ClusterNode {
  const view = new LeaseView(settings.nodeId, {
    partitions: (hub) => {
      // The hub as the call's handler would find it: created on first use with --dynamic-hubs.
      try {
        scheduler.hub(hub);
      } catch {
        return undefined; // the handler gives the same answer (NOT_FOUND, UNAVAILABLE)
      }
      return scheduler.partitioned(hub)?.partitions;
    },
    partitionOf,
    tokenPartition,
    serving: (hub, part) => scheduler.partitioned(hub)?.owns(part) ?? false,
  });
  let leases: PostgresLeases | undefined;
  let membership: ClusterMembership | undefined;
  return {
    view,
    async join(port, hostName) {
      leases = PostgresLeases.open(url, { leaseMs: settings.leaseMs });
      const keeper = new PartitionKeeper(leases, {
        nodeId: settings.nodeId,
        address: advertised(settings.advertise, hostName, port),
        hubs: ClusterMembership.hubsFrom(scheduler, () => store.hubPartitions()),
        // Changes already queued commit under the leases they were made under.
        beforeRelease: () => scheduler.committer.flush(),
      });
      const m = new ClusterMembership(scheduler, keeper);
      membership = m;
      store.setFence((ops) => m.fence(ops));
      view.attach({
        ownerOf: (hub, part) => keeper.ownerOf(hub, part),
        peers: () => keeper.liveNodes().filter((n) => n.nodeId !== settings.nodeId),
        refreshOwners: () => keeper.refreshOwners(),
        on: (event, listener) => keeper.on(event, listener),
      });
      try {
        await m.start();
      } catch (err) {
        await leases.close();
        throw new Error(`this node could not join the cluster on PostgreSQL: ${(err as Error).message}`);
      }
    },
    async leave() {
      await membership?.stop();
      await leases?.close();
    },
  };
}

/** The address peers reach this node at: --advertise, with the bound port when it names a host alone. */
export function advertised(advertise: string | undefined, hostName: string, port: number): string {
  if (advertise === undefined) return `${hostName}:${port}`;
  return /:\d+$/.test(advertise) && !/^\[[^\]]*\]$/.test(advertise) ? advertise : `${advertise}:${port}`;
}
