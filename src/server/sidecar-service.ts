// TaskHubSidecarService: the portable Durable Task SDKs' API, translated onto the task hub engine.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { SchedulerError, invalid } from "../core/errors";
import { fromTimestamp, str, toTimestamp, val } from "../core/events";
import { isEntityId, normalizeEntityId } from "../core/entities";
import { checkInstanceId } from "../core/limits";
import { EntityData, InstanceRecord, isTerminal, Status } from "../core/model";
import { WorkFilter, workFilter } from "../core/work-filters";
import { Scheduler } from "../scheduler/scheduler";
import { Hub } from "../scheduler/hub";
import { WorkerConnection } from "../scheduler/worker";
import { CAPABILITIES_HEADER, COMPLETION_STREAM, CONTINUED_EPISODES, HISTORY_LIMIT_HEADER, PAYLOAD_LIMIT_HEADER } from "../proto/capabilities";
import { failStream, toServiceError } from "./errors";
import { Call, Handler, hubName, hubUnary } from "./hub-call";
import { purgeFilter } from "./purge-filter";
import { FORWARDED_HEADER } from "./peer-calls";

const HISTORY_CHUNK = 200;
const DEFAULT_WAIT_MS = 5 * 60_000;

export function sidecarHandlers(scheduler: Scheduler): grpc.UntypedServiceImplementation {
  const unary = <Req>(fn: Handler<Req>) => hubUnary(scheduler, fn);
  /** Open GetWorkItems streams per client connection, bounded so one client cannot take every stream slot. */
  const streamsByPeer = new Map<string, number>();

  return {
    Hello: unary(() => ({})),
    StartInstance: unary<pb.ICreateInstanceRequest>(async (req, hub) => ({ instanceId: await hub.clients.startInstance(req) })),
    GetInstance: unary<pb.IGetInstanceRequest>(async (req, hub) => instanceResponse(await hub.reads.getInstance(checkInstanceId(req.instanceId)), !!req.getInputsAndOutputs)),
    WaitForInstanceStart: unary<pb.IGetInstanceRequest>((req, hub, call) =>
      wait(hub, req, call, (r) => r.status !== Status.ORCHESTRATION_STATUS_PENDING)),
    WaitForInstanceCompletion: unary<pb.IGetInstanceRequest>((req, hub, call) => wait(hub, req, call, (r) => isTerminal(r.status))),
    RaiseEvent: unary<pb.IRaiseEventRequest>((req, hub) => hub.clients.raiseEvent(checkInstanceId(req.instanceId), req.name ?? "", val(req.input))),
    TerminateInstance: unary<pb.ITerminateRequest>((req, hub) => hub.clients.terminate(checkInstanceId(req.instanceId), val(req.output), !!req.recursive)),
    SuspendInstance: unary<pb.ISuspendRequest>((req, hub) => hub.clients.suspend(checkInstanceId(req.instanceId), val(req.reason))),
    ResumeInstance: unary<pb.IResumeRequest>((req, hub) => hub.clients.resume(checkInstanceId(req.instanceId), val(req.reason))),
    RewindInstance: unary<pb.IRewindInstanceRequest>((req, hub) => hub.clients.rewind(checkInstanceId(req.instanceId), val(req.reason))),
    RestartInstance: unary<pb.IRestartInstanceRequest>(async (req, hub) => ({
      instanceId: await hub.clients.restart(checkInstanceId(req.instanceId), !!req.restartWithNewInstanceId),
    })),
    QueryInstances: unary<pb.IQueryInstancesRequest>(async (req, hub) => {
      const q = req.query ?? {};
      const page = await hub.reads.queryInstances(
        { statuses: statuses(q.runtimeStatus), createdFrom: fromTimestamp(q.createdTimeFrom), createdTo: fromTimestamp(q.createdTimeTo), instanceIdPrefix: val(q.instanceIdPrefix) || undefined },
        q.maxInstanceCount ?? 0, val(q.continuationToken) || undefined, !!q.fetchInputsAndOutputs);
      return { orchestrationState: page.instances.map((r) => toState(r, !!q.fetchInputsAndOutputs)), continuationToken: str(page.continuationToken) };
    }),
    ListInstanceIds: unary<pb.IListInstanceIdsRequest>(async (req, hub) => {
      const page = await hub.reads.listInstanceIds(
        { statuses: statuses(req.runtimeStatus), completedFrom: fromTimestamp(req.completedTimeFrom), completedTo: fromTimestamp(req.completedTimeTo) },
        req.pageSize ?? 0, val(req.lastInstanceKey) || undefined);
      return { instanceIds: page.ids, lastInstanceKey: str(page.last) };
    }),
    PurgeInstances: unary<pb.IPurgeInstancesRequest>(async (req, hub) => {
      const recursive = !!req.recursive;
      if (req.instanceId) {
        // One id may name an entity (@name@key): its storage is purged, as the Durable extension does.
        const id = isEntityId(req.instanceId) ? normalizeEntityId(req.instanceId) : checkInstanceId(req.instanceId);
        return { deletedInstanceCount: await hub.clients.purge([id], recursive, true), isComplete: { value: true } };
      }
      if (req.instanceBatch) {
        const ids = (req.instanceBatch.instanceIds ?? []).map((id) => checkInstanceId(id));
        return { deletedInstanceCount: await hub.clients.purge(ids, recursive, false), isComplete: { value: true } };
      }
      const f = req.purgeInstanceFilter;
      if (!f) throw invalid("PurgeInstances needs an instanceId, a purgeInstanceFilter or an instanceBatch");
      const filter = purgeFilter(f);
      let total = 0;
      // Purge in batches so one request never holds the store for long.
      for (;;) {
        const ids = await hub.reads.findInstanceIds(filter, 500);
        if (ids.length === 0) break;
        const n = await hub.clients.purge(ids, recursive, false);
        total += n;
        if (n === 0) break;
      }
      return { deletedInstanceCount: total, isComplete: { value: true } };
    }),
    CompleteOrchestratorTask: unary<pb.IOrchestratorResponse>((req, hub) => hub.completions.orchestration(req)),
    CompleteActivityTask: unary<pb.IActivityResponse>((req, hub) => hub.completions.activity(req)),
    AbandonTaskOrchestratorWorkItem: unary<pb.IAbandonOrchestrationTaskRequest>((req, hub) => hub.completions.abandon(req.completionToken, "orchestration")),
    AbandonTaskActivityWorkItem: unary<pb.IAbandonActivityTaskRequest>((req, hub) => hub.completions.abandon(req.completionToken, "activity")),
    CreateTaskHub: (call: Call<pb.ICreateTaskHubRequest>, callback: grpc.sendUnaryData<unknown>) => {
      try {
        scheduler.createHub(hubName(call.metadata) || "default", !!call.request.recreateIfExists).then(() => callback(null, {}), (e) => callback(toServiceError(e)));
      } catch (e) {
        callback(toServiceError(e));
      }
    },
    DeleteTaskHub: (call: Call<pb.IDeleteTaskHubRequest>, callback: grpc.sendUnaryData<unknown>) => {
      try {
        scheduler.deleteHub(hubName(call.metadata) || "default").then(() => callback(null, {}), (e) => callback(toServiceError(e)));
      } catch (e) {
        callback(toServiceError(e));
      }
    },
    CompleteEntityTask: unary<pb.IEntityBatchResult>((req, hub) => hub.entities.complete(req)),
    AbandonTaskEntityWorkItem: unary<pb.IAbandonEntityTaskRequest>((req, hub) => hub.completions.abandon(req.completionToken, "entity")),
    SignalEntity: unary<pb.ISignalEntityRequest>((req, hub) => hub.entities.signal(req)),
    GetEntity: unary<pb.IGetEntityRequest>((req, hub) => {
      const e = hub.entities.get(req.instanceId ?? "");
      if (!e || e.data.state === undefined) return { exists: false };
      return { exists: true, entity: entityMetadata(e, !!req.includeState) };
    }),
    QueryEntities: unary<pb.IQueryEntitiesRequest>((req, hub) => {
      const q = req.query ?? {};
      const page = hub.entities.query({
        prefix: val(q.instanceIdStartsWith) || undefined, from: fromTimestamp(q.lastModifiedFrom), to: fromTimestamp(q.lastModifiedTo),
        includeTransient: !!q.includeTransient, pageSize: q.pageSize?.value ?? 0, after: val(q.continuationToken) || undefined,
      });
      return { entities: page.entities.map((e) => entityMetadata(e, !!q.includeState)), continuationToken: str(page.last) };
    }),
    CleanEntityStorage: unary<pb.ICleanEntityStorageRequest>(async (req, hub) => {
      const r = await hub.entities.clean(!!req.removeEmptyEntities, !!req.releaseOrphanedLocks);
      return { emptyEntitiesRemoved: r.removed, orphanedLocksReleased: r.released };
    }),
    SkipGracefulOrchestrationTerminations: unary(() => {
      throw new SchedulerError("UNIMPLEMENTED", "SkipGracefulOrchestrationTerminations is not supported yet");
    }),
    GetWorkItems: (call: grpc.ServerWritableStream<pb.IGetWorkItemsRequest, pb.IWorkItem>) => {
      let hub: Hub;
      let filter: WorkFilter | undefined;
      try {
        hub = scheduler.hub(hubName(call.metadata));
        filter = workFilter(call.request.workItemFilters);
      } catch (e) {
        failStream(call, e);
        return;
      }
      const r = call.request;
      const opts = scheduler.options;
      // A worker may ask for fewer items in flight than the server's limit, never more.
      const pick = (asked: number | null | undefined, limit: number) => (asked && asked > 0 ? Math.min(asked, limit) : limit);
      const peer = call.getPeer();
      const open = streamsByPeer.get(peer) ?? 0;
      if (open >= opts.maxWorkStreamsPerConnection) {
        failStream(call, new SchedulerError("RESOURCE_EXHAUSTED", `This connection already has ${open} GetWorkItems streams open, the server's limit; one stream per worker is enough`));
        return;
      }
      streamsByPeer.set(peer, open + 1);
      const workerId = String(call.metadata.get("workerid")[0] ?? peer);
      const worker = new WorkerConnection(workerId, {
        send: (item) => call.write(item),
        end: (reason) => failStream(call, new SchedulerError("UNAVAILABLE", reason)),
      }, {
        orchestrations: pick(r.maxConcurrentOrchestrationWorkItems, opts.maxOrchestrationsPerWorker),
        activities: pick(r.maxConcurrentActivityWorkItems, opts.maxActivitiesPerWorker),
        entities: pick(r.maxConcurrentEntityWorkItems, opts.maxEntitiesPerWorker),
      }, Date.now(), (r.capabilities ?? []).includes(pb.WorkerCapability.WORKER_CAPABILITY_HISTORY_STREAMING), filter, mirrorOf(call.metadata));
      let ended = false;
      const gone = () => {
        if (ended) return;
        ended = true;
        const n = (streamsByPeer.get(peer) ?? 1) - 1;
        if (n > 0) streamsByPeer.set(peer, n);
        else streamsByPeer.delete(peer);
        hub.disconnectWorker(worker);
      };
      call.on("cancelled", gone);
      call.on("close", gone);
      call.on("error", gone);
      call.on("drain", () => worker.drained());
      // Headers now, not with the first item (maybe a health ping 30 s later): the worker learns at once that it is connected.
      // They also advertise the completion stream (completion-stream.ts) and continued episodes, which only our own hosts look for.
      const headers = new grpc.Metadata();
      headers.set(CAPABILITIES_HEADER, `${COMPLETION_STREAM},${CONTINUED_EPISODES}`);
      headers.set(PAYLOAD_LIMIT_HEADER, String(scheduler.options.maxPayloadBytes));
      headers.set(HISTORY_LIMIT_HEADER, String(scheduler.options.maxHistoryEvents));
      call.sendMetadata(headers);
      hub.connectWorker(worker);
    },
    StreamInstanceHistory: async (call: grpc.ServerWritableStream<pb.IStreamInstanceHistoryRequest, pb.IHistoryChunk>) => {
      try {
        const hub = scheduler.hub(hubName(call.metadata));
        const id = checkInstanceId(call.request.instanceId);
        const [history, instance] = await Promise.all([hub.reads.getHistory(id), hub.reads.getInstance(id)]);
        if (!history) throw new SchedulerError("NOT_FOUND", `Orchestration instance '${id}' not found`);
        // A worker asks for the execution its work item is for; after a continue-as-new that one is gone.
        const executionId = val(call.request.executionId);
        const current = instance?.executionId;
        if (executionId && executionId !== current) {
          throw new SchedulerError("NOT_FOUND", `Execution '${executionId}' of orchestration instance '${id}' is not its current one ('${current}'); its history is gone`);
        }
        for (let i = 0; i < history.length; i += HISTORY_CHUNK) call.write({ events: history.slice(i, i + HISTORY_CHUNK) });
        call.end();
      } catch (e) {
        failStream(call, e);
      }
    },
  };
}


