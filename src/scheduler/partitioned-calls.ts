// The client and read faces of a partitioned hub (partitioned-hub.ts), spread over its partitions:
// a call about one instance goes to that instance's partition; a call about many is split by
// partition (a recursive purge walks the sub-orchestration tree across them, reading committed
// histories); pages and counts read the store through any partition; metrics are summed.
import { isEntityId } from "../core/entities";
import { createdSubOrchestrationIds } from "../core/events";
import { HistoryEvent, InstanceRecord } from "../core/model";
import { HubMetrics, KindMetrics } from "./hub-metrics";
import { TaskHub } from "./task-hub";

/** What the spreading needs of the partitioned hub. */
export interface Partitions {
  route(instanceId: string): TaskHub;
  /** The engine of the instance's partition when this node runs it. */
  engineOf(instanceId: string): TaskHub | undefined;
  /** An instance of a partition another node runs, as committed (read from the store). */
  stored(instanceId: string): { instance(): Promise<InstanceRecord | undefined>; history(): Promise<HistoryEvent[] | undefined> };
  owned(): TaskHub[];
  any(): TaskHub;
  newInstanceId(): string;
}

/** Ids grouped by their partition's engine, in the order given. */
function byPartition(hub: Partitions, ids: Iterable<string>): Map<TaskHub, string[]> {
  const out = new Map<TaskHub, string[]>();
  for (const id of ids) {
    const engine = hub.route(id);
    const group = out.get(engine);
    if (group) group.push(id);
    else out.set(engine, [id]);
  }
  return out;
}

/** The finished orchestrations a purge removes, parents before children, each once (partitionless purgeable()). */
async function purgeableTree(hub: Partitions, instanceIds: string[], recursive: boolean): Promise<string[]> {
  const seen = new Set<string>();
  const found: string[] = [];
  let frontier = instanceIds;
  while (frontier.length > 0) {
    const next: string[] = [];
    const fresh = frontier.filter((id) => !seen.has(id) && !isEntityId(id));
    for (const id of fresh) seen.add(id);
    for (const [engine, group] of byPartition(hub, fresh)) {
      const ok = await engine.clients.purgeable(group, false);
      found.push(...ok);
      if (recursive) for (const id of ok) next.push(...createdSubOrchestrationIds((await engine.reads.getHistory(id)) ?? []));
    }
    frontier = next;
  }
  return found;
}

export function spreadClients(hub: Partitions): TaskHub["clients"] {
  return {
    startInstance: (req) => {
      const instanceId = req.instanceId || hub.newInstanceId();
      return hub.route(instanceId).clients.startInstance({ ...req, instanceId });
    },
    raiseEvent: (id, name, input) => hub.route(id).clients.raiseEvent(id, name, input),
    terminate: (id, reason, recursive) => hub.route(id).clients.terminate(id, reason, recursive),
    suspend: (id, reason) => hub.route(id).clients.suspend(id, reason),
    resume: (id, reason) => hub.route(id).clients.resume(id, reason),
    rewind: (id, reason) => hub.route(id).clients.rewind(id, reason),
    // The original's partition checks it and builds the request; the new instance's partition starts it.
    restart: async (id, withNewInstanceId) => {
      const req = await hub.route(id).clients.restartRequest(id, withNewInstanceId);
      return hub.route(req.instanceId!).clients.startInstance(req);
    },
    restartRequest: (id, withNewInstanceId) => hub.route(id).clients.restartRequest(id, withNewInstanceId),
    addEvent: (id, e) => hub.route(id).clients.addEvent(id, e),
    purgeable: (ids, recursive) => purgeableTree(hub, ids, recursive),
    purge: async (ids, recursive, strict) => {
      let count = 0;
      // An entity is purged only by its own id (strict), in its partition.
      if (strict) for (const id of new Set(ids)) if (isEntityId(id)) count += await hub.route(id).clients.purge([id], false, true);
      for (const [engine, group] of byPartition(hub, await purgeableTree(hub, ids, recursive))) count += await engine.clients.purge(group, false, false);
      return count;
    },
    forceTerminate: async (ids, reason) => {
      const missed: string[] = [];
      for (const [engine, group] of byPartition(hub, ids)) missed.push(...(await engine.clients.forceTerminate(group, reason)));
      return missed;
    },
    // One commit per partition: a batch spread over partitions is not all-or-nothing across them.
    importInstances: async (items, onConflict) => {
      const counts = { imported: 0, skipped: 0, overwritten: 0 };
      const groups = byPartition(hub, items.map((i) => i.instance.instanceId));
      for (const [engine] of groups) {
        const r = await engine.clients.importInstances(items.filter((i) => hub.route(i.instance.instanceId) === engine), onConflict);
        counts.imported += r.imported;
        counts.skipped += r.skipped;
        counts.overwritten += r.overwritten;
      }
      return counts;
    },
  };
}

export function spreadReads(hub: Partitions): TaskHub["reads"] {
  return {
    // Committed state: from the engine running the instance's partition, or from the store when another node runs it.
    getInstance: (id) => hub.engineOf(id)?.reads.getInstance(id) ?? hub.stored(id).instance(),
    getHistory: (id) => hub.engineOf(id)?.reads.getHistory(id) ?? hub.stored(id).history(),
    waitFor: (id, predicate, timeoutMs, cancelled) => hub.route(id).reads.waitFor(id, predicate, timeoutMs, cancelled),
    work: (id) => hub.route(id).reads.work(id),
    queryInstances: (filter, pageSize, token, withPayloads) => hub.any().reads.queryInstances(filter, pageSize, token, withPayloads),
    listInstanceIds: (filter, pageSize, after) => hub.any().reads.listInstanceIds(filter, pageSize, after),
    findInstanceIds: (filter, limit) => hub.any().reads.findInstanceIds(filter, limit),
    listInstances: (filter, listing) => hub.any().reads.listInstances(filter, listing),
    countByStatus: (filter) => hub.any().reads.countByStatus(filter),
    // Every partition has the same worker streams.
    workers: () => hub.any().reads.workers(),
    metrics: () => sumMetrics(hub.owned().map((p) => p.reads.metrics())),
    hotState: () => {
      const states = hub.owned().map((p) => p.reads.hotState());
      return {
        instances: states.flatMap((s) => s.instances).sort((a, b) => (a.rec.instanceId < b.rec.instanceId ? -1 : a.rec.instanceId > b.rec.instanceId ? 1 : 0)),
        activities: states.flatMap((s) => s.activities).sort((a, b) => a.seq - b.seq),
      };
    },
  };
}

/** The hub's figures: backlogs added up, the oldest age the largest; the worker streams are the same in every partition. */
export function sumMetrics(all: HubMetrics[]): HubMetrics {
  const kind = (pick: (m: HubMetrics) => KindMetrics): KindMetrics => ({
    pending: all.reduce((n, m) => n + pick(m).pending, 0),
    active: all.reduce((n, m) => n + pick(m).active, 0),
    oldestAgeSeconds: all.reduce((n, m) => Math.max(n, pick(m).oldestAgeSeconds), 0),
    waitingForWorker: all.reduce((n, m) => n + pick(m).waitingForWorker, 0),
  });
  return {
    orchestrations: kind((m) => m.orchestrations),
    activities: kind((m) => m.activities),
    entities: kind((m) => m.entities),
    workers: all.reduce((n, m) => Math.max(n, m.workers), 0),
    hotInstances: all.reduce((n, m) => n + m.hotInstances, 0),
  };
}
