// Domain errors carry the gRPC status name they map to; the server edge translates them.
export type ErrorCode =
  | "INVALID_ARGUMENT" | "NOT_FOUND" | "ALREADY_EXISTS" | "FAILED_PRECONDITION"
  | "RESOURCE_EXHAUSTED" | "UNAUTHENTICATED" | "PERMISSION_DENIED" | "DEADLINE_EXCEEDED"
  | "UNAVAILABLE" | "INTERNAL" | "UNIMPLEMENTED" | "CANCELLED";

export class SchedulerError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

export const invalid = (m: string) => new SchedulerError("INVALID_ARGUMENT", m);
export const notFound = (m: string) => new SchedulerError("NOT_FOUND", m);
export const precondition = (m: string) => new SchedulerError("FAILED_PRECONDITION", m);

/** A change the store refused: nothing of it was applied, so trying again is safe. */
export const notStored = (err: Error) =>
  new SchedulerError("UNAVAILABLE", `The change was not stored and nothing of it was applied (${err.message}); try again`);
