// A BackendService gRPC client for the provider: the scheduler's address and TLS from the connection
// string's endpoint, the metadata the managed scheduler expects on every call (task hub, bearer token,
// worker id, user agent), retries of UNAVAILABLE calls, a GetWorkItems stream that reconnects by
// itself when it ends, fails or goes silent, and completions over the scheduler's completion stream
// when its GetWorkItems headers offer one (completion-channel.ts).
import * as grpc from "@grpc/grpc-js";
import { clientCredentials } from "../proto/client-credentials";
import { randomUUID } from "crypto";
import * as os from "os";
import { pb } from "../proto";
import { CAPABILITIES_HEADER, COMPLETION_STREAM, CONTINUED_EPISODES, HISTORY_LIMIT_HEADER, offeredCapabilities, PAYLOAD_LIMIT_HEADER } from "../proto/capabilities";
import { backendDefinition, completionStreamDefinition } from "../proto/services";
import { CompletionChannel, CompletionKind } from "./completion-channel";
import { TokenSource, warnIfTokenInPlaintext } from "./credentials";

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** The SDKs' default: UNAVAILABLE only, up to 10 attempts, 50 ms doubling to 250 ms. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, initialDelayMs: 50, maxDelayMs: 250 };
/** Stream reconnects: 1 s doubling to 30 s, as the SDK workers do. */
export const DEFAULT_RECONNECT = { initialDelayMs: 1000, maxDelayMs: 30_000 };
/** A stream with no item (the scheduler pings silent streams every 30 s) for this long is assumed dead, as the .NET worker does. */
export const DEFAULT_SILENCE_MS = 120_000;

export interface BackendClientOptions {
  /** Absolute URL: https:// uses TLS, http:// plaintext. */
  endpoint: string;
  taskHub: string;
  tokenSource?: TokenSource;
  workerId?: string;
  retry?: RetryPolicy;
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  silenceMs?: number;
  log?: (line: string) => void;
}

export interface WorkItemHandlers {
  onItem(item: pb.WorkItem): void;
  /** Each time a stream opens (the first time and after every reconnect). */
  onConnect?(): void;
  /** Each time a stream ends or fails, before the reconnect delay. */
  onDisconnect?(reason: string): void;
}

export interface WorkItemStream {
  close(): void;
}

export const USER_AGENT = `dts-functions-provider/${packageVersion()}`;

/** `{machine},{pid},{guid}`, as the .NET and JS workers identify themselves. */
export function newWorkerId(): string {
  return `${os.hostname()},${process.pid},${randomUUID()}`;
}

/** host:port for gRPC from the endpoint URL (443 / 80 when it has no port). */
export function grpcTarget(endpoint: string): { target: string; secure: boolean } {
  const url = new URL(endpoint);
  const secure = url.protocol === "https:";
  return { target: `${url.hostname}:${url.port || (secure ? 443 : 80)}`, secure };
}

export class BackendClient {
  readonly workerId: string;
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  private readonly log: (line: string) => void;
  private readonly streams = new Set<WorkItemStream>();
  private readonly completions: CompletionChannel;
  private continuedLimit: number | undefined;
  private historyLimit: number | undefined;

