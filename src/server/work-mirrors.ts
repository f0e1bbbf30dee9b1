// A worker connected to one node receives the work of every partition. Its GetWorkItems stream takes
// the work of this node's partitions, and for each peer the node opens the same stream on the
// worker's behalf (a mirror, with the worker's request, limits and token) and relays what comes.
// Leases stay with the node that made them, bound to the mirror: when the worker goes, the mirrors
// close and the peers put the items back; when a peer goes, its partitions' new owner dispatches
// them again. Completions of relayed items find their way back by token (cluster-routes.ts).
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { log } from "../log/log";
import { ClusterRoutes } from "./cluster-routes";
import { FORWARDED_HEADER, Peer } from "./peer-calls";

type WorkStream = grpc.ServerWritableStream<pb.IGetWorkItemsRequest, pb.IWorkItem>;

/** How long a mirror to a peer that refused or dropped it waits before opening again. */
const REOPEN_MS = 1000;

/** GetWorkItems of `definition`, mirrored to every peer; other handlers as they are. */
export function mirrorWorkItems(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation, routes: ClusterRoutes): grpc.UntypedServiceImplementation {
  const method = definition.GetWorkItems as grpc.MethodDefinition<unknown, unknown>;
  const local = handlers.GetWorkItems as (call: WorkStream) => void;
  return {
    ...handlers,
    GetWorkItems: (call: WorkStream) => {
      local(call);
      // A mirror a peer opened takes only this node's own work.
      if (call.metadata.get(FORWARDED_HEADER).length > 0 || call.cancelled) return;
      new WorkerMirrors(call, method, routes).start();
    },
  };
}

class WorkerMirrors {
  private readonly mirrors = new Map<string, { stream: grpc.ClientReadableStream<unknown>; tokens: Set<string> }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private ended = false;
  private stopWatching = () => {};

  constructor(private readonly call: WorkStream, private readonly method: grpc.MethodDefinition<unknown, unknown>, private readonly routes: ClusterRoutes) {}

  start(): void {
    const end = () => this.end();
    this.call.on("cancelled", end);
    this.call.on("close", end);
    this.call.on("error", end);
    // The worker reads again: let the mirrors flow again.
    this.call.on("drain", () => {
      for (const m of this.mirrors.values()) m.stream.resume();
    });
    this.stopWatching = this.routes.view.onPeersChanged(() => this.sync());
    this.sync();
  }

  /** Opens a mirror to each peer that has none; closes those to peers that left. */
  private sync(): void {
    if (this.ended) return;
    const peers = this.routes.view.peers();
    const live = new Set(peers.map((p) => p.address));
    for (const [address, m] of this.mirrors) {
      if (live.has(address)) continue;
      this.mirrors.delete(address);
      this.forget(m.tokens);
      m.stream.cancel();
    }
    for (const peer of peers) if (!this.mirrors.has(peer.address)) this.open(peer);
  }

  private open(peer: Peer): void {
    const stream = this.routes.peers.stream(peer, this.method, this.call.request, this.call.metadata);
    const mirror = { stream, tokens: new Set<string>() };
    this.mirrors.set(peer.address, mirror);
    stream.on("data", (item: pb.IWorkItem) => {
      const token = item.completionToken;
      if (token) this.routes.relay(token, peer, mirror.tokens);
      // The worker is not keeping up: hold the mirrors until its stream drains.
      if (!this.call.write(item)) for (const m of this.mirrors.values()) m.stream.pause();
    });
    const lost = (err?: grpc.ServiceError) => {
      if (this.mirrors.get(peer.address) !== mirror) return;
      this.mirrors.delete(peer.address);
      this.forget(mirror.tokens);
      if (this.ended) return;
      log.debug(`dts: the work mirror to node ${peer.nodeId} (${peer.address}) ended${err ? `: ${err.details || err.message}` : ""}; opening it again`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.sync();
      }, REOPEN_MS);
      this.timers.add(timer);
    };
    stream.on("error", lost);
    stream.on("end", () => lost());
  }

  /** Tokens of a mirror that ended: its peer has put those items back. */
  private forget(tokens: Set<string>): void {
    for (const t of [...tokens]) this.routes.settled(t);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopWatching();
    for (const t of this.timers) clearTimeout(t);
    for (const m of this.mirrors.values()) {
      this.forget(m.tokens);
      m.stream.cancel();
    }
    this.mirrors.clear();
  }
}
