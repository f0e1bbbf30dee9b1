// An activity's result as its orchestration receives it, whichever way it came back: a worker's
// completion, or a Functions host that ran the activity inline with the episode that scheduled it.
import { event, fromTimestamp } from "./events";
import { payloadBytes } from "./limits";
import { HistoryEvent } from "./model";

/** The TaskCompleted or TaskFailed event, with a result over `limit` turned into TaskFailed (PayloadTooLarge). */
export function limitedActivityResult(name: string, e: HistoryEvent, limit: number): HistoryEvent {
  const done = e.taskCompleted;
  if (!done) return e;
  const size = payloadBytes(done.result?.value);
  if (size <= limit) return e;
  return event(fromTimestamp(e.timestamp) ?? Date.now(), {
    taskFailed: {
      taskScheduledId: done.taskScheduledId,
      failureDetails: { errorType: "PayloadTooLarge", errorMessage: `The result of activity '${name}' is ${size} bytes; the limit is ${limit} bytes`, isNonRetriable: true },
    },
  });
}
