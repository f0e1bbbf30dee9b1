// BackendService: what a Functions host's azureManaged provider calls. Queries, waits and work-item
// streaming share the sidecar's handlers; completions arrive precomputed (events, not actions) and go
// through the task hub's one commit path.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { SchedulerError, invalid } from "../core/errors";
import { checkInstanceId } from "../core/limits";
import { KindMetrics } from "../scheduler/hub-metrics";
import { Scheduler } from "../scheduler/scheduler";
import { Hub } from "../scheduler/hub";
import { hubUnary } from "./hub-call";

import b = pb.durabletask.protos.backend.v1;

/** The three precomputed completions, as both the unary RPCs and the completion stream apply them. */
export const COMPLETE = {
  orchestration: (req: b.ICompleteOrchestrationWorkItemRequest, hub: Hub) => hub.completions.precomputedOrchestration(req),
  activity: (req: b.ICompleteActivityWorkItemRequest, hub: Hub) => hub.completions.activityEvent(req.completionToken, req.responseEvent),
  entity: (req: b.ICompleteEntityWorkItemRequest, hub: Hub) => hub.entities.completePrecomputed(req),
};

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
      return hub.clients.addEvent(req.instance?.instanceId ?? "", req.event);
    }),
    AddEvents: unary<b.IAddEventsRequest>(async (req, hub) => {
      const failed: string[] = [];
      for (const [id, e] of Object.entries(req.events ?? {})) {
        try {
          await hub.clients.addEvent(id, e as pb.IHistoryEvent);
        } catch {
          failed.push(id);
        }
      }
      return { unsuccessfulInstanceIds: failed };
    }),
    GetOrchestrationRuntimeState: unary<b.IGetOrchestrationRuntimeStateRequest>(async (req, hub) => {
      const id = checkInstanceId(req.instance?.instanceId);
      const history = await hub.reads.getHistory(id);
      if (!history) throw new SchedulerError("NOT_FOUND", `Orchestration instance '${id}' not found`);
      return { history };
    }),
    CompleteOrchestrationWorkItem: unary(COMPLETE.orchestration),
    AbandonOrchestrationWorkItem: unary<b.IAbandonOrchestrationWorkItemRequest>((req, hub) => hub.completions.abandon(req.completionToken, "orchestration")),
    ReleaseOrchestrationWorkItem: unary<b.IReleaseOrchestrationWorkItemRequest>((req, hub) => hub.completions.release(req.completionToken, "orchestration")),
    CompleteActivityWorkItem: unary(COMPLETE.activity),
    AbandonActivityWorkItem: unary<b.IAbandonActivityWorkItemRequest>((req, hub) => hub.completions.abandon(req.completionToken, "activity")),
    CompleteEntityWorkItem: unary(COMPLETE.entity),
    AbandonEntityWorkItem: unary<b.IAbandonEntityWorkItemRequest>((req, hub) => hub.completions.abandon(req.completionToken, "entity")),
    ReleaseEntityWorkItem: unary<b.IReleaseEntityWorkItemRequest>((req, hub) => hub.completions.release(req.completionToken, "entity")),
    CompleteOrchestrationWorkItemWithExtendedSession: extendedSessions,
    CompleteEntityWorkItemWithExtendedSession: extendedSessions,
    Ping: unary(() => ({})),
    GetMetrics: unary((_req, hub) => {
      const m = hub.reads.metrics();
      const kind = (k: KindMetrics) => ({ pending: k.pending, active: k.active, oldestAgeInSeconds: k.oldestAgeSeconds, waitingForWorker: k.waitingForWorker });
      return {
        metrics: {
          orchestratorWorkItems: kind(m.orchestrations), activityWorkItems: kind(m.activities), entityWorkItems: kind(m.entities),
          connectedWorkers: { count: m.workers },
        },
      };
    }),
    SkipGracefulOrchestrationTerminations: unary<pb.ISkipGracefulOrchestrationTerminationsRequest>(async (req, hub) => {
      const ids = (req.instanceBatch?.instanceIds ?? []).map((id) => checkInstanceId(id));
      return { unterminatedInstanceIds: await hub.clients.forceTerminate(ids, req.reason?.value ?? undefined) };
    }),
    BeginWorkerDrain: unary<b.IBeginWorkerDrainRequest>((_req, hub, call) => {
      const workerId = call.metadata.get("workerid")[0];
      if (workerId === undefined) throw invalid("BeginWorkerDrain needs the workerid metadata of the worker to drain");
      return { workerFound: hub.drainWorker(String(workerId)) };
    }),
  };
}

