// Turns durable-functions' action list into protobuf OrchestratorActions carrying the ids its replay
// expects, and finds which of them are new. This is what the .NET host does by replaying the actions
// through the Durable Task Framework: here a small re-enactment of durable-functions'
// TaskOrchestrationExecutor over the same history decides every id:
// - ids are one counter from 0, taken when a task is first yielded (compound tasks number their
//   children depth-first in order); signalEntity takes one, releasing a lock one per locked entity;
//   external events take none;
// - a yielded task blocks the action list until it completes, so tasks after it are numbered only then;
// - the host runs retries: when an attempt fails a retry timer takes the next id, and when that timer
//   fires (attempts left) the next attempt takes the next id - in history order, as the JS replay does;
// - durable HTTP polls the same way: a 202 with a Location gives a timer and the next request their ids
//   at once (CallHttpWithPollingTask), the request is scheduled once the timer fires (durable-http.ts).
// An id whose scheduling event is already in history is old; any other becomes a new action.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { fromTimestamp, kindOf, str, toTimestamp } from "../core/events";
import { HistoryEvent } from "../core/model";
import { ReplayEvent } from "./history-json";
import { ActionType, childInstanceId, DfAction, json, jsonOfProcessed, retryDelay, retryTimedOut } from "./df-actions";
import { allNode, anyNode, Compound, finishNode, leaf, Leaf, Node } from "./plan-nodes";
import { DEFAULT_HTTP_POLL_MS, DurableHttpRequestJson, HTTP_ACTIVITY_NAME, nextPoll, requestOfAction } from "./durable-http";

export interface PlanInput {
  instanceId: string;
  executionId: string;
  /** The history in the order the orchestrator replayed it (see replayEvents). */
  events: ReplayEvent[];
  /** The orchestrator's actions, one entry per yield or fire-and-forget call. */
  actions: DfAction[];
  /** The orchestrator returned, continued as new or threw: nothing after its last task matters. */
  finished: boolean;
  /** Request ids for new entity messages (random by default; history keeps them for replays). */
  newRequestId?: () => string;
  /** Durable HTTP's wait between polls when a 202 has no Retry-After (defaultHttpAsyncRequestSleepTimeMillseconds). */
  httpPollMs?: number;
  /** The orchestrator's library stops retrying once retryTimeoutInMilliseconds has passed (FunctionApp.retryTimeouts). */
  retryTimeouts?: boolean;
}

export interface Plan {
  /** New actions, in id order of first scheduling. */
  actions: pb.IOrchestratorAction[];
  /** Set when the orchestrator called continueAsNew: the new input's JSON. */
  continueAsNew?: { input?: string };
  /** Where the re-enactment had to guess (logged by the caller). */
  notes: string[];
}

export class NonDeterminismError extends Error {}

/** Which history event records each kind of scheduled work (eventId = action id). */
const RECORDED_AS = {
  activity: "taskScheduled", subOrchestration: "subOrchestrationInstanceCreated", timer: "timerCreated",
  call: "entityOperationCalled", signal: "entityOperationSignaled", lock: "entityLockRequested", unlock: "entityUnlockSent",
} as const;
type WorkKind = keyof typeof RECORDED_AS;

export function planActions(input: PlanInput): Plan {
  return new Replay(input).run();
}

class Replay {
  private seq = 0;
  private readonly plan: Plan = { actions: [], notes: [] };
  /** Scheduling events already in history, by event id. */
  private readonly recorded = new Map<number, HistoryEvent>();
  private readonly open = new Map<number, Leaf>();
  private readonly waiting = new Map<string, Leaf[]>();
  /** Results that arrived before their task was waited on (JS: deferredTasks). */
  private readonly early = new Map<number | string, { ok: boolean; result?: string }[]>();
  private readonly byRequestId = new Map<string, number>();
  private lock?: { criticalSectionId: string; entities: string[] };
  private next = 0;
  private blocking?: Node;
  private now = 0;
  private stopped = false;
  private readonly newRequestId: () => string;

  constructor(private readonly input: PlanInput) {
    this.newRequestId = input.newRequestId ?? randomUUID;
    for (const { event: e } of input.events) {
      const id = e.eventId ?? -1;
      if (id < 0) continue;
      const kind = kindOf(e);
      if (Object.values(RECORDED_AS).includes(kind as (typeof RECORDED_AS)[WorkKind])) this.recorded.set(id, e);
      if (e.entityOperationCalled?.requestId) this.byRequestId.set(e.entityOperationCalled.requestId, id);
      if (e.entityLockRequested?.criticalSectionId) this.byRequestId.set(e.entityLockRequested.criticalSectionId, id);
    }
  }

