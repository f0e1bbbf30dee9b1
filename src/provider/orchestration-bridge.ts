// One orchestrator work item: the history goes to the app's orchestrationTrigger function as the
// out-of-process JSON protocol durable-functions speaks, its answer (the orchestrator state) becomes
// protobuf actions (action-plan.ts), and core/ turns those into the BackendService completion
// (applyEpisode, then outcomeToRequest), the same way the scheduler itself applies SDK actions.
import { randomUUID } from "crypto";
import { pb } from "../proto";
import { findExecutionStarted, str, val } from "../core/events";
import { FailureDetails, HistoryEvent, InstanceRecord, Status } from "../core/model";
import { applyEpisode } from "../core/orchestration";
import { outcomeToRequest } from "../core/precomputed-completion";
import { FunctionApp, jsonData } from "./function-app";
import { NonDeterminismError, planActions } from "./action-plan";
import { DfAction, json } from "./df-actions";
import { DEFAULT_HTTP_POLL_MS } from "./durable-http";
import { findFunction, notFoundMessage, ORCHESTRATION_TRIGGER, safeJson, thrownByOrchestrator, WorkItemError } from "./functions";
import { failureFromJson, JsonHistories, replayEvents } from "./history-json";
import { parsedText, returnedObject } from "./typed-data";

type CompleteRequest = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;

/**
 * Replay schema the host offers: V4 (3) is what durable-functions needs for lock(); the older field
 * says V2 for libraries that only read that one.
 */
const UPPER_SCHEMA_VERSION = 1;
const UPPER_SCHEMA_VERSION_NEW = 3;
/**
 * The scheduler has no timer length limit, so the longest TimeSpan goes as the "maximum short timer":
 * durable-functions then never splits a long timer into a chain of shorter ones (ids stay one per timer).
 */
const MAXIMUM_SHORT_TIMER = "10675199.02:48:05";
const LONG_TIMER_INTERVAL = "3.00:00:00";
const OUT_OF_PROC_LABEL = "$OutOfProcData$:";

export interface OrchestrationWorkItem {
  orchestratorRequest: pb.IOrchestratorRequest;
  completionToken: string;
}

export interface OrchestrationResult {
  request: CompleteRequest;
  name: string;
  /** What the episode did, for the log line. */
  outcome: "running" | "completed" | "failed" | "continued as new" | "terminated" | "rewound";
  /** Things worth logging (re-enactment guesses, failure messages). */
  notes: string[];
}

export interface BridgeOptions {
  now?: () => number;
  newExecutionId?: () => string;
  newRequestId?: () => string;
  /** host.json httpSettings.defaultAsyncRequestSleepTimeMilliseconds: durable HTTP's default wait between polls. */
  httpPollMs?: number;
  /** The JSON histories of this work item's episodes (durable-functions 3): a continued episode reuses the last one's. */
  histories?: JsonHistories;
}

/** One episode being answered: what both protocols' bridges need to turn an outcome into the completion. */
export interface Episode {
  instanceId: string;
  executionId: string;
  name: string;
  past: HistoryEvent[];
  fresh: HistoryEvent[];
  started: pb.IExecutionStartedEvent;
  parentInstanceId?: string;
  notes: string[];
  complete(actions: pb.IOrchestratorAction[], outcome: OrchestrationResult["outcome"], customStatus?: string): OrchestrationResult;
  fail(details: FailureDetails, actions?: pb.IOrchestratorAction[], customStatus?: string): OrchestrationResult;
  /** Set when the host answers the episode itself (termination, rewind): the orchestrator code does not run. */
  answered?: OrchestrationResult;
}

