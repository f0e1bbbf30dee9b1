// When an orchestration waiting on task results runs its next episode. Every episode replays the
// whole history, so one episode per result makes a fan-in of n tasks replay O(n²) events. While
// results are still out, the ones in hand wait a little for the rest: at most `factor` times what
// the orchestration's last episode took (so replaying takes at most about 1 / (factor + 1) of its
// time), and never more than `maxWaitMs`. Once every open task has reported, nothing waits, so a
// sequence of tasks, one at a time, is never held (the engine also releases a work item's worth).
import { HistoryEvent } from "./model";

/** A result of a task the orchestration scheduled (an activity or a sub-orchestration). */
export function isTaskResult(e: HistoryEvent): boolean {
  return !!(e.taskCompleted || e.taskFailed || e.subOrchestrationInstanceCompleted || e.subOrchestrationInstanceFailed);
}

/**
 * Tasks scheduled (activities, sub-orchestrations) minus task results among `events` from `from` on:
 * over a whole history, the tasks it has not seen answered (clamp at 0: a rewound history may answer
 * more than it asked); over its tail, what appending those events changed.
 */
export function taskBalance(events: HistoryEvent[], from = 0): number {
  let open = 0;
  for (let i = from; i < events.length; i++) {
    const e = events[i];
    if (e.taskScheduled || e.subOrchestrationInstanceCreated) open++;
    else if (isTaskResult(e)) open--;
  }
  return open;
}

/**
 * When `results` waiting results (the first visible at `firstAt`) may run an orchestration with
 * `openTasks` open tasks whose last episode took `lastEpisodeMs`; a `factor` of 0 never holds them.
 */
export function resultsDueAt(results: number, firstAt: number, openTasks: number, lastEpisodeMs: number, factor: number, maxWaitMs: number): number {
  if (results >= openTasks || factor <= 0) return firstAt;
  // An episode takes at least the clock's millisecond, whatever it measured.
  return firstAt + Math.min(maxWaitMs, factor * Math.max(1, lastEpisodeMs));
}
