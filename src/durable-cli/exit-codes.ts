// `dts durable`'s exit codes, one per kind of outcome a script may branch on, and which gRPC statuses
// fall into each.
import * as grpc from "@grpc/grpc-js";

export const EXIT = {
  ok: 0,
  /** Anything unexpected (an internal error of the scheduler, a bug). */
  failed: 1,
  /** Unknown verb or flag, a missing or bad value, input that is not JSON, no scheduler named. */
  usage: 2,
  /** The instance (or task hub) does not exist. */
  notFound: 3,
  /** The scheduler could not be reached or did not answer in time. */
  unreachable: 4,
  /** The scheduler refused: wrong state (rewind of a running instance...), id in use, credentials, limits. */
  refused: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for a gRPC status the scheduler (or the channel) answered with. */
export function exitCodeForStatus(code: grpc.status): ExitCode {
  switch (code) {
    case grpc.status.OK:
      return EXIT.ok;
    case grpc.status.NOT_FOUND:
      return EXIT.notFound;
    case grpc.status.INVALID_ARGUMENT:
      return EXIT.usage;
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return EXIT.unreachable;
    case grpc.status.FAILED_PRECONDITION:
    case grpc.status.ALREADY_EXISTS:
    case grpc.status.RESOURCE_EXHAUSTED:
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.UNIMPLEMENTED:
    case grpc.status.ABORTED:
    case grpc.status.OUT_OF_RANGE:
      return EXIT.refused;
    default:
      return EXIT.failed;
  }
}
