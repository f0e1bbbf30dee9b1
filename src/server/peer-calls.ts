// Calls from this node to another node of the cluster: a call whose instance lives in a partition
// another node owns is passed on to that node as the same RPC, with the caller's metadata (task hub,
// bearer token: the owner checks access again) and a hop mark, so a call is never passed on twice.
import * as grpc from "@grpc/grpc-js";
import { clientCredentials } from "../proto/client-credentials";

/** Set on a call one node passes to another: the receiver serves it or refuses it, never passes it on. */
export const FORWARDED_HEADER = "dts-forwarded-by";

/** Another node as its peers reach it. */
export interface Peer {
  nodeId: string;
  /** host:port of its gRPC server (`--advertise`). */
  address: string;
}

export class PeerCalls {
  private readonly clients = new Map<string, grpc.Client>();

  /** `secure`: the nodes serve TLS (the cluster's nodes share one configuration). */
  constructor(private readonly nodeId: string, private readonly secure: boolean) {}

  /** The same unary RPC on the peer; resolves with its answer or rejects with its status. */
  unary(peer: Peer, method: grpc.MethodDefinition<unknown, unknown>, request: unknown, metadata: grpc.Metadata, deadline?: grpc.Deadline): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.client(peer).makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, this.passOn(metadata), { deadline },
        (err, value) => (err ? reject(err) : resolve(value)));
    });
  }

  /** The same server-streaming RPC on the peer (a worker's GetWorkItems, mirrored). */
  stream(peer: Peer, method: grpc.MethodDefinition<unknown, unknown>, request: unknown, metadata: grpc.Metadata): grpc.ClientReadableStream<unknown> {
    return this.client(peer).makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request, this.passOn(metadata));
  }

  /** Closes the connections to peers no longer in the cluster. */
  retain(peers: Peer[]): void {
    const live = new Set(peers.map((p) => p.address));
    for (const [address, client] of this.clients) {
      if (live.has(address)) continue;
      client.close();
      this.clients.delete(address);
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(peer: Peer): grpc.Client {
    let client = this.clients.get(peer.address);
    if (!client) {
      client = new grpc.Client(peer.address, clientCredentials(this.secure), {
        "grpc.max_receive_message_length": -1,
        "grpc.max_send_message_length": -1,
        "grpc.keepalive_time_ms": 30_000,
        "grpc.enable_channelz": 0,
      });
      this.clients.set(peer.address, client);
    }
    return client;
  }

  private passOn(metadata: grpc.Metadata): grpc.Metadata {
    const out = metadata.clone();
    out.set(FORWARDED_HEADER, this.nodeId);
    return out;
  }
}
