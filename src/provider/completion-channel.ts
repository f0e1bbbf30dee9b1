// How the work-item loop hands in completions. When the scheduler offers it (a header on the work item
// stream), over one long-lived dts.v1.CompletionStream call: each completion goes with an id and its
// promise settles with the acknowledgement of that id, which the scheduler sends after the durable
// commit. Otherwise, and for any completion whose acknowledgement a lost stream did not bring, by the
// standard unary RPC (with its retries), exactly as a host that is not ours completes work.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";

type Completion = pb.dts.v1.IWorkItemCompletion;
type Acks = pb.dts.v1.IWorkItemCompletionAcks;
type Call = grpc.ClientDuplexStream<Completion, Acks>;

export type CompletionKind = "orchestration" | "activity" | "entity";

export const COMPLETE_RPC: Record<CompletionKind, string> = {
  orchestration: "CompleteOrchestrationWorkItem", activity: "CompleteActivityWorkItem", entity: "CompleteEntityWorkItem",
};

interface Pending {
  kind: CompletionKind;
  request: object;
  via: Call;
  resolve(): void;
  reject(err: unknown): void;
}

export interface CompletionChannelOptions {
  /** Opens the stream (with the call metadata of the moment: token, hub, worker id). */
  open(): Promise<Call>;
  /** The unary RPC by name, with its retries. */
  unary(method: string, request: object): Promise<unknown>;
  log(line: string): void;
}

export class CompletionChannel {
  /** Whether the scheduler offers the stream; told by each work item stream's headers. */
  offered = false;
  private stream?: Promise<Call>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Streams that have ended: a completion that finds its stream here goes by unary call instead. */
  private readonly ended = new WeakSet<Call>();

  constructor(private readonly options: CompletionChannelOptions) {}

  /** Resolves once the scheduler has committed the completion; rejects with its gRPC status otherwise. */
  complete(kind: CompletionKind, request: object): Promise<void> {
    if (!this.offered || this.closed) return this.unary(kind, request);
    return new Promise<void>((resolve, reject) => {
      (this.stream ??= this.openStream()).then((via) => {
        if (this.ended.has(via)) return this.unary(kind, request).then(resolve, reject);
        this.nextId = (this.nextId + 1) >>> 0;
        this.pending.set(this.nextId, { kind, request, via, resolve, reject });
        via.write({ id: this.nextId, [kind]: request });
      }, () => this.unary(kind, request).then(resolve, reject));
    });
  }

  /** Cancels the stream; nothing may be pending (the loop waits for its invocations first). */
  close(): void {
    this.closed = true;
    this.stream?.then((call) => call.cancel(), () => undefined);
    this.stream = undefined;
  }

  private unary(kind: CompletionKind, request: object): Promise<void> {
    return this.options.unary(COMPLETE_RPC[kind], request).then(() => undefined);
  }

  private async openStream(): Promise<Call> {
    let call: Call;
    try {
      call = await this.options.open();
    } catch (err) {
      this.stream = undefined;
      throw err;
    }
    call.on("data", (message: Acks) => {
      for (const ack of message.acks ?? []) {
        const p = this.pending.get(ack.id ?? 0);
        if (!p || p.via !== call) continue;
        this.pending.delete(ack.id ?? 0);
        if (!ack.code) p.resolve();
        else p.reject(Object.assign(new Error(`${grpc.status[ack.code] ?? ack.code}: ${ack.details}`), { code: ack.code, details: ack.details ?? "" }));
      }
    });
    const gone = (reason: string, code?: number) => {
      if (this.ended.has(call)) return;
      this.ended.add(call);
      // Only this stream's completions; a newer stream may already carry others.
      const stranded = [...this.pending].filter(([, p]) => p.via === call);
      for (const [id] of stranded) this.pending.delete(id);
      if (!this.closed) {
        if (code === grpc.status.UNIMPLEMENTED) this.offered = false;
        this.options.log(`completion stream ended (${reason})${stranded.length ? `; ${stranded.length} completion(s) go by unary call` : ""}`);
      }
      for (const [, p] of stranded) {
        if (this.closed) p.reject(Object.assign(new Error("the worker is stopping"), { code: grpc.status.CANCELLED, details: "the worker is stopping" }));
        else this.unary(p.kind, p.request).then(p.resolve, p.reject);
      }
    };
    this.stream = Promise.resolve(call);
    const current = this.stream;
    const forget = () => {
      if (this.stream === current) this.stream = undefined;
    };
    call.on("error", (err: grpc.ServiceError) => {
      forget();
      gone(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`, err.code);
    });
    call.on("end", () => {
      forget();
      gone("the scheduler ended it");
    });
    return call;
  }
}
