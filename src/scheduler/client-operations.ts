// The client operations of a hub (start, raise, terminate, suspend, resume, rewind, restart, purge,
// entity signals and clean-up): each validates, builds one change and commits it.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { invalid, notFound, precondition } from "../core/errors";
import { isEmptyEntity, isEntityId, normalizeEntityId, unlocked } from "../core/entities";
import { createdSubOrchestrationIds, event, findExecutionStarted, fromTimestamp, str, val } from "../core/events";
import { checkPayload } from "../core/limits";
import { HistoryEvent, isTerminal, Status, statusName } from "../core/model";
import { checkRetentionPolicy, RetentionPolicy } from "../core/retention";
import { ArchivedInstance } from "../core/instance-archive";
import { SchedulerError } from "../core/errors";
import { Change } from "./change";
import { HubCommit } from "./hub-commit";
import { HubState } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";
import { EngineOptions } from "./options";

export class ClientOperations {
  constructor(
    private readonly state: HubState,
    private readonly lifecycle: InstanceLifecycle,
    private readonly commit: HubCommit,
    private readonly options: EngineOptions,
  ) {}

  /** Starts an orchestration; resolves with its instance id once durable. */
  startInstance(req: pb.ICreateInstanceRequest): Promise<string> {
    this.commit.admit();
    return this.withCold(req.instanceId ? [req.instanceId] : [], false, () => {
      const change = new Change();
      const instanceId = this.lifecycle.start(req, change);
      return this.commit.run(change).then(() => instanceId);
    });
  }

  raiseEvent(instanceId: string, name: string, input: string | undefined): Promise<void> {
    if (!name) throw invalid("name (the event name) must not be empty");
    checkPayload(input, "input (the event data)", this.options.maxPayloadBytes);
    return this.withCold([instanceId], false, () => {
      const h = this.state.requireLive(instanceId, "raise an event to");
      this.commit.admit();
      return this.one((change) => this.state.send({ instanceId: h.rec.instanceId, visibleAt: Date.now(), event: event(Date.now(), { eventRaised: { name, input: str(input) } }) }, change));
    });
  }

  terminate(instanceId: string, reason: string | undefined, recursive: boolean): Promise<void> {
    checkPayload(reason, "output (the termination reason)", this.options.maxPayloadBytes);
    return this.withCold([instanceId], false, () => {
      this.state.requireLive(instanceId, "terminate");
      return this.one((change) => this.lifecycle.terminate(instanceId, reason, recursive, change));
    });
  }

  suspend(instanceId: string, reason: string | undefined): Promise<void> {
    return this.pause(instanceId, "suspend", Status.ORCHESTRATION_STATUS_SUSPENDED, { executionSuspended: { input: str(reason) } });
  }

  resume(instanceId: string, reason: string | undefined): Promise<void> {
    return this.pause(instanceId, "resume", Status.ORCHESTRATION_STATUS_RUNNING, { executionResumed: { input: str(reason) } });
  }

  rewind(instanceId: string, reason: string | undefined): Promise<void> {
    return this.withCold([instanceId], true, () => {
      const rec = this.state.current(instanceId);
      if (!rec) throw notFound(`Orchestration instance '${instanceId}' not found`);
      if (rec.status !== Status.ORCHESTRATION_STATUS_FAILED) {
        throw precondition(`Orchestration instance '${instanceId}' is ${statusName(rec.status)}; only Failed instances can be rewound`);
      }
      return this.one((change) => this.lifecycle.rewind(instanceId, reason, change));
    });
  }

  restart(instanceId: string, withNewInstanceId: boolean): Promise<string> {
    return this.restartRequest(instanceId, withNewInstanceId).then((req) => this.startInstance(req));
  }

  /** The start request a restart makes (checked against the original); a partitioned hub sends it to the new id's partition. */
  restartRequest(instanceId: string, withNewInstanceId: boolean): Promise<pb.ICreateInstanceRequest> {
    return this.withCold([instanceId], true, async () => this.restartNow(instanceId, withNewInstanceId));
  }

  private restartNow(instanceId: string, withNewInstanceId: boolean): pb.ICreateInstanceRequest {
    const rec = this.state.current(instanceId);
    if (!rec) throw notFound(`Orchestration instance '${instanceId}' not found`);
    // A restart under a new id leaves the original alone, so it may still be running (as the SDKs allow).
    if (!withNewInstanceId && !isTerminal(rec.status)) {
      throw precondition(`Orchestration instance '${instanceId}' is ${statusName(rec.status)}; only a completed, failed or terminated instance can be restarted under its own id (or restart it with a new instance id)`);
    }
    const started = findExecutionStarted(this.state.currentHistory(instanceId) ?? []);
    return {
      instanceId: withNewInstanceId ? randomUUID() : instanceId, name: rec.name, version: str(rec.version),
      input: str(rec.input), tags: rec.tags, parentTraceContext: started?.parentTraceContext,
    };
  }

