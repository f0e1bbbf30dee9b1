// The two gRPC services' definitions, shared by the scheduler that serves them and the clients that
// call them (the local host, the provider adapter, `dts durable`, `dts scale`).
import { pb } from ".";
import { rpc, serviceDefinition } from "./service-definition";
import { workItemCodec } from "./work-item-codec";

import b = pb.durabletask.protos.backend.v1;

export const sidecarDefinition = serviceDefinition("TaskHubSidecarService", {
  Hello: rpc(pb.google.protobuf.Empty, pb.google.protobuf.Empty),
  StartInstance: rpc(pb.CreateInstanceRequest, pb.CreateInstanceResponse),
  GetInstance: rpc(pb.GetInstanceRequest, pb.GetInstanceResponse),
  RewindInstance: rpc(pb.RewindInstanceRequest, pb.RewindInstanceResponse),
  RestartInstance: rpc(pb.RestartInstanceRequest, pb.RestartInstanceResponse),
  WaitForInstanceStart: rpc(pb.GetInstanceRequest, pb.GetInstanceResponse),
  WaitForInstanceCompletion: rpc(pb.GetInstanceRequest, pb.GetInstanceResponse),
  RaiseEvent: rpc(pb.RaiseEventRequest, pb.RaiseEventResponse),
  TerminateInstance: rpc(pb.TerminateRequest, pb.TerminateResponse),
  SuspendInstance: rpc(pb.SuspendRequest, pb.SuspendResponse),
  ResumeInstance: rpc(pb.ResumeRequest, pb.ResumeResponse),
  QueryInstances: rpc(pb.QueryInstancesRequest, pb.QueryInstancesResponse),
  ListInstanceIds: rpc(pb.ListInstanceIdsRequest, pb.ListInstanceIdsResponse),
  PurgeInstances: rpc(pb.PurgeInstancesRequest, pb.PurgeInstancesResponse),
  GetWorkItems: rpc(pb.GetWorkItemsRequest, workItemCodec, true),
  CompleteActivityTask: rpc(pb.ActivityResponse, pb.CompleteTaskResponse),
  CompleteOrchestratorTask: rpc(pb.OrchestratorResponse, pb.CompleteTaskResponse),
  CompleteEntityTask: rpc(pb.EntityBatchResult, pb.CompleteTaskResponse),
  StreamInstanceHistory: rpc(pb.StreamInstanceHistoryRequest, pb.HistoryChunk, true),
  CreateTaskHub: rpc(pb.CreateTaskHubRequest, pb.CreateTaskHubResponse),
  DeleteTaskHub: rpc(pb.DeleteTaskHubRequest, pb.DeleteTaskHubResponse),
  SignalEntity: rpc(pb.SignalEntityRequest, pb.SignalEntityResponse),
  GetEntity: rpc(pb.GetEntityRequest, pb.GetEntityResponse),
  QueryEntities: rpc(pb.QueryEntitiesRequest, pb.QueryEntitiesResponse),
  CleanEntityStorage: rpc(pb.CleanEntityStorageRequest, pb.CleanEntityStorageResponse),
  AbandonTaskActivityWorkItem: rpc(pb.AbandonActivityTaskRequest, pb.AbandonActivityTaskResponse),
  AbandonTaskOrchestratorWorkItem: rpc(pb.AbandonOrchestrationTaskRequest, pb.AbandonOrchestrationTaskResponse),
  AbandonTaskEntityWorkItem: rpc(pb.AbandonEntityTaskRequest, pb.AbandonEntityTaskResponse),
  SkipGracefulOrchestrationTerminations: rpc(pb.SkipGracefulOrchestrationTerminationsRequest, pb.SkipGracefulOrchestrationTerminationsResponse),
});

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
  GetWorkItems: rpc(pb.GetWorkItemsRequest, workItemCodec, true),
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

/** Our own extension (completion_stream.proto): completions over one stream, for hosts that are ours too. */
export const completionStreamDefinition = serviceDefinition("dts.v1.CompletionStream", {
  CompleteWorkItems: rpc(pb.dts.v1.WorkItemCompletion, pb.dts.v1.WorkItemCompletionAcks, true, true),
});

/**
 * The methods that carry a worker's results. Their strings are judged by the engine, not refused at
 * the gRPC edge as other requests' are: a result the scheduler cannot keep fails its orchestration
 * there, so a worker that sends it again and again does not loop.
 */
export const workResultMethods: ReadonlySet<string> = new Set([
  ...["CompleteOrchestratorTask", "CompleteActivityTask", "CompleteEntityTask"].map((m) => sidecarDefinition[m].path),
  ...["CompleteOrchestrationWorkItem", "CompleteOrchestrationWorkItemWithExtendedSession", "CompleteActivityWorkItem", "CompleteEntityWorkItem",
    "CompleteEntityWorkItemWithExtendedSession"].map((m) => backendDefinition[m].path),
  completionStreamDefinition.CompleteWorkItems.path,
]);
