// Work items in the log, at debug level: each dispatch, completion, give-back and ended execution (and
// each activity a Functions host ran inline) as a line with its hub, instance id and work item (the
// completion token), so one instance's path through
// the scheduler can be followed with a filter. Installed only when the log level is debug or trace.
// Work item lines also carry `at`, epoch milliseconds to the microsecond: an idle step takes about a
// millisecond, and the benchmark's per-step trace lines these up with its worker's and client's.
// Each group commit is a line too (its changes, duration and the store's sync), without an instance.
import { pb } from "../proto";
import { InstanceRecord, statusName } from "../core/model";
import { log, preciseEpochMs } from "../log/log";
import { CommitFigures, EngineObserver, InlineActivity, RedeliveryReason, WorkKind } from "../scheduler/observer";

/** Most work items in flight remembered (for the instance id of their completion line). */
const MAX_TRACKED = 100_000;

const at = preciseEpochMs;
const ms = (x: number) => +x.toFixed(3);

export class LogObserver implements EngineObserver {
  private readonly instances = new Map<string, string>();

  dispatched(hub: string, kind: WorkKind, item: pb.IWorkItem, token: string): void {
    const instanceId = item.orchestratorRequest?.instanceId ?? item.activityRequest?.orchestrationInstance?.instanceId ?? item.entityRequestV2?.instanceId ?? "";
    if (this.instances.size >= MAX_TRACKED) this.instances.delete(this.instances.keys().next().value as string);
    this.instances.set(token, instanceId);
    const what = item.activityRequest ? ` (activity '${item.activityRequest.name}', task ${item.activityRequest.taskId})` : "";
    log.debug(`dts: ${kind} work item dispatched${what}`, { hub, instanceId, workItem: token, at: at() });
  }

  completionReceived(hub: string, kind: WorkKind, token: string): void {
    log.debug(`dts: ${kind} work item completion received`, { hub, instanceId: this.instances.get(token), workItem: token, at: at() });
  }

  completed(hub: string, kind: WorkKind, token: string): void {
    log.debug(`dts: ${kind} work item completed`, { hub, instanceId: this.take(token), workItem: token, at: at() });
  }

  abandoned(hub: string, kind: WorkKind, token: string): void {
    log.debug(`dts: ${kind} work item abandoned by its worker`, { hub, instanceId: this.take(token), workItem: token });
  }

  redelivered(hub: string, kind: WorkKind, token: string, reason: RedeliveryReason): void {
    log.debug(`dts: ${kind} work item back in the queue without a completion (${reason})`, { hub, instanceId: this.take(token), workItem: token });
  }

  ranInline(hub: string, instanceId: string, _executionId: string, activities: InlineActivity[]): void {
    for (const { scheduled, result } of activities) {
      const outcome = result.taskFailed ? "failed" : "completed";
      log.debug(`dts: activity '${scheduled.taskScheduled?.name}', task ${scheduled.eventId}, ran inline with its orchestrator's episode: ${outcome}`, { hub, instanceId, at: at() });
    }
  }

  executionEnded(hub: string, rec: InstanceRecord): void {
    log.debug(`dts: orchestration '${rec.name}' execution ended: ${statusName(rec.status)}`, { hub, instanceId: rec.instanceId, executionId: rec.executionId });
  }

  committed(f: CommitFigures): void {
    const sync = f.syncMs === undefined ? "" : `, ${f.syncMs.toFixed(2)} ms of it the store's sync to disk`;
    log.debug(`dts: group commit written: ${f.changes} change(s) in ${f.durationMs.toFixed(2)} ms${sync}`, {
      changes: f.changes, durationMs: ms(f.durationMs), syncMs: f.syncMs === undefined ? undefined : ms(f.syncMs), at: at(),
    });
  }

  private take(token: string): string | undefined {
    const id = this.instances.get(token);
    this.instances.delete(token);
    return id;
  }
}
