// Continued episodes. When the scheduler offers them and every activity an orchestrator episode
// scheduled ran inline (inline-activities.ts), the host does not send the results back to wait for
// the next work item: it runs the orchestrator's next episode at once, with those results as its new
// events, and goes on while that holds and the wait has not run out. The episodes go to the
// scheduler as one completion (core/precomputed-completion.ts joinEpisodes), committed at once: a
// sequence of quick activities costs one work item and one commit instead of one per step.
//
// What stays as it was:
// - the history: each episode's OrchestratorStarted, its results and the events of its actions, in
//   the order separate work items would have written them;
// - what an orchestration sees: messages that arrive meanwhile wait in its inbox for the next work
//   item, as if they had arrived just after these episodes;
// - at-least-once: nothing is durable until the completion commits; if it is lost, the work item runs
//   again from its first episode, activities included.
//
// The host stops continuing (and sends what it has) when an episode ends the orchestration, leaves
// work to the scheduler, runs no activity, when the activity results so far exceed the scheduler's
// payload limit, or when the wait has run out. An episode that fails on the host, or whose history
// would pass the scheduler's history limit, is left out: the scheduler dispatches it as a work item
// of its own, where it fails as it would have, after the episodes before it are committed.
import { pb } from "../proto";
import { continuedWorkItem, joinEpisodes } from "../core/precomputed-completion";
import { passesHistoryLimit, payloadBytes } from "../core/limits";
import { HistoryEvent } from "../core/model";
import { FoldedEpisode, InlineRun } from "./inline-activities";
import { OrchestrationResult } from "./orchestration-bridge";

type CompleteRequest = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;

export interface ContinuedEpisodeOptions {
  /** Runs the episode's new activities inline where it may (InlineActivities.fold). */
  fold(request: CompleteRequest): Promise<FoldedEpisode>;
  /** Runs the orchestrator for a work item. */
  run(item: pb.IOrchestratorRequest): Promise<OrchestrationResult>;
  /** The scheduler's payload limit when it takes continued episodes; undefined when it does not. */
  limit: number | undefined;
  /** The scheduler's history limit (events), when it names one. */
  historyLimit?: number;
  /** How long after the work item's first episode began the host may start another one. */
  budgetMs: number;
  now?: () => number;
}

/** One episode of the completion: the orchestrator's result and the activities run inline for it. */
export interface EpisodeStep {
  result: OrchestrationResult;
  /** Its part of the completion, its inline results as messages to the instance itself (as sent when it is the last). */
  request: CompleteRequest;
  ran: InlineRun[];
  /** Inline runs that outlived the wait (their tasks went to the scheduler). */
  outlived: number;
  ms: number;
}

export interface EpisodeRun {
  /** The completion for all the episodes. */
  request: CompleteRequest;
  episodes: EpisodeStep[];
  /** Why a continued episode was left out (the ones before it are sent). */
  stopped?: string;
}

/** Runs `first`'s activities inline and, while it may, the episodes after it; returns their one completion. */
export async function runEpisodes(item: pb.IOrchestratorRequest, first: OrchestrationResult, options: ContinuedEpisodeOptions): Promise<EpisodeRun> {
  const now = options.now ?? Date.now;
  const begun = now();
  const episodes: EpisodeStep[] = [];
  let work = item;
  let result = first;
  let begunEpisode = begun;
  /** The episodes before the current one, whose results went to the next as its new events. */
  const settled: CompleteRequest[] = [];
  let resultBytes = 0;
  for (;;) {
    const folded = await options.fold(result.request);
    episodes.push({ result, request: folded.request, ran: folded.ran, outlived: folded.outlived, ms: now() - begunEpisode });
    const sent = () => joinEpisodes([...settled, folded.request]);
    const results = folded.ran.map((r) => r.result.request.responseEvent as HistoryEvent);
    for (const e of results) resultBytes += payloadBytes(e.taskCompleted?.result?.value);
    const goOn = options.limit !== undefined && result.outcome === "running" && folded.ran.length > 0 && folded.outlived === 0 &&
      (folded.request.newTasks ?? []).length === 0 && resultBytes <= options.limit && now() - begun < options.budgetMs;
    if (!goOn) return { request: sent(), episodes };

    // The results become the next episode's new events instead of messages to the instance itself.
    const episode = { ...result.request, newTasks: [] };
    begunEpisode = now();
    work = continuedWorkItem(work, result.request, results, begunEpisode);
    try {
      result = await options.run(work);
    } catch (err) {
      // The library or the host failed on this one: what ran before it is sound, and the scheduler
      // dispatches the rest as usual.
      return { request: sent(), episodes, stopped: (err as Error).message ?? String(err) };
    }
    // The chain would fail as one at its limit check, losing the episodes before this one.
    const length = (work.pastEvents ?? []).length + (result.request.newHistory ?? []).length;
    if (options.historyLimit !== undefined && passesHistoryLimit(length, options.historyLimit, result.outcome !== "running")) {
      return { request: sent(), episodes, stopped: `its history would have ${length} events, past the scheduler's limit of ${options.historyLimit}` };
    }
    settled.push(episode);
  }
}
