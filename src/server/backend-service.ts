// BackendService: what a Functions host's azureManaged provider calls. Queries, waits and work-item
// streaming share the sidecar's handlers; completions arrive precomputed (events, not actions) and go
// through the task hub's one commit path.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { SchedulerError, invalid } from "../core/errors";
import { checkInstanceId } from "../core/limits";
import { Scheduler } from "../scheduler/scheduler";
import { serviceDefinition } from "./service-definition";
import { hubUnary, rpc } from "./sidecar-service";

import b = pb.durabletask.protos.backend.v1;

export const backendDefinition = serviceDefinition("durabletask.protos.backend.v1.BackendService", {
  CreateInstance: rpc(pb.CreateInstanceRequest, pb.CreateInstanceResponse),
  AddEvent: rpc(b.AddEventRequest, b.AddEventResponse),
  AddEvents: rpc(b.AddEventsRequest, b.AddEventsResponse),
  GetInstance: rpc(pb.GetInstanceRequest, pb.GetInstanceResponse),
  GetEntity: rpc(pb.GetEntityRequest, pb.GetEntityResponse),
  QueryInstances: rpc(pb.QueryInstancesRequest, pb.QueryInstancesResponse),
  QueryEntities: rpc(pb.QueryEntitiesRequest, pb.QueryEntitiesResponse),
  WaitForInstance: rpc(b.WaitForInstanceRequest, b.WaitForInstanceResponse),
  PurgeInstances: rpc(pb.PurgeInstancesRequest, pb.PurgeInstancesResponse),
  RestartInstance: rpc(pb.RestartInstanceRequest, pb.RestartInstanceResponse),
  CleanEntityStorage: rpc(pb.CleanEntityStorageRequest, pb.CleanEntityStorageResponse),
  GetWorkItems: rpc(pb.GetWorkItemsRequest, pb.WorkItem, true),
  GetOrchestrationRuntimeState: rpc(b.GetOrchestrationRuntimeStateRequest, b.GetOrchestrationRuntimeStateResponse),
  StreamInstanceHistory: rpc(pb.StreamInstanceHistoryRequest, pb.HistoryChunk, true),
  CompleteActivityWorkItem: rpc(b.CompleteActivityWorkItemRequest, b.CompleteActivityWorkItemResponse),
  AbandonActivityWorkItem: rpc(b.AbandonActivityWorkItemRequest, b.AbandonActivityWorkItemResponse),
  CompleteOrchestrationWorkItem: rpc(b.CompleteOrchestrationWorkItemRequest, b.CompleteOrchestrationWorkItemResponse),
  CompleteOrchestrationWorkItemWithExtendedSession: rpc(b.CompleteOrchestrationWorkItemRequest, b.CompleteInstanceWorkItemResponse, true),
  AbandonOrchestrationWorkItem: rpc(b.AbandonOrchestrationWorkItemRequest, b.AbandonOrchestrationWorkItemResponse),
  ReleaseOrchestrationWorkItem: rpc(b.ReleaseOrchestrationWorkItemRequest, b.ReleaseOrchestrationWorkItemResponse),
  CompleteEntityWorkItem: rpc(b.CompleteEntityWorkItemRequest, b.CompleteEntityWorkItemResponse),
  CompleteEntityWorkItemWithExtendedSession: rpc(b.CompleteEntityWorkItemRequest, b.CompleteInstanceWorkItemResponse, true),
  AbandonEntityWorkItem: rpc(b.AbandonEntityWorkItemRequest, b.AbandonEntityWorkItemResponse),
  ReleaseEntityWorkItem: rpc(b.ReleaseEntityWorkItemRequest, b.ReleaseEntityWorkItemResponse),
  Ping: rpc(b.PingRequest, b.PingResponse),
  GetMetrics: rpc(b.GetMetricsRequest, b.GetMetricsResponse),
  SkipGracefulOrchestrationTerminations: rpc(pb.SkipGracefulOrchestrationTerminationsRequest, pb.SkipGracefulOrchestrationTerminationsResponse),
  BeginWorkerDrain: rpc(b.BeginWorkerDrainRequest, b.BeginWorkerDrainResponse),
});

