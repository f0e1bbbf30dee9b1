// What this scheduler offers beyond the standard protocol, and how it says so: a header in the
// response headers of each GetWorkItems stream, which hosts that are not ours ignore.

export const CAPABILITIES_HEADER = "dts-capabilities";
/** Completions and acknowledgements over one dts.v1.CompletionStream call (completion_stream.proto). */
export const COMPLETION_STREAM = "completion-stream";