/** Reads the work item and prepares its completion; terminations and rewinds are answered here. */
export function openEpisode(item: OrchestrationWorkItem, options: BridgeOptions = {}): Episode {
  const req = item.orchestratorRequest;
  const past = req.pastEvents ?? [];
  const fresh = req.newEvents ?? [];
  const instanceId = req.instanceId ?? "";
  const started = findExecutionStarted(past, fresh);
  if (!started) throw new WorkItemError(`Orchestration '${instanceId}' has no ExecutionStarted event in its history`);
  const name = started.name ?? "";
  const executionId = val(req.executionId) || val(started.orchestrationInstance?.executionId) || "";
  const now = (options.now ?? Date.now)();
  const notes: string[] = [];
  const record: InstanceRecord = {
    instanceId, executionId, name, version: val(started.version) || undefined, status: Status.ORCHESTRATION_STATUS_RUNNING,
    input: val(started.input), createdAt: now, lastUpdatedAt: now,
    parentInstanceId: started.parentInstance?.orchestrationInstance?.instanceId || undefined,
  };
  const complete = (actions: pb.IOrchestratorAction[], outcome: OrchestrationResult["outcome"], customStatus?: string): OrchestrationResult => {
    const episode = applyEpisode({
      instance: record, history: past, dispatched: fresh, actions, customStatus, now,
      newExecutionId: options.newExecutionId ?? (() => randomUUID().replace(/-/g, "")),
    });
    return { request: outcomeToRequest(episode, item.completionToken), name, outcome, notes };
  };
  const fail = (details: FailureDetails, actions: pb.IOrchestratorAction[] = [], customStatus?: string) => {
    notes.push(details.errorMessage ?? "");
    return complete([...actions, { id: -1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_FAILED, failureDetails: details } }], "failed", customStatus);
  };
  const episode: Episode = { instanceId, executionId, name, past, fresh, started, parentInstanceId: record.parentInstanceId, notes, complete, fail };

  // Termination and rewind are the host's business; the orchestrator code does not run for them.
  const terminated = fresh.find((e) => e.executionTerminated)?.executionTerminated;
  if (terminated) {
    episode.answered = complete([{ id: -1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_TERMINATED, result: terminated.input } }], "terminated");
  } else if (fresh.some((e) => e.executionRewound) && past.some((e) => e.executionCompleted)) {
    episode.answered = complete([{ id: -1, rewindOrchestration: { newHistory: rewoundHistory(past, fresh) } }], "rewound");
  }
  return episode;
}

