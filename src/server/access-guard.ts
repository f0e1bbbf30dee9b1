// The access check at the gRPC edge: every handler of a service runs only after its caller is
// authenticated and holds the role the RPC needs on the call's task hub, so no refused call reaches
// the engine. A work item stream is ended when its token stops being accepted; the worker reconnects
// with a fresh one.
import * as grpc from "@grpc/grpc-js";
import { AccessControl, Caller } from "../auth/access";
import { permissionFor } from "../auth/roles";
import { DEFAULT_HUB } from "../scheduler/scheduler";
import { toServiceError } from "./errors";
import { hubName } from "./hub-call";

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** Wraps every handler of `handlers` (the implementation of `definition`) with the access check; as is when access is open. */
export function guardService(
  definition: grpc.ServiceDefinition,
  handlers: grpc.UntypedServiceImplementation,
  access: AccessControl,
): grpc.UntypedServiceImplementation {
  if (!access.enabled) return handlers;
  const guarded: grpc.UntypedServiceImplementation = {};
  for (const [method, attrs] of Object.entries(definition)) {
    const serviceName = attrs.path.split("/")[1];
    const permission = permissionFor(serviceName, method);
    // A new RPC must get its row in the role table before it can be served with auth on.
    if (!permission) throw new Error(`${serviceName}/${method} has no entry in the role table (src/auth/roles.ts)`);
    const handler = handlers[method] as (...args: unknown[]) => void;
    /** The authorized caller: at once for a token seen before (no promise on the hot path), else once verified. */
    const check = (call: AnyCall): Caller | Promise<Caller> => {
      const header = call.metadata.get("authorization")[0];
      const authorization = header === undefined ? undefined : String(header);
      const hub = hubName(call.metadata) || DEFAULT_HUB;
      const known = access.known(authorization);
      if (known) {
        access.authorize(known, permission, hub, method);
        return known;
      }
      return access.authenticate(authorization).then((caller) => {
        access.authorize(caller, permission, hub, method);
        return caller;
      });
    };
    /** Runs `then` with the caller, or `fail` with the refusal; synchronously when the caller is known. */
    const checked = (call: AnyCall, then: (caller: Caller) => void, fail: (err: unknown) => void): void => {
      let result: Caller | Promise<Caller>;
      try {
        result = check(call);
      } catch (err) {
        fail(err);
        return;
      }
      if (result instanceof Promise) result.then(then, fail);
      else then(result);
    };
    if (attrs.responseStream) {
      guarded[method] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        checked(call, (caller) => {
          if (call.cancelled) return;
          endAtExpiry(call, caller);
          handler(call);
        }, (err) => call.emit("error", Object.assign(new Error(), toServiceError(err))));
      };
    } else {
      guarded[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        checked(call, () => handler(call, callback), (err) => callback(toServiceError(err)));
      };
    }
  }
  return guarded;
}

/** Ends a stream with UNAUTHENTICATED once the token it was opened with is no longer accepted. */
function endAtExpiry(call: grpc.ServerWritableStream<unknown, unknown>, caller: Caller): void {
  if (caller.acceptedUntil === undefined) return;
  // setTimeout's limit is about 24.8 days; a stream outliving that is ended then too, and reconnects.
  const delay = Math.min(Math.max(0, caller.acceptedUntil - Date.now()), 2 ** 31 - 1);
  const timer = setTimeout(() => {
    call.emit("error", Object.assign(new Error(), {
      code: grpc.status.UNAUTHENTICATED,
      details: "The bearer token this stream was opened with has expired: reconnect with a new token",
    }));
  }, delay);
  const stop = () => clearTimeout(timer);
  call.on("cancelled", stop);
  call.on("close", stop);
  call.on("error", stop);
  call.on("finish", stop);
}
