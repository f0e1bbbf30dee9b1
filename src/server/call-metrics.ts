// Every gRPC call's outcome, told to a listener (the /metrics counter) once per call: a unary call
// when it answers, a stream when it ends. Wraps a whole service at the edge, outside the access
// check, so refused calls count too; as is when nobody listens.
import * as grpc from "@grpc/grpc-js";

/** Told each call's service, method and status code name (OK, NOT_FOUND, …). */
export type CallListener = (service: string, method: string, code: string) => void;

type ServerStream = grpc.ServerWritableStream<unknown, unknown>;

export function countCalls(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation, listener: CallListener | undefined): grpc.UntypedServiceImplementation {
  if (!listener) return handlers;
  const counted: grpc.UntypedServiceImplementation = {};
  for (const [method, attrs] of Object.entries(definition)) {
    const service = attrs.path.split("/")[1].split(".").pop() ?? "";
    const handler = handlers[method] as (...args: unknown[]) => void;
    const report = (code: number | undefined) => listener(service, method, grpc.status[code ?? grpc.status.UNKNOWN] ?? String(code));
    if (attrs.responseStream) {
      counted[method] = (call: ServerStream) => {
        let done = false;
        const once = (code: number | undefined) => {
          if (done) return;
          done = true;
          report(code);
        };
        call.once("finish", () => once(grpc.status.OK));
        call.once("error", (err: { code?: number }) => once(err.code));
        call.once("cancelled", () => once(grpc.status.CANCELLED));
        handler(call);
      };
    } else {
      counted[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        handler(call, (err: Partial<grpc.ServiceError> | null, value?: unknown) => {
          report(err ? err.code : grpc.status.OK);
          callback(err, value);
        });
      };
    }
  }
  return counted;
}
