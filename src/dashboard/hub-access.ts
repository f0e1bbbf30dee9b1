// Everything the dashboard asks of the engine, in one module: the served hubs, the read API and the
// client operations. Pages and actions go through here, so the engine's shape is met in one place.
import { randomUUID } from "crypto";
import { notFound } from "../core/errors";
import { EntityData, HistoryEvent, InstanceRecord, isTerminal, Status } from "../core/model";
import { ScheduleDefinition, ScheduleRecord } from "../core/schedule";
import { str, toTimestamp } from "../core/events";
import { effectivePeriods, RetentionPeriod, RetentionPolicy } from "../core/retention";
import { ArchivedInstance } from "../core/instance-archive";
import { HubMetrics } from "../scheduler/hub-metrics";
import { Scheduler } from "../scheduler/scheduler";
import { Hub } from "../scheduler/hub";
import { InstanceWork, WorkerView } from "../scheduler/work-view";

export type { WorkerView };
import { InstanceFilter, InstanceListing } from "../store/store";

export interface EntityView {
  rec: InstanceRecord;
  data: EntityData;
  backlog: number;
}

export interface NewOrchestration {
  name: string;
  instanceId?: string;
  version?: string;
  input?: string;
  scheduledStartAt?: number;
  tags?: Record<string, string>;
}

/** A hub's retention: its own policy (if any), the scheduler's, and the period in force per status. */
export interface RetentionView {
  hub: string;
  own?: RetentionPolicy;
  scheduler: RetentionPolicy;
  periods: RetentionPeriod[];
}

export class HubAccess {
  constructor(private readonly scheduler: Scheduler) {}

  hubNames(): string[] {
    return this.scheduler.hubNames().sort();
  }

  /** For /healthz: why the node cannot serve at all (undefined: it can). */
  unhealthy(): string | undefined {
    return this.scheduler.failed && `cannot write to its store: ${this.scheduler.failed.message}`;
  }

  /** For /readyz: why the node should not get traffic now (undefined: it should). */
  notReady(): string | undefined {
    return this.scheduler.notReady();
  }

  /** The served hub of that name; never creates one (a page view must not make hubs). */
  private hub(name: string): Hub {
    const key = name.trim().toLowerCase();
    if (!this.scheduler.hubNames().includes(key)) throw notFound(`Task hub '${name}' is not served here`);
    return this.scheduler.hub(key);
  }

  has(name: string): boolean {
    return this.scheduler.hubNames().includes(name.trim().toLowerCase());
  }

  list(hub: string, filter: InstanceFilter, listing: InstanceListing): Promise<InstanceRecord[]> {
    return this.hub(hub).reads.listInstances(filter, listing);
  }

  counts(hub: string, filter: InstanceFilter): Promise<Map<Status, number>> {
    return this.hub(hub).reads.countByStatus(filter);
  }

  /** Every instance id the filter matches (bulk actions on "all matching"). */
  matchingIds(hub: string, filter: InstanceFilter): Promise<string[]> {
    return this.hub(hub).reads.findInstanceIds(filter, 0);
  }

  instance(hub: string, instanceId: string): Promise<InstanceRecord | undefined> {
    return this.hub(hub).reads.getInstance(instanceId);
  }

