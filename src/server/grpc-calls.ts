// One gRPC call on its HTTP/2 stream, handed to a handler in the shapes grpc-js gives its handlers
// (ServerUnaryCall, ServerWritableStream, ServerDuplexStream, with the same events), so the services
// and their wrappers run unchanged. A unary call is a plain event emitter, not a stream: that is
// most of what this server saves per call (README "Benchmarks", gRPC per call).
import { EventEmitter } from "events";
import type * as http2 from "http2";
import { Duplex, Writable } from "stream";
import * as grpc from "@grpc/grpc-js";
import { nulStringPath } from "../core/limits";
import { CallStream } from "./h2/call-stream";
import { CallStatus, frame, frames, MessageReader, payloadOf, requestMetadata, RESPONSE_HEADERS, statusOf, statusTrailers, timeoutMs, WireError } from "./grpc-wire";

/** A method as registered: its shape, its codec, and its handler. */
export interface Method {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  serialize: (value: unknown) => Uint8Array;
  deserialize: (bytes: Buffer) => unknown;
  /** Refuse a request with U+0000 in a string (INVALID_ARGUMENT) before its handler sees it. */
  refusesNul: boolean;
  func: (...args: unknown[]) => void;
}

const OK: CallStatus = { code: grpc.status.OK, details: "OK" };

/** The stream's side of a call: headers once, messages, then the status once; 'cancelled' once at the end, as grpc-js. */
class CallCore {
  headersSent = false;
  deadline = Infinity;
  onCancel: () => void = () => undefined;
  private statusSent = false;
  private cancelNotified = false;
  private deadlineTimer?: NodeJS.Timeout;

  constructor(readonly stream: CallStream, readonly path: string, readonly host: string) {
    stream.once("close", () => this.notifyCancel());
  }

  get closed(): boolean {
    return this.statusSent || this.stream.destroyed || this.stream.closed;
  }

  startDeadline(ms: number): void {
    this.deadline = Date.now() + ms;
    this.deadlineTimer = setTimeout(() => this.sendStatus({ code: grpc.status.DEADLINE_EXCEEDED, details: "Deadline exceeded" }), ms);
  }

  sendHeaders(metadata?: grpc.Metadata): void {
    if (this.headersSent || this.closed) return;
    this.headersSent = true;
    this.stream.respond(metadata ? { ...RESPONSE_HEADERS, ...metadata.toHttp2Headers() } : RESPONSE_HEADERS, { waitForTrailers: true });
  }

  /** Messages queued together go out in one write (a dispatch round often queues several work items). */
  sendMessages(messages: Uint8Array[], done: () => void): void {
    if (this.closed) return done();
    this.sendHeaders();
    this.stream.write(messages.length === 1 ? frame(messages[0]) : frames(messages), (err) => {
      if (err) this.sendStatus({ code: grpc.status.INTERNAL, details: "Internal server error" });
      done();
    });
  }

  /** The status, after `last` when given (a unary answer: one DATA frame, then the trailers). */
  sendStatus(status: CallStatus, last?: Uint8Array): void {
    if (this.closed) return;
    if (last !== undefined) this.sendHeaders();
    this.statusSent = true;
    clearTimeout(this.deadlineTimer);
    if (this.headersSent) {
      this.stream.once("wantTrailers", () => this.stream.sendTrailers(statusTrailers(status)));
      if (last !== undefined) this.stream.end(frame(last));
      else this.stream.end();
    } else {
      trailersOnly(this.stream, status);
    }
    this.notifyCancel();
  }

  /** Once per call, when it ends either way (grpc-js tells the handler 'cancelled' after a status too). */
  private notifyCancel(): void {
    if (this.cancelNotified) return;
    this.cancelNotified = true;
    clearTimeout(this.deadlineTimer);
    this.onCancel();
  }
}

/** What every call shape answers besides its messages, on each shape's prototype (no closures per call). */
interface CallInfo {
  readonly core: CallCore;
  getPeer(): string;
  getDeadline(): grpc.Deadline;
  getPath(): string;
  getHost(): string;
  sendMetadata(metadata: grpc.Metadata): void;
}

