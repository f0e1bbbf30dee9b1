// Serving a cluster's calls on any node: a call about an instance is served by the node that owns the
// instance's partition, a completion by the node that leased the work item. This wraps a service's
// handlers (between the access check and the engine): a call this node should serve goes to its own
// handler; one for a peer is passed on as the same RPC and its answer (or status) returned as is.
import { randomUUID } from "crypto";
import * as grpc from "@grpc/grpc-js";
import { SchedulerError } from "../core/errors";
import { DEFAULT_HUB } from "../scheduler/scheduler";
import { ClusterView, Placement } from "./cluster-view";
import { toServiceError } from "./errors";
import { hubName } from "./hub-call";
import { FORWARDED_HEADER, Peer, PeerCalls } from "./peer-calls";
import { RouteKey, routeKeyOf } from "./route-keys";

type UnaryCall = grpc.ServerUnaryCall<any, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
type UnaryHandler = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => void;

/** The longest a call waits for its partition to get an owner (a killed node's leases lapse within about 15 s). */
const MOVE_WAIT_MS = 20_000;

/** Methods that only read: a peer that could not answer one is asked again where the instance is then served. */
const READS = new Set(["GetInstance", "WaitForInstanceStart", "WaitForInstanceCompletion", "WaitForInstance", "GetEntity", "GetOrchestrationRuntimeState"]);

/** grpc-js's words for a call that failed before it was sent: no connection to the peer. */
const NOT_SENT = /No connection established|ECONNREFUSED/;

/** Methods that start an instance: one without an id gets it here, so it can be routed. */
const STARTS = new Set(["StartInstance", "CreateInstance"]);

export class ClusterRoutes {
  /** The peer that leased each work item this node relayed to one of its workers, by completion token (with its mirror's set). */
  private readonly relayed = new Map<string, { peer: Peer; tokens: Set<string> }>();

  constructor(readonly view: ClusterView, readonly peers: PeerCalls) {}

  /** Where a call with this key is served. */
  placement(hub: string, key: RouteKey): Placement {
    if ("instanceId" in key) return this.view.locate(hub, key.instanceId);
    const relayed = this.relayed.get(key.token);
    return relayed ? { peer: relayed.peer } : this.view.locateToken(hub, key.token);
  }

  /**
   * The placement, once it is not "moving": a partition changing hands (its node died, or it is
   * being handed over or loaded) is waited for, up to MOVE_WAIT_MS or the call's deadline.
   */
  private async settledPlacement(hub: string, key: RouteKey, deadline: grpc.Deadline): Promise<Placement> {
    const until = Math.min(Date.now() + MOVE_WAIT_MS, deadlineMs(deadline));
    for (;;) {
      const where = this.placement(hub, key);
      if (!("moving" in where) || Date.now() >= until) return where;
      await this.view.settle();
    }
  }

  /** A work item `peer` leased went to a worker of this node; `tokens`: its mirror's, forgotten with it. */
  relay(token: string, peer: Peer, tokens: Set<string>): void {
    this.relayed.set(token, { peer, tokens });
    tokens.add(token);
  }

  /** The relayed item was completed or given back (or its mirror ended): its token is done with. */
  settled(token: string): void {
    this.relayed.get(token)?.tokens.delete(token);
    this.relayed.delete(token);
  }

  /**
   * Runs `local` when this node serves the call, or passes the call on to the peer that does.
   * A call passed on once is never passed on again: if its partition moved meanwhile, it is refused
   * with UNAVAILABLE and the client retries.
   */
  async serve(method: grpc.MethodDefinition<unknown, unknown>, call: UnaryCall, key: RouteKey, local: () => Promise<unknown>): Promise<unknown> {
    const hub = normalizeHub(hubName(call.metadata));
    const where = await this.settledPlacement(hub, key, call.getDeadline());
    if ("here" in where) return local();
    const what = "instanceId" in key ? `instance '${key.instanceId}'` : "this work item";
    if ("moving" in where) throw unavailable(`The partition of ${what} in task hub '${hub}' is changing nodes; retry shortly`);
    if (call.metadata.get(FORWARDED_HEADER).length > 0) {
      throw unavailable(`The partition of ${what} in task hub '${hub}' moved to another node while this call was passed on; retry`);
    }
    if ("token" in key) return this.peers.unary(where.peer, method, call.request, call.metadata, call.getDeadline()).then((r) => (this.settled(key.token), r));
    return this.forward(method, call, hub, key, where.peer, local);
  }