  constructor(private readonly options: BackendClientOptions) {
    this.workerId = options.workerId ?? newWorkerId();
    this.log = options.log ?? (() => {});
    if (options.tokenSource) warnIfTokenInPlaintext(options.endpoint);
    const { target, secure } = grpcTarget(options.endpoint);
    // One client for both services: each method carries its own path, and they share the connection.
    const Ctor = grpc.makeGenericClientConstructor({ ...backendDefinition, ...completionStreamDefinition } as grpc.ServiceDefinition, "BackendService");
    this.client = new Ctor(target, clientCredentials(secure), {
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
    }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
    this.completions = new CompletionChannel({
      open: async () => {
        const md = await this.metadata();
        return this.client.CompleteWorkItems.call(this.client, md) as grpc.ClientDuplexStream<pb.dts.v1.IWorkItemCompletion, pb.dts.v1.IWorkItemCompletionAcks>;
      },
      unary: (method, request) => this.call(method, request),
      log: this.log,
    });
  }

  /** Whether the scheduler is ours: its work item stream offered the completion stream (and with it inline activities). */
  get completionStreamOffered(): boolean {
    return this.completions.offered;
  }

  /** When the scheduler offers continued episodes (over the completion stream): its payload limit, which their activity results keep to. */
  get continuedEpisodesLimit(): number | undefined {
    return this.completions.offered ? this.continuedLimit : undefined;
  }

  /** The scheduler's history limit, which continued episodes keep to; undefined when it names none (an earlier build). */
  get continuedEpisodesHistoryLimit(): number | undefined {
    return this.continuedEpisodesLimit === undefined ? undefined : this.historyLimit;
  }

  /** Completes a work item: over the completion stream when the scheduler offers one, else by its unary RPC. */
  complete(kind: CompletionKind, request: object): Promise<void> {
    return this.completions.complete(kind, request);
  }

  /** The metadata for one call; the token comes from the source's cache. */
  async metadata(): Promise<grpc.Metadata> {
    const md = new grpc.Metadata();
    md.set("taskhub", this.options.taskHub);
    md.set("workerid", this.workerId);
    md.set("x-user-agent", USER_AGENT);
    if (this.options.tokenSource) md.set("authorization", `Bearer ${await this.options.tokenSource.getToken()}`);
    return md;
  }

  /** A unary call by method name; UNAVAILABLE is retried with backoff. */
  async call<T = unknown>(method: string, request: object): Promise<T> {
    const retry = this.options.retry ?? DEFAULT_RETRY;
    let delay = retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, request);
      } catch (err) {
        if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || attempt >= retry.maxAttempts) throw err;
        await sleep(delay);
        delay = Math.min(delay * 2, retry.maxDelayMs);
      }
    }
  }

  private async once<T>(method: string, request: object): Promise<T> {
    const md = await this.metadata();
    const fn = this.client[method];
    if (typeof fn !== "function") throw new Error(`BackendService has no method ${method}`);
    return new Promise<T>((resolve, reject) => {
      fn.call(this.client, request, md, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  /**
   * Opens GetWorkItems and keeps it open: when the stream ends, fails or is silent too long it is
   * reopened after a delay growing from 1 s to 30 s (back to 1 s once items flow again).
   */
  streamWorkItems(request: pb.IGetWorkItemsRequest, handlers: WorkItemHandlers): WorkItemStream {
    const reconnect = this.options.reconnect ?? DEFAULT_RECONNECT;
    const silenceMs = this.options.silenceMs ?? DEFAULT_SILENCE_MS;
    let closed = false;
    let delay = reconnect.initialDelayMs;
    let call: grpc.ClientReadableStream<pb.WorkItem> | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let silenceTimer: NodeJS.Timeout | undefined;

    const open = async () => {
      retryTimer = undefined;
      if (closed) return;
      let md: grpc.Metadata;
      try {
        md = await this.metadata();
      } catch (err) {
        return lost(`could not get a token: ${(err as Error).message}`);
      }
      if (closed) return;
      const current = this.client.GetWorkItems(request, md) as grpc.ClientReadableStream<pb.WorkItem>;
      call = current;
      let ended = false;
      const end = (reason: string) => {
        if (ended) return;
        ended = true;
        if (silenceTimer) clearTimeout(silenceTimer);
        if (call === current) call = undefined;
        lost(reason);
      };
      const watch = () => {
        if (silenceTimer) clearTimeout(silenceTimer);
        silenceTimer = setTimeout(() => {
          current.cancel();
          end(`no work item or health ping for ${Math.round(silenceMs / 1000)} s`);
        }, silenceMs);
        silenceTimer.unref?.();
      };
      watch();
      current.on("metadata", (headers: grpc.Metadata) => {
        delay = reconnect.initialDelayMs;
        const offered = offeredCapabilities(headers.get(CAPABILITIES_HEADER));
        this.completions.offered = offered.has(COMPLETION_STREAM);
        this.continuedLimit = offered.has(CONTINUED_EPISODES) ? positiveHeader(headers, PAYLOAD_LIMIT_HEADER) : undefined;
        this.historyLimit = positiveHeader(headers, HISTORY_LIMIT_HEADER);
        handlers.onConnect?.();
      });
      current.on("data", (item: pb.WorkItem) => {
        delay = reconnect.initialDelayMs;
        watch();
        try {
          handlers.onItem(item);
        } catch (err) {
          this.log(`a work item could not be handed over: ${(err as Error).message}`);
        }
      });
      current.on("error", (err: grpc.ServiceError) => end(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
      current.on("end", () => end("the scheduler ended the stream"));
    };

    const lost = (reason: string) => {
      if (closed) return;
      handlers.onDisconnect?.(reason);
      this.log(`work item stream lost (${reason}); reconnecting in ${delay / 1000} s`);
      retryTimer = setTimeout(start, delay);
      delay = Math.min(delay * 2, reconnect.maxDelayMs);
    };

    const stream: WorkItemStream = {
      close: () => {
        if (closed) return;
        closed = true;
        this.streams.delete(stream);
        if (retryTimer) clearTimeout(retryTimer);
        if (silenceTimer) clearTimeout(silenceTimer);
        call?.cancel();
      },
    };
    const start = () => {
      open().catch((err) => lost(`could not open the stream: ${(err as Error).message}`));
    };
    this.streams.add(stream);
    start();
    return stream;
  }

  close(): void {
    for (const s of [...this.streams]) s.close();
    this.completions.close();
    this.client.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** This package's version, from its package.json (dist/src/provider or src/provider below the root). */
function packageVersion(): string {
  for (const rel of ["../../../package.json", "../../package.json"]) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const p = require(rel) as { name?: string; version?: string };
      if (p.name === "durable-task-scheduler" && p.version) return p.version;
    } catch {
      // not at this location
    }
  }
  return "0.0.0";
}

/** A header's value as a positive integer; undefined when it is missing or anything else. */
function positiveHeader(headers: grpc.Metadata, key: string): number | undefined {
  const n = Number(headers.get(key)[0]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
