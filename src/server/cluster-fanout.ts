// Calls about a whole hub in a cluster, where each node holds only some partitions: metrics, entity
// queries and clean-ups, worker drains and purges of many instances. The receiving node asks every
// peer too (marked as passed on, so they answer for themselves only) and combines the answers;
// purges of many instances are split by the owner of each instance's partition.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { Scheduler } from "../scheduler/scheduler";
import { asStatus, ClusterRoutes, localCall, normalizeHub } from "./cluster-routes";
import { hubName } from "./hub-call";
import { FORWARDED_HEADER, Peer } from "./peer-calls";
import { purgeFilter } from "./purge-filter";

import b = pb.durabletask.protos.backend.v1;

type UnaryCall = grpc.ServerUnaryCall<any, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
type UnaryHandler = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => void;
/** Combines this node's answer with its peers'. */
type Combine = (answers: any[], request: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

const sum = (values: (number | null | undefined)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0);

function metrics(answers: b.IGetMetricsResponse[]): b.IGetMetricsResponse {
  const kind = (pick: (m: b.IBackendMetrics) => b.IWorkItemMetrics | null | undefined): b.IWorkItemMetrics => {
    const all = answers.map((a) => pick(a.metrics ?? {}) ?? {});
    return {
      pending: sum(all.map((k) => k.pending)), active: sum(all.map((k) => k.active)), waitingForWorker: sum(all.map((k) => k.waitingForWorker)),
      oldestAgeInSeconds: Math.max(0, ...all.map((k) => k.oldestAgeInSeconds ?? 0)),
    };
  };
  return {
    metrics: {
      orchestratorWorkItems: kind((m) => m.orchestratorWorkItems), activityWorkItems: kind((m) => m.activityWorkItems), entityWorkItems: kind((m) => m.entityWorkItems),
      connectedWorkers: { count: sum(answers.map((a) => a.metrics?.connectedWorkers?.count)) },
    },
  };
}

/** Each node's page of entities after the same key, merged in id order and cut to one page. */
function entityPages(answers: pb.IQueryEntitiesResponse[], req: pb.IQueryEntitiesRequest): pb.IQueryEntitiesResponse {
  const all = answers.flatMap((a) => a.entities ?? []).sort((x, y) => ((x.instanceId ?? "") < (y.instanceId ?? "") ? -1 : 1));
  // Every node cut its answer to the same page size; none had more than its longest answer.
  const size = req.query?.pageSize?.value || Math.max(0, ...answers.map((a) => a.entities?.length ?? 0));
  const page = all.slice(0, size);
  const more = all.length > page.length || answers.some((a) => a.continuationToken?.value);
  return { entities: page, continuationToken: more && page.length > 0 ? { value: page[page.length - 1].instanceId ?? "" } : undefined };
}

const clean = (answers: pb.ICleanEntityStorageResponse[]): pb.ICleanEntityStorageResponse => ({
  emptyEntitiesRemoved: sum(answers.map((a) => a.emptyEntitiesRemoved)),
  orphanedLocksReleased: sum(answers.map((a) => a.orphanedLocksReleased)),
});

const FAN_OUT: Record<string, Combine> = {
  GetMetrics: metrics,
  QueryEntities: entityPages,
  CleanEntityStorage: clean,
  BeginWorkerDrain: (answers: b.IBeginWorkerDrainResponse[]) => ({ workerFound: answers.some((a) => a.workerFound) }),
};

/** The service's hub-wide methods answered for the whole cluster; the rest as they are. */
export function fanOutService(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation, routes: ClusterRoutes, scheduler: Scheduler): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...handlers };
  for (const [name, method] of Object.entries(definition)) {
    const handler = handlers[name] as UnaryHandler;
    const combine = FAN_OUT[name];
    if (combine) {
      out[name] = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => {
        if (forwarded(call)) return handler(call, callback);
        const peers = routes.view.peers();
        Promise.all([localCall(handler, call), ...peers.map((p) => routes.peers.unary(p, method, call.request, call.metadata, call.getDeadline()))])
          .then((answers) => callback(null, combine(answers, call.request)), (e) => callback(asStatus(e)));
      };
    } else if (name === "PurgeInstances") {
      out[name] = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => {
        const req = call.request as pb.IPurgeInstancesRequest;
        // One id was routed already (route-keys.ts); a call passed on is this node's share.
        if (req.instanceId || forwarded(call)) return handler(call, callback);
        purgeAcross(routes, scheduler, method, handler, call).then((n) => callback(null, { deletedInstanceCount: n, isComplete: { value: true } }), (e) => callback(asStatus(e)));
      };
    }
  }
  return out;
}

/** A batch or filter purge: the ids, grouped by the node that owns each one's partition, purged there. */
async function purgeAcross(routes: ClusterRoutes, scheduler: Scheduler, method: grpc.MethodDefinition<unknown, unknown>, handler: UnaryHandler, call: UnaryCall): Promise<number> {
  const req = call.request as pb.IPurgeInstancesRequest;
  const hub = normalizeHub(hubName(call.metadata));
  const purge = async (ids: string[]) => {
    const groups = new Map<string, { peer?: Peer; ids: string[] }>();
    for (const id of ids) {
      const where = routes.placement(hub, { instanceId: id });
      if ("moving" in where) throw Object.assign(new Error(), { code: grpc.status.UNAVAILABLE, details: `The partition of instance '${id}' is changing nodes; retry shortly` });
      const key = "peer" in where ? where.peer.address : "";
      const g = groups.get(key) ?? { peer: "peer" in where ? where.peer : undefined, ids: [] };
      g.ids.push(id);
      groups.set(key, g);
    }
    const answers = await Promise.all([...groups.values()].map((g) => {
      const part: pb.IPurgeInstancesRequest = { instanceBatch: { instanceIds: g.ids }, recursive: req.recursive };
      return (g.peer ? routes.peers.unary(g.peer, method, part, call.metadata, call.getDeadline()) : localCall(handler, call, part)) as Promise<pb.IPurgeInstancesResponse>;
    }));
    return sum(answers.map((a) => a.deletedInstanceCount));
  };
  if (req.instanceBatch) return purge(req.instanceBatch.instanceIds ?? []);
  const f = req.purgeInstanceFilter;
  // No filter either: the node's own handler gives the error.
  if (!f) return (await localCall(handler, call) as pb.IPurgeInstancesResponse).deletedInstanceCount ?? 0;
  const filter = purgeFilter(f);
  const reads = scheduler.hub(hub).reads;
  let total = 0;
  // In rounds, so one request never holds the store for long; the store lists every partition's instances.
  for (;;) {
    const ids = await reads.findInstanceIds(filter, 500);
    if (ids.length === 0) break;
    const n = await purge(ids);
    total += n;
    if (n === 0) break;
  }
  return total;
}

function forwarded(call: UnaryCall): boolean {
  return call.metadata.get(FORWARDED_HEADER).length > 0;
}