  run(): Plan {
    let started = false;
    for (const { event: e } of this.input.events) {
      if (this.stopped) break;
      if (e.orchestratorStarted) {
        const t = fromTimestamp(e.timestamp) ?? 0;
        if (t > this.now) this.now = t;
      } else if (e.executionStarted && !started) {
        started = true;
        this.advance();
      } else {
        this.apply(e);
        this.advance();
      }
    }
    if (!started) this.advance();
    if (!this.stopped && this.next < this.input.actions.length) {
      // The orchestrator went further than the history explains (e.g. it yielded an already-scheduled
      // task again, which durable-functions does not list): number the rest in order.
      this.plan.notes.push(`${this.input.actions.length - this.next} action(s) were numbered past a task the history shows as still running`);
      while (this.next < this.input.actions.length) this.take(this.input.actions[this.next++]);
    }
    return this.plan;
  }

  /** Walks the action list while nothing blocks it: what the orchestrator code did after its last result. */
  private advance(): void {
    const actions = this.input.actions;
    while (!this.stopped && (!this.blocking || this.blocking.done) && this.next < actions.length) {
      this.blocking = this.take(actions[this.next++]);
    }
    if (this.input.finished && this.next >= actions.length && (!this.blocking || this.blocking.done)) this.stopped = true;
  }

  /** Records one listed action; returns the task it yielded (undefined for fire-and-forget calls). */
  private take(a: DfAction): Node | undefined {
    switch (a.actionType) {
      case ActionType.SignalEntity: {
        const target = entityTarget(a.instanceId, "signalEntity");
        this.schedule(this.seq++, "signal", () => ({
          sendEntityMessage: { entityOperationSignaled: { requestId: this.newRequestId(), operation: a.operation ?? "", input: str(json(a.input)), targetInstanceId: str(target) } },
        }));
        return undefined;
      }
      case ActionType.ReleaseEntities: {
        const lock = this.lock;
        this.lock = undefined;
        if (!lock) {
          this.plan.notes.push("a lock release with no lock held was ignored");
          return undefined;
        }
        for (const entity of lock.entities) {
          this.schedule(this.seq++, "unlock", () => ({
            sendEntityMessage: { entityUnlockSent: { criticalSectionId: lock.criticalSectionId, parentInstanceId: str(this.input.instanceId), targetInstanceId: str(entity) } },
          }));
        }
        return undefined;
      }
      case ActionType.ContinueAsNew:
        this.plan.continueAsNew = { input: jsonOfProcessed(a.input) };
        return undefined;
      default: {
        const node = this.build(a);
        this.track(node);
        return node;
      }
    }
  }

  /** The task tree for a yielded action (ids are assigned by track, in order). */
  private build(a: DfAction, parent?: Compound): Node {
    switch (a.actionType) {
      case ActionType.WhenAll:
      case ActionType.WhenAny: {
        const children = a.compoundActions ?? [];
        if (children.length === 0) throw new NonDeterminismError("Task.all/Task.any with no tasks");
        const node = a.actionType === ActionType.WhenAll ? allNode(parent) : anyNode(parent);
        for (const c of children) node.children.push(this.build(c, node));
        return node;
      }
      case ActionType.CallActivityWithRetry:
      case ActionType.CallSubOrchestratorWithRetry:
        return this.retryNode(a, parent);
      case ActionType.WaitForExternalEvent:
        return leaf(a.externalEventName ?? "", parent);
      case ActionType.CallHttp:
        if (requestOfAction(a.httpRequest).asynchronousPatternEnabled) return this.httpNode(a, parent);
        return leaf(-1, parent, (id) => this.start(a, id));
      default:
        return leaf(-1, parent, (id) => this.start(a, id));
    }
  }

  /** Gives ids to a task tree's leaves, depth-first; leaves start their work as they get an id. */
  private track(node: Node): void {
    if (node.done) return;
    if ((node as Compound).children) {
      for (const c of [...(node as Compound).children]) this.track(c);
      return;
    }
    const l = node as Leaf;
    if (typeof l.key === "string") {
      const list = this.waiting.get(l.key) ?? [];
      list.push(l);
      this.waiting.set(l.key, list);
    } else if (l.key < 0) {
      l.key = this.seq++;
      this.open.set(l.key, l);
      l.begin?.(l.key);
    }
    const early = this.early.get(l.key);
    if (early?.length && !l.done) {
      const { ok, result } = early.shift()!;
      if (early.length === 0) this.early.delete(l.key);
      if (typeof l.key === "string") this.waiting.get(l.key)?.pop();
      else this.open.delete(l.key);
      this.finish(l, ok, result);
    }
  }