  /** Those of the ids that name a finished instance. */
  async finished(hub: string, ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) {
      const r = await this.instance(hub, id);
      if (r && isTerminal(r.status)) out.push(id);
    }
    return out;
  }

  history(hub: string, instanceId: string): Promise<HistoryEvent[] | undefined> {
    return this.hub(hub).reads.getHistory(instanceId);
  }

  metrics(hub: string): HubMetrics {
    return this.hub(hub).reads.metrics();
  }

  work(hub: string, instanceId: string): InstanceWork {
    return this.hub(hub).reads.work(instanceId);
  }

  workers(hub: string): WorkerView[] {
    return this.hub(hub).reads.workers();
  }

  entities(hub: string, prefix: string | undefined, after: string | undefined, pageSize: number): { entities: EntityView[]; last?: string } {
    return this.hub(hub).entities.query({ prefix, includeTransient: true, pageSize, after });
  }

  entity(hub: string, instanceId: string): EntityView | undefined {
    return this.hub(hub).entities.get(instanceId);
  }

  start(hub: string, o: NewOrchestration): Promise<string> {
    return this.hub(hub).clients.startInstance({
      name: o.name,
      instanceId: o.instanceId || randomUUID().replace(/-/g, ""),
      version: str(o.version),
      input: str(o.input),
      scheduledStartTimestamp: o.scheduledStartAt === undefined ? undefined : toTimestamp(o.scheduledStartAt),
      tags: o.tags,
    });
  }

  suspend(hub: string, id: string, reason?: string): Promise<void> {
    return this.hub(hub).clients.suspend(id, reason);
  }

  resume(hub: string, id: string, reason?: string): Promise<void> {
    return this.hub(hub).clients.resume(id, reason);
  }

  terminate(hub: string, id: string, reason?: string): Promise<void> {
    return this.hub(hub).clients.terminate(id, reason === undefined ? undefined : JSON.stringify(reason), false);
  }

  raiseEvent(hub: string, id: string, name: string, input?: string): Promise<void> {
    return this.hub(hub).clients.raiseEvent(id, name, input);
  }

  restart(hub: string, id: string, newInstanceId: boolean): Promise<string> {
    return this.hub(hub).clients.restart(id, newInstanceId);
  }

  rewind(hub: string, id: string, reason?: string): Promise<void> {
    return this.hub(hub).clients.rewind(id, reason);
  }

  /** Terminates at once, without the workers' graceful handling; resolves with the ids it could not terminate. */
  forceTerminate(hub: string, ids: string[], reason?: string): Promise<string[]> {
    return this.hub(hub).clients.forceTerminate(ids, reason === undefined ? undefined : JSON.stringify(reason));
  }

  purge(hub: string, ids: string[]): Promise<number> {
    return this.hub(hub).clients.purge(ids, false, false);
  }

  /** Deletes an entity (its state, lock and queued operations); resolves with 1, or 0 when there is none. */
  deleteEntity(hub: string, id: string): Promise<number> {
    // Only a strict purge by the entity's own id removes an entity (see TaskHub.purge).
    return this.hub(hub).clients.purge([id], false, true);
  }

  signalEntity(hub: string, id: string, operation: string, input?: string): Promise<void> {
    return this.hub(hub).entities.signal({ instanceId: id, name: operation, input: str(input), requestId: randomUUID() });
  }

  /** One page of an export: instances in id order after `after`, each with its history as committed. */
  async exportPage(hub: string, filter: InstanceFilter, after: string | undefined, pageSize: number): Promise<{ items: ArchivedInstance[]; last?: string }> {
    const reads = this.hub(hub).reads;
    const page = await reads.listInstanceIds(filter, pageSize, after);
    const items: ArchivedInstance[] = [];
    for (const id of page.ids) {
      const instance = await reads.getInstance(id);
      // Purged between the listing and now: left out.
      if (instance) items.push({ instance, history: (await reads.getHistory(id)) ?? [] });
    }
    return { items, last: page.last };
  }

  importInstances(hub: string, items: ArchivedInstance[], onConflict: "fail" | "skip" | "overwrite") {
    return this.hub(hub).clients.importInstances(items, onConflict);
  }

  retention(hub: string): RetentionView {
    const h = this.hub(hub);
    const own = h.retention.get();
    const scheduler = this.scheduler.retention.options.policy;
    return { hub: h.name, own, scheduler, periods: effectivePeriods(scheduler, own) };
  }

  /** Sets the hub's own policy (none: the scheduler's applies again); a sweep follows at once. */
  async setRetention(hub: string, policy: RetentionPolicy | undefined): Promise<RetentionView> {
    await this.hub(hub).retention.set(policy);
    this.scheduler.retention.kick();
    return this.retention(hub);
  }

  schedules(hub: string): ScheduleRecord[] {
    return this.hub(hub).schedules.list();
  }

  schedule(hub: string, scheduleId: string): ScheduleRecord | undefined {
    return this.hub(hub).schedules.get(scheduleId);
  }

  createSchedule(hub: string, definition: ScheduleDefinition): Promise<ScheduleRecord> {
    return this.hub(hub).schedules.create(definition);
  }

  pauseSchedule(hub: string, scheduleId: string): Promise<ScheduleRecord> {
    return this.hub(hub).schedules.pause(scheduleId);
  }

  resumeSchedule(hub: string, scheduleId: string): Promise<ScheduleRecord> {
    return this.hub(hub).schedules.resume(scheduleId);
  }

  deleteSchedule(hub: string, scheduleId: string): Promise<void> {
    return this.hub(hub).schedules.delete(scheduleId);
  }

  /** Resolves with the instance once `done` holds for it, or with its state after timeoutMs. */
  async settle(hub: string, id: string, done: (r: InstanceRecord) => boolean, timeoutMs = 5000): Promise<InstanceRecord | undefined> {
    const h = this.hub(hub);
    return (await h.reads.waitFor(id, done, timeoutMs).catch(() => undefined)) ?? await h.reads.getInstance(id);
  }
}