const CALL_INFO: Omit<CallInfo, "core"> & ThisType<CallInfo> = {
  getPeer() {
    const socket = this.core.stream.session?.socket;
    if (!socket?.remoteAddress) return "unknown";
    return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : socket.remoteAddress;
  },
  getDeadline() {
    return this.core.deadline;
  },
  getPath() {
    return this.core.path;
  },
  getHost() {
    return this.core.host;
  },
  sendMetadata(metadata: grpc.Metadata) {
    this.core.sendHeaders(metadata);
  },
};

interface UnaryCall extends CallInfo {}
class UnaryCall extends EventEmitter {
  cancelled = false;
  constructor(readonly core: CallCore, readonly metadata: grpc.Metadata, readonly request: unknown) {
    super();
  }
}
Object.assign(UnaryCall.prototype, CALL_INFO);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WritableClass = new (...args: any[]) => Writable;

/**
 * A streaming call as grpc-js makes it: an object-mode Writable (server stream) or Duplex (both ways)
 * whose messages go out framed; an emitted 'error' ends it with that status, end() with OK.
 */
function streamCall<B extends WritableClass>(Base: B) {
  const StreamCall = class extends Base {
    cancelled = false;
    request: unknown;
    private pendingStatus: CallStatus = OK;
    private trailing?: grpc.Metadata;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super({ objectMode: true });
      const [core, metadata, serialize, request] = args as [CallCore, grpc.Metadata, Method["serialize"], unknown];
      this.core = core;
      this.metadata = metadata;
      this.serialize = serialize;
      this.request = request;
      this.on("error", (err) => {
        this.pendingStatus = statusOf(err);
        this.end();
      });
    }
    readonly core!: CallCore;
    readonly metadata!: grpc.Metadata;
    readonly serialize!: Method["serialize"];

    override _write(value: unknown, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
      sendSerialized(this.core, this.serialize, [value], done);
    }
    override _writev(chunks: { chunk: unknown }[], done: (err?: Error | null) => void): void {
      sendSerialized(this.core, this.serialize, chunks.map((c) => c.chunk), done);
    }
    override _final(done: (err?: Error | null) => void): void {
      done(null);
      this.core.sendStatus({ ...this.pendingStatus, metadata: this.pendingStatus.metadata ?? this.trailing });
    }
    override end(metadata?: unknown): this {
      if (metadata instanceof grpc.Metadata) this.trailing = metadata;
      return super.end();
    }
  };
  Object.assign(StreamCall.prototype, CALL_INFO);
  return StreamCall;
}

const ServerStreamCall = streamCall(Writable as WritableClass);

/** A Duplex at run time; the mixin's type only knows the Writable side, so the readable one is declared here. */
interface DuplexCall {
  push(value: unknown): boolean;
}
class DuplexCall extends streamCall(Duplex as unknown as WritableClass) {
  /** The handler reads again: take DATA from the stream again. */
  _read(): void {
    this.core.stream.resume();
  }
}

function sendSerialized(core: CallCore, serialize: Method["serialize"], values: unknown[], done: () => void): void {
  let messages: Uint8Array[];
  try {
    messages = values.map(serialize);
  } catch {
    core.sendStatus({ code: grpc.status.INTERNAL, details: "Error serializing response" });
    return done();
  }
  core.sendMessages(messages, done);
}

/** A stream call's end, a tick later as grpc-js: 'cancelled', then destroyed ('close'). */
function cancelStream(call: InstanceType<typeof ServerStreamCall> | DuplexCall): void {
  process.nextTick(() => {
    call.cancelled = true;
    call.emit("cancelled", "cancelled");
    call.destroy();
  });
}

function wireStatus(err: unknown, fallback: string): CallStatus {
  return err instanceof WireError ? { code: err.code, details: err.message } : { code: grpc.status.INTERNAL, details: fallback };
}

/** Runs the handler; one that throws answers UNKNOWN, as grpc-js does. */
function run(core: CallCore, start: () => void): void {
  try {
    start();
  } catch {
    core.sendStatus({ code: grpc.status.UNKNOWN, details: "Unknown error" });
  }
}