  /** Schedules the work of a plain (non-retry) task that just got its id. */
  private start(a: DfAction, id: number): void {
    switch (a.actionType) {
      case ActionType.CallActivity:
        this.schedule(id, "activity", () => ({ scheduleTask: { name: a.functionName ?? "", input: str(jsonOfProcessed(a.input)) } }));
        return;
      case ActionType.CallSubOrchestrator:
        this.schedule(id, "subOrchestration", () => this.subOrchestration(a, id));
        return;
      case ActionType.CreateTimer: {
        const fireAt = new Date(a.fireAt ?? 0).getTime();
        if (Number.isNaN(fireAt)) throw new NonDeterminismError(`createTimer has an invalid fireAt (${String(a.fireAt)})`);
        // A timer cancelled before it was ever scheduled needs no scheduling; the replay stops waiting for it.
        if (a.isCanceled && !this.recorded.has(id)) return;
        this.schedule(id, "timer", () => ({ createTimer: { fireAt: toTimestamp(fireAt) } }));
        return;
      }
      case ActionType.CallEntity: {
        const target = entityTarget(a.instanceId, "callEntity");
        this.schedule(id, "call", () => {
          const requestId = this.newRequestId();
          this.byRequestId.set(requestId, id);
          return {
            sendEntityMessage: {
              entityOperationCalled: {
                requestId, operation: a.operation ?? "", input: str(json(a.input)), targetInstanceId: str(target),
                parentInstanceId: str(this.input.instanceId), parentExecutionId: str(this.input.executionId),
              },
            },
          };
        });
        return;
      }
      case ActionType.LockEntities: {
        const entities = (a.lockSet ?? []).map((e) => `@${String(e.name).toLowerCase()}@${e.key}`);
        const criticalSectionId = a.lockRequestId || this.newRequestId();
        this.lock = { criticalSectionId, entities };
        if (entities.length === 0) throw new NonDeterminismError("lock() with no entities");
        this.schedule(id, "lock", () => {
          this.byRequestId.set(criticalSectionId, id);
          return { sendEntityMessage: { entityLockRequested: { criticalSectionId, lockSet: entities, position: 0, parentInstanceId: str(this.input.instanceId) } } };
        });
        return;
      }
      case ActionType.CallHttp:
        this.scheduleHttp(id, requestOfAction(a.httpRequest));
        return;
      default:
        throw new NonDeterminismError(`unknown action type ${a.actionType}`);
    }
  }

  /** A task with retries: the first attempt, then timer and attempt ids as results come in. */
  private retryNode(a: DfAction, parent?: Compound): Node {
    const options = a.retryOptions;
    if (!options || !(options.firstRetryIntervalInMilliseconds > 0)) {
      throw new NonDeterminismError(`${a.functionName}: retryOptions.firstRetryIntervalInMilliseconds must be greater than 0`);
    }
    const attempt = () => leaf(-1, node, (id) => (a.actionType === ActionType.CallActivityWithRetry
      ? this.schedule(id, "activity", () => ({ scheduleTask: { name: a.functionName ?? "", input: str(jsonOfProcessed(a.input)) } }))
      : this.schedule(id, "subOrchestration", () => this.subOrchestration(a, id))));
    let attemptNumber = 1;
    let waitingOnTimer = false;
    const firstAttemptAt = this.now;
    const node: Compound = {
      kind: "retry", done: false, failed: false, parent, children: [],
      onChild: (child) => {
        if (node.done) return;
        if (waitingOnTimer) {
          waitingOnTimer = false;
          if (attemptNumber > options.maxNumberOfAttempts) this.finish(node, false);
          else this.addChild(node, attempt());
        } else if (!child.failed) {
          this.finish(node, true);
        } else if (this.input.retryTimeouts && retryTimedOut(options, firstAttemptAt, this.now)) {
          // As the Durable Task Framework, and the host's adapted RetryableTask (host/retry-timeouts.ts).
          this.finish(node, false);
        } else {
          // As the JS RetryableTask does: a timer after every failure, the last one included.
          const failures = attemptNumber;
          const delay = retryDelay(options, failures);
          const fireAt = this.now + delay;
          this.addChild(node, leaf(-1, node, (id) => this.schedule(id, "timer", () => ({ createTimer: { fireAt: toTimestamp(fireAt) } }))));
          waitingOnTimer = true;
          attemptNumber++;
        }
      },
    };
    node.children.push(attempt());
    return node;
  }