export async function runOrchestration(app: FunctionApp, item: OrchestrationWorkItem, options: BridgeOptions = {}): Promise<OrchestrationResult> {
  const episode = openEpisode(item, options);
  if (episode.answered) return episode.answered;
  const { instanceId, executionId, name, past, fresh, started, notes, complete, fail } = episode;

  const fn = findFunction(app, name, ORCHESTRATION_TRIGGER);
  if (!fn) return fail({ errorType: "FunctionNotFound", errorMessage: notFoundMessage(app, "orchestrator", name, ORCHESTRATION_TRIGGER), isNonRetriable: true });

  const events = replayEvents(past, fresh);
  const trigger = {
    history: (options.histories ?? new JsonHistories()).of(events),
    input: parseJson(val(started.input)),
    instanceId,
    isReplaying: past.length > 0,
    // Left out when unset, as its JSON text would leave it out.
    ...(episode.parentInstanceId === undefined ? {} : { parentInstanceId: episode.parentInstanceId }),
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    upperSchemaVersionNew: UPPER_SCHEMA_VERSION_NEW,
    longRunningTimerIntervalDuration: LONG_TIMER_INTERVAL,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER,
    defaultHttpAsyncRequestSleepTimeMillseconds: options.httpPollMs ?? DEFAULT_HTTP_POLL_MS,
  };

  let state: Record<string, unknown> | undefined;
  let thrown: unknown;
  try {
    const res = await app.invoke(fn.name, { inputData: { [fn.triggerBindingName]: jsonData(trigger) }, trigger });
    state = returnedObject(res.returnValue);
  } catch (err) {
    state = outOfProcState(err);
    // Anything else is not the orchestrator's doing (the host or the library failed): let it be retried.
    if (!state) throw err;
    thrown = err;
  }
  if (!state || !Array.isArray(state.actions)) {
    return fail({
      errorType: "InvalidOrchestratorState", isNonRetriable: true,
      errorMessage: `Orchestrator function '${fn.name}' returned no orchestrator state: register it with df.app.orchestration (it returned ${safeJson(state)})`,
    });
  }

  const customStatus = state.customStatus === undefined || state.customStatus === null ? undefined : JSON.stringify(state.customStatus);
  const actions = (state.actions as unknown[]).flat(1) as DfAction[];
  const failed = thrown !== undefined || typeof state.error === "string";
  let plan;
  try {
    plan = planActions({
      instanceId, executionId, events, actions, finished: !!state.isDone || failed, newRequestId: options.newRequestId, httpPollMs: options.httpPollMs,
      retryTimeouts: !!app.retryTimeouts,
    });
  } catch (err) {
    if (!(err instanceof NonDeterminismError)) throw err;
    return fail({ errorType: "NonDeterministicOrchestration", errorMessage: `Orchestrator function '${fn.name}' failed: ${err.message}`, isNonRetriable: true }, [], customStatus);
  }
  notes.push(...plan.notes);

  if (failed) {
    // The message is in durable-functions' state; the type and stack come from what the orchestrator
    // threw, when the host kept it (host/orchestrator-errors.ts). An unhandled activity or
    // sub-orchestration failure also keeps that failure.
    const innerFailure = failureFromJson(state.failureDetails);
    const message = typeof state.error === "string" ? state.error : messageBeforeLabel(thrown);
    const original = thrownByOrchestrator(thrown);
    return fail({
      errorType: innerFailure ? "TaskFailedError" : original.errorType ?? "Error", errorMessage: `Orchestrator function '${fn.name}' failed: ${message}`,
      stackTrace: str(original.stackTrace), innerFailure,
    }, plan.actions, customStatus);
  }
  if (plan.continueAsNew) {
    return complete([...plan.actions, {
      id: -1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_CONTINUED_AS_NEW, result: str(plan.continueAsNew.input) },
    }], "continued as new", customStatus);
  }
  if (state.isDone) {
    return complete([...plan.actions, {
      id: -1, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_COMPLETED, result: str(json(state.output)) },
    }], "completed", customStatus);
  }
  return complete(plan.actions, "running", customStatus);
}

/** The orchestrator state durable-functions appends to the message of the Error it throws on failure. */
export function outOfProcState(err: unknown): Record<string, unknown> | undefined {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : undefined;
  const at = message?.indexOf(OUT_OF_PROC_LABEL) ?? -1;
  if (!message || at < 0) return undefined;
  try {
    const state = JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length));
    return state && typeof state === "object" ? state : undefined;
  } catch {
    return undefined;
  }
}

function messageBeforeLabel(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf(OUT_OF_PROC_LABEL);
  return (at < 0 ? message : message.slice(0, at)).trim();
}

/**
 * The history a rewind leaves: failed results and the scheduling of failed activities removed (so
 * they run again), the execution's end removed; it starts with ExecutionStarted (the precomputed
 * completion's convention for a rewritten history).
 */
export function rewoundHistory(past: HistoryEvent[], fresh: HistoryEvent[]): HistoryEvent[] {
  const all = [...past, ...fresh];
  const failedTasks = new Set<number>();
  for (const e of all) if (e.taskFailed) failedTasks.add(e.taskFailed.taskScheduledId ?? 0);
  const clean = all.filter((e) => !(e.taskFailed || e.subOrchestrationInstanceFailed || e.executionCompleted || (e.taskScheduled && failedTasks.has(e.eventId ?? -1))));
  const i = clean.findIndex((e) => e.executionStarted);
  return i <= 0 ? clean : [clean[i], ...clean.slice(0, i), ...clean.slice(i + 1)];
}

function parseJson(text: string | undefined): unknown {
  return text === undefined || text === "" ? undefined : parsedText(text);
}