export function backendHandlers(scheduler: Scheduler, sidecar: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const unary = <Req>(fn: Parameters<typeof hubUnary<Req>>[1]) => hubUnary(scheduler, fn);
  const extendedSessions = (call: grpc.ServerWritableStream<unknown, unknown>) => {
    call.emit("error", {
      code: grpc.status.UNIMPLEMENTED,
      details: "Extended sessions are not supported by this scheduler: set extendedSessionsEnabled to false in host.json",
    });
  };
  return {
    CreateInstance: sidecar.StartInstance,
    GetInstance: sidecar.GetInstance,
    GetEntity: sidecar.GetEntity,
    QueryInstances: sidecar.QueryInstances,
    QueryEntities: sidecar.QueryEntities,
    WaitForInstance: sidecar.WaitForInstanceCompletion,
    PurgeInstances: sidecar.PurgeInstances,
    RestartInstance: sidecar.RestartInstance,
    CleanEntityStorage: sidecar.CleanEntityStorage,
    GetWorkItems: sidecar.GetWorkItems,
    StreamInstanceHistory: sidecar.StreamInstanceHistory,
    AddEvent: unary<b.IAddEventRequest>((req, hub) => {
      if (!req.event) throw invalid("event must be set");
      return hub.addEvent(req.instance?.instanceId ?? "", req.event);
    }),
    AddEvents: unary<b.IAddEventsRequest>(async (req, hub) => {
      const failed: string[] = [];
      for (const [id, e] of Object.entries(req.events ?? {})) {
        try {
          await hub.addEvent(id, e as pb.IHistoryEvent);
        } catch {
          failed.push(id);
        }
      }
      return { unsuccessfulInstanceIds: failed };
    }),
    GetOrchestrationRuntimeState: unary<b.IGetOrchestrationRuntimeStateRequest>((req, hub) => {
      const id = checkInstanceId(req.instance?.instanceId);
      const history = hub.getHistory(id);
      if (!history) throw new SchedulerError("NOT_FOUND", `Orchestration instance '${id}' not found`);
      return { history };
    }),
    CompleteOrchestrationWorkItem: unary<b.ICompleteOrchestrationWorkItemRequest>((req, hub) => hub.completePrecomputed(req)),
    AbandonOrchestrationWorkItem: unary<b.IAbandonOrchestrationWorkItemRequest>((req, hub) => hub.abandon(req.completionToken, "orchestration")),
    ReleaseOrchestrationWorkItem: unary<b.IReleaseOrchestrationWorkItemRequest>((req, hub) => hub.release(req.completionToken, "orchestration")),
    CompleteActivityWorkItem: unary<b.ICompleteActivityWorkItemRequest>((req, hub) => hub.completeActivityEvent(req.completionToken, req.responseEvent)),
    AbandonActivityWorkItem: unary<b.IAbandonActivityWorkItemRequest>((req, hub) => hub.abandon(req.completionToken, "activity")),
    CompleteEntityWorkItem: unary<b.ICompleteEntityWorkItemRequest>((req, hub) => hub.entities.completePrecomputed(req)),
    AbandonEntityWorkItem: unary<b.IAbandonEntityWorkItemRequest>((req, hub) => hub.abandon(req.completionToken, "entity")),
    ReleaseEntityWorkItem: unary<b.IReleaseEntityWorkItemRequest>((req, hub) => hub.release(req.completionToken, "entity")),
    CompleteOrchestrationWorkItemWithExtendedSession: extendedSessions,
    CompleteEntityWorkItemWithExtendedSession: extendedSessions,
    Ping: unary(() => ({})),
    GetMetrics: unary((_req, hub) => {
      const m = hub.metrics();
      const kind = (k: { pending: number; active: number; oldestAgeSeconds: number }) => ({ pending: k.pending, active: k.active, oldestAgeInSeconds: k.oldestAgeSeconds });
      return {
        metrics: {
          orchestratorWorkItems: kind(m.orchestrations), activityWorkItems: kind(m.activities), entityWorkItems: kind(m.entities),
          connectedWorkers: { count: m.workers },
        },
      };
    }),
    SkipGracefulOrchestrationTerminations: unary<pb.ISkipGracefulOrchestrationTerminationsRequest>(async (req, hub) => {
      const ids = (req.instanceBatch?.instanceIds ?? []).map((id) => checkInstanceId(id));
      return { unterminatedInstanceIds: await hub.forceTerminate(ids, req.reason?.value ?? undefined) };
    }),
    BeginWorkerDrain: unary<b.IBeginWorkerDrainRequest>((_req, hub, call) => {
      const workerId = call.metadata.get("workerid")[0];
      if (workerId === undefined) throw invalid("BeginWorkerDrain needs the workerid metadata of the worker to drain");
      return { workerFound: hub.dispatcher.drain(String(workerId)) };
    }),
  };
}

