// Builds grpc-js service definitions from our generated codec, so each RPC is listed once with its types.
import * as grpc from "@grpc/grpc-js";

interface MessageType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(data: Uint8Array): T;
}

export interface RpcSpec {
  request: MessageType<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  response: MessageType<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stream?: boolean;
  /** The client streams requests too (a bidirectional stream when `stream` is set). */
  clientStream?: boolean;
}

/** One RPC of a service: its request and response codecs, and whether it streams responses (and requests). */
export const rpc = (request: unknown, response: unknown, stream = false, clientStream = false) => ({ request, response, stream, clientStream }) as never;

export function serviceDefinition(servicePath: string, rpcs: Record<string, RpcSpec>): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, spec] of Object.entries(rpcs)) {
    def[name] = {
      path: `/${servicePath}/${name}`,
      requestStream: !!spec.clientStream,
      responseStream: !!spec.stream,
      requestSerialize: (m: unknown) => Buffer.from(spec.request.encode(m).finish()),
      requestDeserialize: (b: Buffer) => spec.request.decode(b),
      responseSerialize: (m: unknown) => Buffer.from(spec.response.encode(m).finish()),
      responseDeserialize: (b: Buffer) => spec.response.decode(b),
      originalName: name[0].toLowerCase() + name.slice(1),
    };
  }
  return def;
}
