// Turns any error into a gRPC status a client can act on; unexpected errors never escape a handler.
import * as grpc from "@grpc/grpc-js";
import { SchedulerError } from "../core/errors";
import { InvalidContinuationTokenError } from "../store/store";
import { errorText, log } from "../log/log";

export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof SchedulerError) return { code: grpc.status[err.code], details: err.message };
  if (err instanceof InvalidContinuationTokenError) return { code: grpc.status.INVALID_ARGUMENT, details: `continuationToken is not valid: ${err.message}` };
  const message = err instanceof Error ? err.message : String(err);
  log.error(`dts: unexpected error in a request handler: ${errorText(err)}`);
  return { code: grpc.status.INTERNAL, details: `Internal error: ${message}` };
}

/** Ends a server stream with an error status. destroy() would skip sending the status and leave the client hanging. */
export function failStream(call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, err: unknown): void {
  call.emit("error", Object.assign(new Error(), toServiceError(err)));
}
