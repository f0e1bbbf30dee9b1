// A gRPC client of the scheduler's TaskHubSidecarService (our service definition and codec) for the
// management API: every call carries the task hub as `taskhub` metadata, as the managed scheduler's
// SDK packages send it from the connection string.
import * as grpc from "@grpc/grpc-js";
import { clientCredentials } from "../proto/client-credentials";
import { pb } from "../proto";
import { TokenSource, warnIfTokenInPlaintext } from "../provider/credentials";
import { sidecarDefinition } from "../proto/services";

export interface SidecarEndpoint {
  /** host:port for grpc-js. */
  address: string;
  secure: boolean;
}

/** "http://localhost:8080" → localhost:8080 in plain text; "https://x.durabletask.io" → x.durabletask.io:443 over TLS. */
export function parseEndpoint(endpoint: string): SidecarEndpoint {
  const text = endpoint.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { address: text, secure: false };
  const url = new URL(text);
  const secure = url.protocol === "https:" || url.protocol === "grpcs:";
  const port = url.port || (secure ? "443" : "80");
  const host = url.hostname.includes(":") && !url.hostname.startsWith("[") ? `[${url.hostname}]` : url.hostname;
  return { address: `${host}:${port}`, secure };
}

export interface SidecarClientOptions {
  /** The bearer token for a scheduler that needs one (Authentication other than None). */
  tokenSource?: TokenSource;
  /** Deadline of unary calls (ms); waits pass their own. */
  timeoutMs?: number;
}

type GenericClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export class SidecarClient {
  readonly endpoint: SidecarEndpoint;
  private readonly client: GenericClient;

  constructor(endpoint: string, private readonly options: SidecarClientOptions = {}) {
    this.endpoint = parseEndpoint(endpoint);
    if (options.tokenSource) warnIfTokenInPlaintext(`${this.endpoint.secure ? "https" : "http"}://${this.endpoint.address}`);
    const Ctor = grpc.makeGenericClientConstructor(sidecarDefinition as grpc.ServiceDefinition, "TaskHubSidecarService");
    const creds = clientCredentials(this.endpoint.secure);
    this.client = new Ctor(this.endpoint.address, creds, { "grpc.max_receive_message_length": -1 }) as unknown as GenericClient;
  }

  private async metadata(hub: string): Promise<grpc.Metadata> {
    const md = new grpc.Metadata();
    md.set("taskhub", hub);
    if (this.options.tokenSource) md.set("authorization", `Bearer ${await this.options.tokenSource.getToken()}`);
    return md;
  }

  /** Calls a unary RPC by its name in the service definition; rejects with the grpc ServiceError. */
  async call<T>(method: string, request: object, hub: string, timeoutMs = this.options.timeoutMs ?? 30_000): Promise<T> {
    const md = await this.metadata(hub);
    return new Promise<T>((resolve, reject) => {
      this.client[method](request, md, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  /** The whole history of an instance (StreamInstanceHistory, all chunks). */
  async history(instanceId: string, hub: string): Promise<pb.IHistoryEvent[]> {
    const md = await this.metadata(hub);
    return new Promise((resolve, reject) => {
      const events: pb.IHistoryEvent[] = [];
      const stream = this.client.StreamInstanceHistory({ instanceId }, md, { deadline: Date.now() + (this.options.timeoutMs ?? 30_000) }) as grpc.ClientReadableStream<pb.HistoryChunk>;
      stream.on("data", (chunk: pb.HistoryChunk) => events.push(...(chunk.events ?? [])));
      stream.on("error", reject);
      stream.on("end", () => resolve(events));
    });
  }

  close(): void {
    this.client.close();
  }
}

export function isGrpcError(err: unknown): err is grpc.ServiceError {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "number" && "details" in err;
}