  /**
   * callHttp with the asynchronous pattern (CallHttpWithPollingTask): the request; on a 202 with a
   * Location, a timer and the next request take the next two ids together, and the request is made
   * once the timer has fired; the first other response (or failure) ends the task.
   */
  private httpNode(a: DfAction, parent?: Compound): Node {
    let current = requestOfAction(a.httpRequest);
    /** Poll timers not yet fired, with the request each one holds back. */
    const waits = new Map<Node, { request: Leaf; body: DurableHttpRequestJson }>();
    const node: Compound = {
      kind: "http", done: false, failed: false, parent, children: [],
      onChild: (child) => {
        if (node.done) return;
        const wait = waits.get(child);
        if (wait) {
          // The JS task ignores its timer; for the host it is the moment to make the next request.
          waits.delete(child);
          this.scheduleHttp(wait.request.key as number, wait.body);
          return;
        }
        if (child.failed) return this.finish(node, false);
        const poll = nextPoll((child as Leaf).result, current, this.now, this.input.httpPollMs ?? DEFAULT_HTTP_POLL_MS);
        if (!poll) return this.finish(node, true);
        current = poll.request;
        const timer = leaf(-1, node, (id) => this.schedule(id, "timer", () => ({ createTimer: { fireAt: toTimestamp(poll.fireAt) } })));
        const request = leaf(-1, node);
        waits.set(timer, { request, body: poll.request });
        this.addChild(node, timer);
        this.addChild(node, request);
      },
    };
    const first = current;
    node.children.push(leaf(-1, node, (id) => this.scheduleHttp(id, first)));
    return node;
  }

  private scheduleHttp(id: number, request: DurableHttpRequestJson): void {
    this.schedule(id, "activity", () => ({ scheduleTask: { name: HTTP_ACTIVITY_NAME, input: str(JSON.stringify(request)) } }));
  }

  private addChild(parent: Compound, child: Node): void {
    parent.children.push(child);
    this.track(child);
  }

  private subOrchestration(a: DfAction, id: number): pb.IOrchestratorAction {
    return {
      createSubOrchestration: {
        instanceId: a.instanceId || childInstanceId(this.input.instanceId, this.input.executionId, id),
        name: a.functionName ?? "", version: str(a.version || undefined), input: str(json(a.input)),
      },
    };
  }

  /** Emits a new action for id unless history already recorded it (then checks it is the same kind of work). */
  private schedule(id: number, kind: WorkKind, build: () => pb.IOrchestratorAction): void {
    const existing = this.recorded.get(id);
    if (existing) {
      const found = kindOf(existing);
      if (found !== RECORDED_AS[kind]) {
        throw new NonDeterminismError(`task ${id} is a ${RECORDED_AS[kind]} now but the history recorded ${found}: the orchestrator code changed while this instance was running`);
      }
      return;
    }
    this.plan.actions.push({ id, ...build() });
  }

  /** Applies a result event the way the JS replay does. */
  private apply(e: HistoryEvent): void {
    let key: number | string | undefined;
    let ok = true;
    let result: string | undefined;
    if (e.taskCompleted) { key = e.taskCompleted.taskScheduledId ?? 0; result = e.taskCompleted.result?.value ?? undefined; }
    else if (e.taskFailed) { key = e.taskFailed.taskScheduledId ?? 0; ok = false; }
    else if (e.subOrchestrationInstanceCompleted) key = e.subOrchestrationInstanceCompleted.taskScheduledId ?? 0;
    else if (e.subOrchestrationInstanceFailed) { key = e.subOrchestrationInstanceFailed.taskScheduledId ?? 0; ok = false; }
    else if (e.timerFired) key = e.timerFired.timerId ?? 0;
    else if (e.entityOperationCompleted) key = this.byRequestId.get(e.entityOperationCompleted.requestId ?? "");
    else if (e.entityOperationFailed) { key = this.byRequestId.get(e.entityOperationFailed.requestId ?? ""); ok = false; }
    else if (e.entityLockGranted) key = this.byRequestId.get(e.entityLockGranted.criticalSectionId ?? "");
    else if (e.eventRaised) key = e.eventRaised.name ?? "";
    if (key === undefined) return;

    let target: Leaf | undefined;
    if (typeof key === "string") {
      target = this.waiting.get(key)?.pop();
    } else {
      target = this.open.get(key);
      this.open.delete(key);
    }
    if (!target) {
      const list = this.early.get(key) ?? [];
      list.push({ ok, result });
      this.early.set(key, list);
      return;
    }
    this.finish(target, ok, result);
  }

  private finish(node: Node, ok: boolean, result?: string): void {
    if (node.done) return;
    if (result !== undefined) (node as Leaf).result = result;
    finishNode(node, ok);
  }
}

function entityTarget(id: string | undefined, what: string): string {
  const m = id ? /^@([^@]+)@(.*)$/s.exec(id) : null;
  if (!id || !m) throw new NonDeterminismError(`${what} has no valid entity id ('${id ?? ""}')`);
  return `@${m[1].toLowerCase()}@${m[2]}`;
}
