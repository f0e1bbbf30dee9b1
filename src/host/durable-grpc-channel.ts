// The loopback gRPC channel durable-functions 4's client calls (the durableClient binding's
// rpcBaseUrl), as the Durable extension opens one on the real host: a TaskHubSidecarService that
// relays every call to the scheduler named by the connection string, bytes unchanged, adding the
// connection's credential, so the app never needs the scheduler's address or secrets. Calls carry the
// task hub (the client's `taskhub` metadata, else the app's hub); messages up to the advertised
// maxGrpcMessageSizeInBytes pass both ways.
import * as grpc from "@grpc/grpc-js";
import { clientCredentials } from "../proto/client-credentials";
import { TokenSource } from "../provider/credentials";
import { sidecarDefinition } from "../proto/services";
import { parseEndpoint } from "./sidecar-client";

/** What the binding advertises and the channel accepts: room for large inputs and outputs (the gRPC default is 4 MiB). */
export const DEFAULT_MAX_GRPC_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Metadata the relay passes on; the rest (transport headers, any authorization) is the channel's own. */
const FORWARDED = ["taskhub", "x-user-agent", "traceparent", "tracestate"];

export interface DurableGrpcChannelOptions {
  /** The scheduler's endpoint (the connection string's Endpoint). */
  endpoint: string;
  hubName: string;
  tokenSource?: TokenSource;
  maxMessageBytes?: number;
}

export interface DurableGrpcChannel {
  /** What the durableClient binding's rpcBaseUrl is set to. */
  readonly url: string;
  readonly maxMessageBytes: number;
  close(): Promise<void>;
}

const raw = (b: Buffer) => b;

export async function openDurableGrpcChannel(options: DurableGrpcChannelOptions): Promise<DurableGrpcChannel> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_GRPC_MESSAGE_BYTES;
  const limits = { "grpc.max_receive_message_length": maxMessageBytes, "grpc.max_send_message_length": maxMessageBytes };
  const target = parseEndpoint(options.endpoint);
  const upstream = new grpc.Client(target.address, clientCredentials(target.secure), limits);

  const outgoing = async (incoming: grpc.Metadata): Promise<grpc.Metadata> => {
    const md = new grpc.Metadata();
    for (const key of FORWARDED) for (const v of incoming.get(key)) md.add(key, v);
    if (md.get("taskhub").length === 0) md.set("taskhub", options.hubName);
    if (options.tokenSource) md.set("authorization", `Bearer ${await options.tokenSource.getToken()}`);
    return md;
  };
  const unavailable = (err: unknown): Partial<grpc.ServiceError> => ({
    code: grpc.status.UNAVAILABLE, details: `The host could not authenticate to the Durable Task Scheduler: ${(err as Error).message}`,
  });

  // The same RPCs as the scheduler's service, with the messages left as bytes.
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(sidecarDefinition as grpc.ServiceDefinition)) {
    definition[name] = { ...method, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
    const path = method.path;
    handlers[name] = method.responseStream
      ? (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        outgoing(call.metadata).then((md) => {
          const up = upstream.makeServerStreamRequest(path, raw, raw, call.request, md, { deadline: call.getDeadline() });
          call.on("cancelled", () => up.cancel());
          up.on("data", (chunk: Buffer) => call.write(chunk));
          up.on("error", (err) => call.emit("error", err));
          up.on("end", () => call.end());
        }, (err) => call.emit("error", unavailable(err)));
      }
      : (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        outgoing(call.metadata).then((md) => {
          const up = upstream.makeUnaryRequest(path, raw, raw, call.request, md, { deadline: call.getDeadline() }, (err, res) => callback(err, res));
          call.on("cancelled", () => up.cancel());
        }, (err) => callback(unavailable(err)));
      };
  }

  const server = new grpc.Server(limits);
  server.addService(definition as grpc.ServiceDefinition, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

  return {
    url: `http://127.0.0.1:${port}/`,
    maxMessageBytes,
    close: async () => {
      // Calls in flight may be long waits (WaitForInstanceCompletion): give them a moment, then cut them.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      upstream.close();
    },
  };
}