  /**
   * Passes the call on. A call that never reached the peer (no connection: it is gone) is passed on
   * again wherever the partition is then served, and so is a read the peer could not answer (it
   * died, or its partition moved): reads change nothing, so asking twice is safe. Anything else
   * returns the peer's status: its outcome is unknown, and the client decides.
   */
  private async forward(method: grpc.MethodDefinition<unknown, unknown>, call: UnaryCall, hub: string, key: { instanceId: string }, peer: Peer, local: () => Promise<unknown>): Promise<unknown> {
    const until = Math.min(Date.now() + MOVE_WAIT_MS, deadlineMs(call.getDeadline()));
    for (;;) {
      try {
        return await this.peers.unary(peer, method, call.request, call.metadata, call.getDeadline());
      } catch (err) {
        const e = err as grpc.ServiceError;
        const again = e.code === grpc.status.UNAVAILABLE && (READS.has(method.path.split("/")[2]) || NOT_SENT.test(e.details ?? ""));
        if (!again || Date.now() >= until) throw err;
      }
      await this.view.settle();
      const where = await this.settledPlacement(hub, key, call.getDeadline());
      if ("here" in where) return local();
      if ("moving" in where) throw unavailable(`The partition of instance '${key.instanceId}' in task hub '${hub}' is changing nodes; retry shortly`);
      peer = where.peer;
    }
  }

  /** The service's handlers with routing in front of every routed unary method. */
  wrap(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const routed: grpc.UntypedServiceImplementation = { ...handlers };
    for (const [name, method] of Object.entries(definition)) {
      const service = method.path.split("/")[1];
      const keyOf = routeKeyOf(service, name);
      if (!keyOf || method.responseStream || method.requestStream) continue;
      const handler = handlers[name] as UnaryHandler;
      routed[name] = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => {
        try {
          if (STARTS.has(name) && !call.request.instanceId) call.request.instanceId = randomUUID();
          const key = keyOf(call.request);
          if (!key) return handler(call, callback);
          this.serve(method, call, key, () => localCall(handler, call)).then((r) => callback(null, r), (e) => callback(asStatus(e)));
        } catch (e) {
          callback(toServiceError(e));
        }
      };
    }
    return routed;
  }
}

/** Runs a unary handler and gives its answer as a promise (its error as the status it set). */
export function localCall(handler: UnaryHandler, call: UnaryCall, request?: unknown): Promise<unknown> {
  const c = request === undefined ? call : withRequest(call, request);
  return new Promise((resolve, reject) => handler(c, (err, value) => (err ? reject(err) : resolve(value))));
}

/** The same call with another request: metadata, deadline and cancellation stay the caller's. */
export function withRequest<C extends object>(call: C, request: unknown): C & { request: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  return Object.create(call, { request: { value: request } });
}

function deadlineMs(deadline: grpc.Deadline): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return typeof ms === "number" && isFinite(ms) ? ms : Infinity;
}

function unavailable(message: string): SchedulerError {
  return new SchedulerError("UNAVAILABLE", message);
}

/** A peer's status passes through unchanged; anything else becomes one. */
export function asStatus(e: unknown): Partial<grpc.ServiceError> {
  const s = e as Partial<grpc.ServiceError>;
  return typeof s?.code === "number" && !(e instanceof SchedulerError) ? { code: s.code, details: s.details, metadata: s.metadata } : toServiceError(e);
}

/** Hub names are case-insensitive (as scheduler.ts normalizes them). */
export function normalizeHub(name: string | undefined): string {
  return (name || DEFAULT_HUB).trim().toLowerCase();
}
