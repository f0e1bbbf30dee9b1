// What decides which node serves an RPC in a cluster: the instance it acts on (its partition's owner
// serves it), or the completion token of the work item it completes or gives back (the node that
// leased the item serves it). RPCs absent here are served by the node that received them: they read
// the store (queries, histories), concern the whole hub, or are a worker's own stream.
import { pb } from "../proto";

import b = pb.durabletask.protos.backend.v1;

export type RouteKey = { instanceId: string } | { token: string };

type KeyOf = (req: any) => RouteKey | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

const byInstance = (id: string | null | undefined): RouteKey | undefined => (id ? { instanceId: id } : undefined);
const byToken = (token: string | null | undefined): RouteKey | undefined => (token ? { token } : undefined);

const instanceField: KeyOf = (req: { instanceId?: string | null }) => byInstance(req.instanceId);
const instanceMessage: KeyOf = (req: { instance?: pb.IOrchestrationInstance | null }) => byInstance(req.instance?.instanceId);
const tokenField: KeyOf = (req: { completionToken?: string | null }) => byToken(req.completionToken);

/** Routing per method of TaskHubSidecarService. */
const SIDECAR: Record<string, KeyOf> = {
  StartInstance: instanceField,
  GetInstance: instanceField,
  WaitForInstanceStart: instanceField,
  WaitForInstanceCompletion: instanceField,
  RaiseEvent: instanceField,
  TerminateInstance: instanceField,
  SuspendInstance: instanceField,
  ResumeInstance: instanceField,
  RewindInstance: instanceField,
  RestartInstance: instanceField,
  SignalEntity: instanceField,
  GetEntity: instanceField,
  // A purge of one id goes to its owner; batches and filters are split by owner (cluster-routes.ts).
  PurgeInstances: (req: pb.IPurgeInstancesRequest) => byInstance(req.instanceId),
  CompleteOrchestratorTask: (req: pb.IOrchestratorResponse) => byInstance(req.instanceId) ?? byToken(req.completionToken),
  CompleteActivityTask: (req: pb.IActivityResponse) => byInstance(req.instanceId) ?? byToken(req.completionToken),
  CompleteEntityTask: tokenField,
  AbandonTaskOrchestratorWorkItem: tokenField,
  AbandonTaskActivityWorkItem: tokenField,
  AbandonTaskEntityWorkItem: tokenField,
};

/** Routing per method of BackendService (the Functions host's). */
const BACKEND: Record<string, KeyOf> = {
  CreateInstance: instanceField,
  GetInstance: instanceField,
  GetEntity: instanceField,
  WaitForInstance: instanceField,
  RestartInstance: instanceField,
  PurgeInstances: SIDECAR.PurgeInstances,
  AddEvent: instanceMessage,
  GetOrchestrationRuntimeState: instanceMessage,
  CompleteOrchestrationWorkItem: (req: b.ICompleteOrchestrationWorkItemRequest) => byInstance(req.instance?.instanceId) ?? byToken(req.completionToken),
  CompleteActivityWorkItem: tokenField,
  CompleteEntityWorkItem: (req: b.ICompleteEntityWorkItemRequest) => byInstance(req.instanceId) ?? byToken(req.completionToken),
  AbandonOrchestrationWorkItem: tokenField,
  ReleaseOrchestrationWorkItem: tokenField,
  AbandonActivityWorkItem: tokenField,
  AbandonEntityWorkItem: tokenField,
  ReleaseEntityWorkItem: tokenField,
};

const SERVICES: Record<string, Record<string, KeyOf>> = {
  TaskHubSidecarService: SIDECAR,
  "durabletask.protos.backend.v1.BackendService": BACKEND,
};

/** How `method` of `service` is routed; undefined: always served where it arrives. */
export function routeKeyOf(service: string, method: string): KeyOf | undefined {
  return SERVICES[service]?.[method];
}