  /** Purges terminal instances (and, when recursive, their sub-orchestrations), or an entity given as `strict`'s one id; resolves with the count. */
  purge(instanceIds: string[], recursive: boolean, strict: boolean): Promise<number> {
    return this.withTree(instanceIds, recursive, () => {
      const change = new Change();
      let count = 0;
      // An entity is purged only by its own id (never by a filter or batch, where its status reads Running).
      if (strict) for (const id of new Set(instanceIds)) if (isEntityId(id)) count += this.purgeEntity(id, change);
      for (const id of this.purgeableNow(instanceIds, recursive)) {
        this.state.dropInstance(id, change);
        count++;
      }
      return this.commit.run(change).then(() => count);
    });
  }

  /**
   * The finished orchestrations a purge of `instanceIds` removes, each once, parents before their
   * sub-orchestrations (with `recursive`). Unfinished ones are left alone and not counted (the SDKs
   * report a count of 0, not an error); entities are not orchestrations.
   */
  purgeable(instanceIds: string[], recursive: boolean): Promise<string[]> {
    return this.withTree(instanceIds, recursive, async () => this.purgeableNow(instanceIds, recursive));
  }

  private purgeableNow(instanceIds: string[], recursive: boolean): string[] {
    const out: string[] = [];
    // Ids can form a cycle (a child created with its parent's id after a purge): visit each once.
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id) || isEntityId(id)) return;
      seen.add(id);
      const rec = this.state.current(id);
      if (!rec || !isTerminal(rec.status)) return;
      out.push(id);
      if (recursive) for (const c of createdSubOrchestrationIds(this.state.currentHistory(id) ?? [])) visit(c);
    };
    for (const id of instanceIds) visit(id);
    return out;
  }

  /** Sets the hub's own retention policy, or with none goes back to the scheduler's. */
  setRetention(policy: RetentionPolicy | undefined): Promise<void> {
    const checked = policy && checkRetentionPolicy(policy);
    return this.one((change) => {
      this.state.retention = checked;
      change.ops.push({ op: "setRetention", hub: this.state.name, policy: checked });
    });
  }

  /**
   * Writes exported finished instances (record and history) as one commit. An id already in the hub
   * (or twice in the batch) refuses the whole batch unless `onConflict` says to skip it or to
   * overwrite it (a finished one only).
   */
  importInstances(items: ArchivedInstance[], onConflict: "fail" | "skip" | "overwrite"): Promise<{ imported: number; skipped: number; overwritten: number }> {
    return this.withCold(items.map((i) => i.instance.instanceId), false, () => this.importNow(items, onConflict));
  }

  private importNow(items: ArchivedInstance[], onConflict: "fail" | "skip" | "overwrite"): Promise<{ imported: number; skipped: number; overwritten: number }> {
    const change = new Change();
    const seen = new Set<string>();
    const counts = { imported: 0, skipped: 0, overwritten: 0 };
    for (const { instance, history } of items) {
      const id = instance.instanceId;
      const existing = seen.has(id) ? instance : this.state.current(id);
      if (existing) {
        if (onConflict === "fail") throw new SchedulerError("ALREADY_EXISTS", `Instance '${id}' already exists in task hub '${this.state.name}'; nothing of this batch was imported (skip or overwrite existing instances, or resume after the last one imported)`);
        if (onConflict === "skip") {
          counts.skipped++;
          continue;
        }
        if (!isTerminal(existing.status)) throw precondition(`Instance '${id}' is ${statusName(existing.status)} in task hub '${this.state.name}' and cannot be overwritten; nothing of this batch was imported`);
        if (!seen.has(id)) this.state.dropInstance(id, change);
        counts.overwritten++;
      } else counts.imported++;
      seen.add(id);
      this.state.putCold(instance, history, change);
    }
    return this.commit.run(change).then(() => counts);
  }

  /** Terminates instances at once, without their workers' graceful handling; returns the ids it could not terminate. */
  forceTerminate(instanceIds: string[], reason: string | undefined): Promise<string[]> {
    const change = new Change();
    const missed: string[] = [];
    for (const id of instanceIds) {
      const h = this.state.get(id);
      if (!h || h.rec.entity || isTerminal(h.rec.status)) missed.push(id);
      else this.lifecycle.endNow(h, { terminated: reason }, change);
    }
    return this.commit.run(change).then(() => missed);
  }

  /**
   * Delivers an event a Functions host raised for an instance (AddEvent): raised events, suspend,
   * resume, terminate and entity signals go through the same checks as the sidecar's RPCs.
   */
  addEvent(instanceId: string, e: HistoryEvent): Promise<void> {
    if (e.eventRaised) return this.raiseEvent(instanceId, e.eventRaised.name ?? "", val(e.eventRaised.input));
    if (e.executionTerminated) return this.terminate(instanceId, val(e.executionTerminated.input), !!e.executionTerminated.recurse);
    if (e.executionSuspended) return this.suspend(instanceId, val(e.executionSuspended.input));
    if (e.executionResumed) return this.resume(instanceId, val(e.executionResumed.input));
    if (e.entityOperationSignaled) {
      const s = e.entityOperationSignaled;
      return this.signal({ instanceId, name: s.operation, input: s.input, requestId: s.requestId, scheduledTime: s.scheduledTime });
    }
    throw invalid(`AddEvent supports EventRaised, ExecutionTerminated, ExecutionSuspended, ExecutionResumed and EntityOperationSignaled events`);
  }

  signal(req: pb.ISignalEntityRequest): Promise<void> {
    const id = normalizeEntityId(req.instanceId);
    if (!req.name) throw invalid("name (the operation name) must not be empty");
    checkPayload(val(req.input), "input (the operation input)", this.options.maxPayloadBytes);
    this.commit.admit();
    const now = Date.now();
    const at = fromTimestamp(req.scheduledTime);
    return this.one((change) => this.state.send({
      instanceId: id, visibleAt: at && at > now ? at : now,
      event: event(now, { entityOperationSignaled: { requestId: req.requestId || randomUUID(), operation: req.name, input: req.input, scheduledTime: req.scheduledTime, targetInstanceId: str(id) } }),
    }, change));
  }

  /** Removes entities with nothing in them and releases locks whose holder has finished. */
  cleanEntities(removeEmpty: boolean, releaseOrphanedLocks: boolean): Promise<{ removed: number; released: number }> {
    const change = new Change();
    let removed = 0;
    let released = 0;
    for (const h of [...this.state.all()]) {
      let data = h.rec.entity;
      if (!data || h.lease) continue;
      if (data.lockedBy && this.state.link.releaseUnderway(data.lockedBy)) data = unlocked(data);
      else if (releaseOrphanedLocks && data.lockedBy && !this.state.isLiveOrchestration(data.lockedBy)) {
        this.state.setEntity(h, (data = unlocked(data)), change);
        released++;
      }
      if (removeEmpty && isEmptyEntity(data, h.inbox.length)) {
        this.state.dropInstance(h.rec.instanceId, change);
        removed++;
      }
    }
    return this.commit.run(change).then(() => ({ removed, released }));
  }

  /**
   * Purge of one entity (PurgeInstances by its @name@key id): its state, lock and queued operations
   * go; 1, or 0 when there is no such entity. A batch in flight is dropped (its completion is
   * refused). An entity locked by a live orchestration is refused: purging it would end that
   * orchestration's critical section behind its back.
   */
  private purgeEntity(instanceId: string, change: Change): number {
    const h = this.state.get(normalizeEntityId(instanceId));
    const data = h?.rec.entity;
    if (!h || !data) return 0;
    if (data.lockedBy && this.state.isLiveOrchestration(data.lockedBy) && !this.state.link.releaseUnderway(data.lockedBy)) {
      throw precondition(`Entity '${h.rec.instanceId}' is locked by orchestration '${data.lockedBy}' (a critical section); purge it after that orchestration releases it or ends`);
    }
    this.state.dropInstance(h.rec.instanceId, change);
    return 1;
  }

  /** Suspend or resume: a status and a message to the instance, or nothing when it is already there. */
  private pause(instanceId: string, verb: string, status: Status, e: Omit<HistoryEvent, "eventId" | "timestamp">): Promise<void> {
    return this.withCold([instanceId], false, () => this.pauseNow(instanceId, verb, status, e));
  }

  private pauseNow(instanceId: string, verb: string, status: Status, e: Omit<HistoryEvent, "eventId" | "timestamp">): Promise<void> {
    const h = this.state.requireLive(instanceId, verb);
    const suspended = h.rec.status === Status.ORCHESTRATION_STATUS_SUSPENDED;
    if (suspended === (status === Status.ORCHESTRATION_STATUS_SUSPENDED)) return Promise.resolve();
    return this.one((change) => {
      this.state.setStatus(h, status, change);
      this.state.send({ instanceId, visibleAt: Date.now(), event: event(Date.now(), e) }, change);
    });
  }

  /** Runs the operation once the instances it reads outside memory are fetched (at once on a store that answers at once). */
  private withCold<T>(instanceIds: string[], history: boolean, run: () => Promise<T>): Promise<T> {
    const fetched = this.state.fetchCold(instanceIds, history);
    return fetched ? fetched.then(run) : run();
  }

  /** The same for the instances and, when recursive, the sub-orchestrations a purge walks through. */
  private withTree<T>(instanceIds: string[], recursive: boolean, run: () => Promise<T>): Promise<T> {
    if (!this.state.cold.ahead) return run();
    const seen = new Set<string>();
    const step = (frontier: string[]): Promise<T> => {
      const todo = frontier.filter((id) => !seen.has(id) && !isEntityId(id));
      if (todo.length === 0) return run();
      for (const id of todo) seen.add(id);
      const children = () => step(!recursive ? [] : todo.flatMap((id) => {
        const rec = this.state.current(id);
        return rec && isTerminal(rec.status) ? createdSubOrchestrationIds(this.state.currentHistory(id) ?? []) : [];
      }));
      return this.withCold(todo, recursive, children);
    };
    return step(instanceIds);
  }

  private one(build: (change: Change) => void): Promise<void> {
    const change = new Change();
    build(change);
    return this.commit.run(change);
  }
}