/** The unary answer: the message and OK, or the error's status. */
function responder(core: CallCore, serialize: Method["serialize"]): grpc.sendUnaryData<unknown> {
  return (err, value, trailer) => {
    if (err) return core.sendStatus(statusOf(err, trailer));
    let bytes: Uint8Array;
    try {
      bytes = serialize(value);
    } catch {
      return core.sendStatus({ code: grpc.status.INTERNAL, details: "Error serializing response" });
    }
    core.sendStatus({ ...OK, metadata: trailer ?? null }, bytes);
  };
}

/** Serves one call of `method` on its stream (whose 'error' events the server already swallows). */
export function serveCall(stream: CallStream, headers: http2.IncomingHttpHeaders, method: Method, maxMessageBytes: number): void {
  const core = new CallCore(stream, method.path, String(headers[":authority"] ?? headers.host ?? ""));
  const metadata = requestMetadata(headers);
  const timeout = headers["grpc-timeout"];
  if (timeout !== undefined) {
    const ms = timeoutMs(String(timeout));
    if (ms === undefined) return core.sendStatus({ code: grpc.status.INTERNAL, details: `Invalid grpc-timeout value "${timeout}"` });
    core.startDeadline(ms);
  }
  const encoding = headers["grpc-encoding"] as string | undefined;
  const reader = new MessageReader(maxMessageBytes);
  const decode = (message: Buffer) => {
    const payload = payloadOf(message, encoding, maxMessageBytes);
    let request: unknown;
    try {
      request = method.deserialize(payload);
    } catch {
      throw new WireError(grpc.status.INTERNAL, "Error deserializing request");
    }
    const nul = method.refusesNul ? nulStringPath(request) : undefined;
    if (nul !== undefined) throw new WireError(grpc.status.INVALID_ARGUMENT, `${nul} holds the character U+0000 (NUL), which no string in a request may hold`);
    return request;
  };

  if (method.requestStream) {
    const call = new DuplexCall(core, metadata, method.serialize, undefined);
    core.onCancel = () => cancelStream(call);
    stream.on("data", (chunk: Buffer) => {
      if (core.closed) return;
      try {
        for (const m of reader.push(chunk)) if (!call.push(decode(m))) stream.pause();
      } catch (err) {
        core.sendStatus(wireStatus(err, "Error deserializing request"));
      }
    });
    stream.on("end", () => {
      if (!core.closed) call.push(null);
    });
    run(core, () => (method.responseStream ? method.func(call) : method.func(call, responder(core, method.serialize))));
    return;
  }

  // Unary and server streams: the one request message, then the handler, as grpc-js (after the half-close).
  const messages: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => {
    if (core.closed) return;
    try {
      for (const m of reader.push(chunk)) messages.push(m);
    } catch (err) {
      core.sendStatus(wireStatus(err, "Error reading request"));
    }
  });
  stream.on("end", () => {
    if (core.closed) return;
    if (messages.length !== 1 || reader.partial > 0) {
      const what = messages.length === 0 ? "no request message" : "a second request message";
      return core.sendStatus({ code: grpc.status.UNIMPLEMENTED, details: `Received ${what} for ${method.responseStream ? "server streaming" : "unary"} method ${method.path}` });
    }
    let request: unknown;
    try {
      request = decode(messages[0]);
    } catch (err) {
      return core.sendStatus(wireStatus(err, "Error deserializing request"));
    }
    if (method.responseStream) {
      const call = new ServerStreamCall(core, metadata, method.serialize, request);
      core.onCancel = () => cancelStream(call);
      run(core, () => method.func(call));
    } else {
      const call = new UnaryCall(core, metadata, request);
      core.onCancel = () => {
        call.cancelled = true;
        // Most unary handlers never listen: no tick for them.
        if (call.listenerCount("cancelled") > 0) process.nextTick(() => call.emit("cancelled", "cancelled"));
      };
      run(core, () => method.func(call, responder(core, method.serialize)));
    }
  });
}

/** A response that is only a status, in one HEADERS frame (also how a call is refused before any handler). */
export function trailersOnly(stream: CallStream, status: CallStatus): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ":status": 200, "content-type": RESPONSE_HEADERS["content-type"], ...statusTrailers(status) }, { endStream: true });
}
