// A request stream in the shape grpc-calls.ts drives it (the part of Node's ServerHttp2Stream it
// used, when the server ran on node:http2): events for the request, respond/write/end and trailers
// for the answer, a write callback once the data has left the flow-control queue and the socket has
// taken it, which is the backpressure the dispatcher reads (a worker that stops reading backs up).
import { EventEmitter } from "events";
import { Socket } from "net";
import { encodeHeaders } from "./hpack";
import { H2Stream } from "./stream";

export type HeaderRecord = Record<string, string | string[] | number | undefined>;

/** What grpc-calls.ts needs of a stream. */
export interface CallStream extends EventEmitter {
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly session?: { socket: Socket };
  respond(headers: HeaderRecord, options?: { endStream?: boolean; waitForTrailers?: boolean }): void;
  write(data: Buffer, done?: (err?: Error | null) => void): boolean;
  /** The last data; with waitForTrailers, 'wantTrailers' follows and sendTrailers ends the stream. */
  end(data?: Buffer): void;
  sendTrailers(trailers: HeaderRecord): void;
  pause(): void;
  resume(): void;
}

const EMPTY = Buffer.alloc(0);

/** Header fields in HPACK order: pseudo-headers (`:status`) first. */
function fields(h: HeaderRecord): [string, string][] {
  const out: [string, string][] = [];
  if (h[":status"] !== undefined) out.push([":status", String(h[":status"])]);
  for (const [name, value] of Object.entries(h)) {
    if (name === ":status" || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, String(value)]);
  }
  return out;
}

/** Blocks of the frozen header records (the same answer headers and OK trailers for every call), encoded once. */
const frozenBlocks = new WeakMap<HeaderRecord, Buffer>();

/** The record's header block: the encoder keeps no dynamic table, so a record always encodes to the same bytes. */
function headerBlock(h: HeaderRecord): Buffer {
  if (!Object.isFrozen(h)) return encodeHeaders(fields(h));
  let block = frozenBlocks.get(h);
  if (!block) frozenBlocks.set(h, (block = encodeHeaders(fields(h))));
  return block;
}

export class H2CallStream extends EventEmitter implements CallStream {
  destroyed = false;
  closed = false;
  readonly session: { socket: Socket };
  private last?: Buffer;

  constructor(private readonly h2: H2Stream, socket: Socket) {
    super();
    this.session = { socket };
    h2.onData = (chunk) => this.emit("data", chunk);
    h2.onEnd = () => this.emit("end");
    h2.onAbort = () => this.finish(true);
  }

  respond(headers: HeaderRecord, options: { endStream?: boolean } = {}): void {
    this.h2.respond(headerBlock(headers), !!options.endStream);
    if (options.endStream) this.finish(false);
  }

  write(data: Buffer, done?: (err?: Error | null) => void): boolean {
    const sent = this.h2.send(data);
    if (!done) return sent;
    const taken = () => this.h2.afterWrite(() => done());
    if (sent) taken();
    else {
      this.h2.onDrained = () => {
        this.h2.onDrained = undefined;
        taken();
      };
    }
    return sent;
  }

  end(data?: Buffer): void {
    this.last = data ?? EMPTY;
    if (this.listenerCount("wantTrailers") > 0) this.emit("wantTrailers");
    else this.sendTrailers({});
  }

  sendTrailers(trailers: HeaderRecord): void {
    this.h2.send(this.last ?? EMPTY, headerBlock(trailers));
    this.finish(false);
  }

  pause(): void {
    this.h2.pause();
  }

  resume(): void {
    this.h2.resume();
  }

  /** 'close' a tick later, as Node's streams: after the call's own handling of the end. */
  private finish(aborted: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (aborted) this.destroyed = true;
    process.nextTick(() => this.emit("close"));
  }
}
