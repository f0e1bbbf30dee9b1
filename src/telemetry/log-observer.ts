// Work items in the log, at debug level: each dispatch, completion, give-back and ended execution as a
// line with its hub, instance id and work item (the completion token), so one instance's path through
// the scheduler can be followed with a filter. Installed only when the log level is debug or trace.
import { pb } from "../proto";
import { InstanceRecord, statusName } from "../core/model";
import { log } from "../log/log";
import { EngineObserver, RedeliveryReason, WorkKind } from "../scheduler/observer";

/** Most work items in flight remembered (for the instance id of their completion line). */
const MAX_TRACKED = 100_000;

export class LogObserver implements EngineObserver {
  private readonly instances = new Map<string, string>();

  dispatched(hub: string, kind: WorkKind, item: pb.IWorkItem, token: string): void {
    const instanceId = item.orchestratorRequest?.instanceId ?? item.activityRequest?.orchestrationInstance?.instanceId ?? item.entityRequestV2?.instanceId ?? "";
    if (this.instances.size >= MAX_TRACKED) this.instances.delete(this.instances.keys().next().value as string);
    this.instances.set(token, instanceId);
    const what = item.activityRequest ? ` (activity '${item.activityRequest.name}', task ${item.activityRequest.taskId})` : "";
    log.debug(`dts: ${kind} work item dispatched${what}`, { hub, instanceId, workItem: token });
  }

  completionReceived(hub: string, kind: WorkKind, token: string): void {
    log.debug(`dts: ${kind} work item completion received`, { hub, instanceId: this.instances.get(token), workItem: token });
  }

  completed(hub: string, kind: WorkKind, token: string): void {
    log.debug(`dts: ${kind} work item completed`, { hub, instanceId: this.take(token), workItem: token });
  }

  abandoned(hub: string, kind: WorkKind, token: string): void {
    log.debug(`dts: ${kind} work item abandoned by its worker`, { hub, instanceId: this.take(token), workItem: token });
  }

  redelivered(hub: string, kind: WorkKind, token: string, reason: RedeliveryReason): void {
    log.debug(`dts: ${kind} work item back in the queue without a completion (${reason})`, { hub, instanceId: this.take(token), workItem: token });
  }

  executionEnded(hub: string, rec: InstanceRecord): void {
    log.debug(`dts: orchestration '${rec.name}' execution ended: ${statusName(rec.status)}`, { hub, instanceId: rec.instanceId, executionId: rec.executionId });
  }

  committed(): void {
    // Commits are in the metrics.
  }

  private take(token: string): string | undefined {
    const id = this.instances.get(token);
    this.instances.delete(token);
    return id;
  }
}
