// One unary call against the task hub its metadata names: the shape both gRPC services' handlers take.
import * as grpc from "@grpc/grpc-js";
import { Scheduler } from "../scheduler/scheduler";
import { Hub } from "../scheduler/hub";
import { toServiceError } from "./errors";

export type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;
export type Handler<Req> = (req: Req, hub: Hub, call: Call<Req>) => unknown | Promise<unknown>;

export function hubName(metadata: grpc.Metadata): string | undefined {
  const v = metadata.get("taskhub")[0];
  return v === undefined ? undefined : String(v);
}

/** A unary handler on the task hub the call's metadata names; every error becomes a gRPC status. */
export function hubUnary<Req>(scheduler: Scheduler, fn: Handler<Req>): grpc.handleUnaryCall<Req, unknown> {
  return (call, callback) => {
    try {
      const hub = scheduler.hub(hubName(call.metadata));
      Promise.resolve(fn(call.request, hub, call)).then((r) => callback(null, r ?? {}), (e) => callback(toServiceError(e)));
    } catch (e) {
      callback(toServiceError(e));
    }
  };
}