/** The node that opened this stream for one of its workers (work-mirrors.ts), if one did. */
function mirrorOf(metadata: grpc.Metadata): string | undefined {
  const v = metadata.get(FORWARDED_HEADER)[0];
  return v === undefined ? undefined : String(v);
}

function wait(hub: Hub, req: pb.IGetInstanceRequest, call: Call<pb.IGetInstanceRequest>, predicate: (r: InstanceRecord) => boolean) {
  const id = checkInstanceId(req.instanceId);
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() - Date.now() : typeof deadline === "number" && isFinite(deadline) ? deadline - Date.now() : DEFAULT_WAIT_MS;
  return hub.reads.waitFor(id, predicate, Math.max(0, deadlineMs), (cb) => call.on("cancelled", cb)).then((rec) => {
    if (!rec) {
      throw new SchedulerError("DEADLINE_EXCEEDED", `Orchestration instance '${id}' did not reach the awaited state within the server's wait limit; call again to keep waiting`);
    }
    return instanceResponse(rec, !!req.getInputsAndOutputs);
  });
}

function instanceResponse(rec: InstanceRecord | undefined, withPayloads: boolean): pb.IGetInstanceResponse {
  return rec ? { exists: true, orchestrationState: toState(rec, withPayloads) } : { exists: false };
}

