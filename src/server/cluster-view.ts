// What the gRPC edge needs to know of the cluster: which node serves an instance's partition, where
// a work item was leased, and which other nodes there are. The partition leases (PostgreSQL) answer;
// a single node, or a store that cannot be shared, answers "here" for everything.
import { Peer } from "./peer-calls";

/** Where something is served: on this node, on a peer, or nowhere at this moment (its partition is changing hands). */
export type Placement = { here: true } | { peer: Peer } | { moving: true };

export const HERE: Placement = { here: true };

export interface ClusterView {
  readonly nodeId: string;
  /** The placement of the partition that holds the instance (hub name normalized). */
  locate(hub: string, instanceId: string): Placement;
  /** The placement of the partition whose work item this completion token leased, as the token tells. */
  locateToken(hub: string, token: string): Placement;
  /** The other live nodes. */
  peers(): Peer[];
  /**
   * Resolves once placements may have changed: who owns what was read again, or a short pause
   * passed (a partition loading here). A call whose partition is changing hands waits on this.
   */
  settle(): Promise<void>;
  /** Calls the listener whenever the set of peers changes; returns what stops it. */
  onPeersChanged(listener: () => void): () => void;
}
