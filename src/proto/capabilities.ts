// What this scheduler offers beyond the standard protocol, and how it says so: a header in the
// response headers of each GetWorkItems stream, which hosts that are not ours ignore.

export const CAPABILITIES_HEADER = "dts-capabilities";
/** Completions and acknowledgements over one dts.v1.CompletionStream call (completion_stream.proto). */
export const COMPLETION_STREAM = "completion-stream";
/**
 * Continued episodes: a host that ran every activity an episode scheduled inline may run the next
 * episode at once and send both as one completion (core/precomputed-completion.ts).
 */
export const CONTINUED_EPISODES = "continued-episodes";
/** The scheduler's --max-payload-bytes, which the activity results inside a continued episode must keep to. */
export const PAYLOAD_LIMIT_HEADER = "dts-max-payload-bytes";
/** The scheduler's --max-history-events: a continued episode whose history would pass it goes to a work item of its own. */
export const HISTORY_LIMIT_HEADER = "dts-max-history-events";

/** The capabilities a GetWorkItems stream's headers name. */
export function offeredCapabilities(values: unknown[]): Set<string> {
  return new Set(values.flatMap((v) => String(v).split(",").map((c) => c.trim())));
}