export function toState(r: InstanceRecord, withPayloads: boolean): pb.IOrchestrationState {
  return {
    instanceId: r.instanceId,
    name: r.name,
    version: str(r.version),
    orchestrationStatus: r.status,
    scheduledStartTimestamp: r.scheduledStartAt ? toTimestamp(r.scheduledStartAt) : undefined,
    createdTimestamp: toTimestamp(r.createdAt),
    lastUpdatedTimestamp: toTimestamp(r.lastUpdatedAt),
    completedTimestamp: r.completedAt ? toTimestamp(r.completedAt) : undefined,
    input: withPayloads ? str(r.input) : undefined,
    output: withPayloads ? str(r.output) : undefined,
    customStatus: withPayloads ? str(r.customStatus) : undefined,
    failureDetails: r.failureDetails,
    executionId: str(r.executionId),
    parentInstanceId: str(r.parentInstanceId),
    tags: r.tags,
  };
}

function entityMetadata(e: { rec: InstanceRecord; data: EntityData; backlog: number }, withState: boolean): pb.IEntityMetadata {
  return {
    instanceId: e.rec.instanceId, lastModifiedTime: toTimestamp(e.rec.lastUpdatedAt), backlogQueueSize: e.backlog,
    lockedBy: str(e.data.lockedBy), serializedState: withState ? str(e.data.state) : undefined,
  };
}

function statuses(list: pb.OrchestrationStatus[] | null | undefined): Status[] | undefined {
  return list && list.length > 0 ? [...list] : undefined;
}
