// The server side of one HTTP/2 connection (RFC 9113) over any byte stream (TCP or TLS), written for
// gRPC's needs and nothing more: requests on client streams, responses of headers, data and trailers,
// flow control both ways, PING, RST_STREAM and GOAWAY. No server push, no priorities (accepted and
// ignored). Frames produced in one turn of the event loop leave in one write (turn-writer.ts). It
// exists to cost less per call than Node's http2 module (`npm run bench:grpc`, server "h2").
import { Duplex } from "stream";
import {
  ConnectionError, dataFrames, dataPayload, DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, FLAG_ACK, FLAG_END_STREAM, frame, Frame, FrameReader, FrameType, goawayFrame,
  H2Error, headerBlockFrames, parseSettings, pingFrame, rstStreamFrame, Setting, settingsFrame, windowUpdateFrame,
} from "./frames";
import { HeaderBlock, HeaderBlockAssembler } from "./header-block";
import { HeaderList, HpackDecoder, HpackError } from "./hpack";
import { PeerLimits } from "./peer-limits";
import { H2Stream, StreamOutlet } from "./stream";
import { TurnWriter } from "./turn-writer";

export { H2Stream };

export interface H2Options {
  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused. */
  maxConcurrentStreams: number;
  /** The receive window this side grants per stream and, at the start, to the connection. */
  initialWindow: number;
  /** The largest header list accepted, in HPACK's measure (SETTINGS_MAX_HEADER_LIST_SIZE). */
  maxHeaderListBytes: number;
}

export const DEFAULT_H2_OPTIONS: H2Options = { maxConcurrentStreams: 1000, initialWindow: 1 << 20, maxHeaderListBytes: 64 * 1024 };

/** What a server does with a connection's streams. */
export interface H2Handler {
  /** A request's headers have arrived (`ended`: with END_STREAM, so no body follows). */
  stream(stream: H2Stream, headers: HeaderList, ended: boolean): void;
  /** The handler's code for a stream threw: that stream was reset (INTERNAL_ERROR), the connection goes on. */
  failed?(err: unknown): void;
}

export class H2Connection implements StreamOutlet {
  private readonly streams = new Map<number, H2Stream>();
  private readonly reader: FrameReader;
  private readonly decoder: HpackDecoder;
  /** A header block being received across CONTINUATION frames. */
  private readonly headerBlock: HeaderBlockAssembler;
  private lastStreamId = 0;
  private peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  private peerInitialWindow = DEFAULT_WINDOW;
  /** The connection-level send window the peer granted. */
  sendWindow = DEFAULT_WINDOW;
  private recvUnacked = 0;
  private readonly limits = new PeerLimits();
  private readonly output: TurnWriter;
  /** write(), bound once: the sink sendData's frames go to, with no array or closure per send. */
  private readonly emit = (bytes: Buffer) => this.write(bytes);
  private goingAway = false;
  private closed = false;
  /** Streams waiting on a window. */
  private readonly blocked = new Set<H2Stream>();
  private pingWaiters: (() => void)[] = [];
  /** Called when the connection is gone (after every open stream's onAbort). */
  onClose?: () => void;

  constructor(readonly socket: Duplex, private readonly handler: H2Handler, private readonly options: H2Options = DEFAULT_H2_OPTIONS) {
    this.reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE, true);
    this.decoder = new HpackDecoder(4096, options.maxHeaderListBytes);
    this.headerBlock = new HeaderBlockAssembler(options.maxHeaderListBytes);
    this.output = new TurnWriter(socket);
    this.write(settingsFrame([
      [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams],
      [Setting.INITIAL_WINDOW_SIZE, options.initialWindow],
      [Setting.MAX_HEADER_LIST_SIZE, options.maxHeaderListBytes],
      [Setting.ENABLE_PUSH, 0],
    ]));
    if (options.initialWindow > DEFAULT_WINDOW) this.write(windowUpdateFrame(0, options.initialWindow - DEFAULT_WINDOW));
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("close", () => this.gone("the connection closed"));
    socket.on("error", () => this.gone("the connection failed"));
  }

  /** Sends a PING; resolves when its ACK comes (keepalive checks). */
  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.pingWaiters.push(resolve);
      this.write(pingFrame(0, Buffer.alloc(8)));
    });
  }

  /** GOAWAY: no new streams; the connection ends once the open ones have (or at once with `now`). */
  goAway(code = H2Error.NO_ERROR, debug = "", now = false): void {
    if (!this.goingAway) {
      this.goingAway = true;
      this.write(goawayFrame(this.lastStreamId, code, debug));
    }
    if (now || this.streams.size === 0) this.end();
  }

  /** Closes the socket after what is queued is written; open streams are aborted. */
  end(): void {
    this.output.flush();
    this.socket.end();
    this.gone("the server closed the connection");
  }

  // ---------------------------------------------------------------- sending (used by H2Stream)

  sendHeaders(stream: H2Stream, block: Buffer, end: boolean): void {
    if (end) this.endLocal(stream);
    this.write(headerBlockFrames(stream.id, block, end, this.peerMaxFrame));
  }

  sendTrailers(stream: H2Stream, block: Buffer): void {
    this.write(headerBlockFrames(stream.id, block, true, this.peerMaxFrame));
    this.endLocal(stream);
  }

  sendData(stream: H2Stream, data: Buffer): void {
    stream.sendWindow -= data.length;
    this.sendWindow -= data.length;
    dataFrames(stream.id, data, this.peerMaxFrame, this.emit);
  }

  flushStream(stream: H2Stream): void {
    if (stream.drain()) this.blocked.delete(stream);
    else this.blocked.add(stream);
  }

  grant(stream: H2Stream): void {
    if (stream.unacked === 0 || stream.remoteEnded || !this.streams.has(stream.id)) return;
    this.write(windowUpdateFrame(stream.id, stream.unacked));
    stream.unacked = 0;
  }

  resetStream(stream: H2Stream, code: H2Error): void {
    if (!this.streams.has(stream.id)) return;
    this.write(rstStreamFrame(stream.id, code));
    this.forget(stream);
  }

  // ---------------------------------------------------------------- receiving

  private received(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const f of this.reader.push(chunk)) {
        this.frame(f);
        if (this.closed) return;
      }
    } catch (err) {
      const code = err instanceof ConnectionError ? err.code : err instanceof HpackError ? H2Error.COMPRESSION_ERROR : H2Error.INTERNAL_ERROR;
      this.goAway(code, (err as Error).message, true);
      // A peer that does not read would keep what is queued for it (and the socket) forever.
      if (code === H2Error.ENHANCE_YOUR_CALM) this.socket.destroy();
    }
  }

  private frame(f: Frame): void {
    if (this.headerBlock.open && f.type !== FrameType.CONTINUATION) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a frame inside a header block");
    switch (f.type) {
      case FrameType.HEADERS:
        return this.headers(f);
      case FrameType.CONTINUATION:
        return this.continuation(f);
      case FrameType.DATA:
        return this.data(f);
      case FrameType.SETTINGS:
        return this.settings(f);
      case FrameType.WINDOW_UPDATE:
        return this.windowUpdate(f);
      case FrameType.PING:
        return this.pingFrame(f);
      case FrameType.RST_STREAM: {
        if (f.streamId === 0 || f.payload.length !== 4) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a malformed RST_STREAM");
        const stream = this.streams.get(f.streamId);
        if (stream) {
          this.limits.reset();
          this.abort(stream, `the client reset the stream (code ${f.payload.readUInt32BE(0)})`);
        }
        return;
      }
      case FrameType.GOAWAY:
        this.goAway();
        return;
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a client may not push");
      default:
        return; // PRIORITY and unknown types are ignored
    }
  }

  private headers(f: Frame): void {
    const id = f.streamId;
    if (id === 0 || id % 2 === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, `HEADERS on stream ${id}`);
    if (!this.streams.has(id) && id <= this.lastStreamId) throw new ConnectionError(H2Error.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
    const whole = this.headerBlock.headers(f);
    if (whole) this.headerBlockDone(whole);
  }

  private continuation(f: Frame): void {
    const whole = this.headerBlock.continuation(f);
    if (whole) this.headerBlockDone(whole);
  }

  private headerBlockDone({ streamId, ended, block }: HeaderBlock): void {
    // Decoded even for a stream refused below: the table must see every block.
    const headers = this.decoder.decode(block);
    const existing = this.streams.get(streamId);
    if (existing) {
      // Trailers from the client: they end its side.
      if (!ended) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a second header block without END_STREAM");
      this.endRemote(existing);
      return;
    }
    this.lastStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.options.maxConcurrentStreams) return this.answer(rstStreamFrame(streamId, H2Error.REFUSED_STREAM));
    const stream = new H2Stream(streamId, this, this.peerInitialWindow);
    this.streams.set(streamId, stream);
    stream.remoteEnded = ended;
    this.guarded(stream, () => {
      this.handler.stream(stream, headers, ended);
      if (ended) stream.onEnd?.();
    });
  }

  private data(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "DATA on stream 0");
    this.recvUnacked += f.payload.length;
    if (this.recvUnacked >= this.options.initialWindow / 2) {
      this.write(windowUpdateFrame(0, this.recvUnacked));
      this.recvUnacked = 0;
    }
    const stream = this.streams.get(f.streamId);
    if (!stream || stream.remoteEnded) {
      if (f.streamId > this.lastStreamId) throw new ConnectionError(H2Error.PROTOCOL_ERROR, `DATA on idle stream ${f.streamId}`);
      return; // a stream already closed or reset: its data is dropped (the connection window was granted back above)
    }
    stream.unacked += f.payload.length;
    // The connection's window is granted back on receipt (above); a stream's only as its reader takes
    // the data (pause()), so a client that sends beyond it would fill the reader's buffer.
    if (stream.unacked > this.receiveWindow) return this.fail(stream, H2Error.FLOW_CONTROL_ERROR, "the client sent beyond the stream's window");
    const payload = dataPayload(f);
    if (payload.length > 0) {
      try {
        stream.onData?.(payload);
      } catch (err) {
        return this.broke(stream, err);
      }
    }
    if (f.flags & FLAG_END_STREAM) this.endRemote(stream);
    else if (!stream.paused && stream.unacked >= this.options.initialWindow / 2) this.grant(stream);
  }

  private settings(f: Frame): void {
    if (f.streamId !== 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (f.flags & FLAG_ACK) return;
    for (const [id, value] of parseSettings(f.payload)) {
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > 0x7fffffff) throw new ConnectionError(H2Error.FLOW_CONTROL_ERROR, "an initial window above 2^31-1");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) throw new ConnectionError(H2Error.PROTOCOL_ERROR, `a max frame size of ${value}`);
        this.peerMaxFrame = value;
      }
    }
    this.answer(frame(FrameType.SETTINGS, FLAG_ACK, 0));
    this.unblock();
  }

  private windowUpdate(f: Frame): void {
    if (f.payload.length !== 4) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, "a WINDOW_UPDATE of other than 4 bytes");
    const increment = f.payload.readUInt32BE(0) & 0x7fffffff;
    if (f.streamId === 0) {
      if (increment === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a WINDOW_UPDATE of 0");
      this.sendWindow += increment;
      if (this.sendWindow > 0x7fffffff) throw new ConnectionError(H2Error.FLOW_CONTROL_ERROR, "the connection window above 2^31-1");
    } else {
      const stream = this.streams.get(f.streamId);
      if (!stream) return;
      if (increment === 0) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      stream.sendWindow += increment;
    }
    this.unblock();
  }

  private pingFrame(f: Frame): void {
    if (f.streamId !== 0 || f.payload.length !== 8) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, "a malformed PING");
    if (f.flags & FLAG_ACK) {
      const waiters = this.pingWaiters;
      this.pingWaiters = [];
      for (const w of waiters) w();
      return;
    }
    this.answer(pingFrame(FLAG_ACK, f.payload));
  }

  private unblock(): void {
    for (const s of [...this.blocked]) {
      if (!this.streams.has(s.id)) this.blocked.delete(s);
      else this.flushStream(s);
    }
  }

  // ---------------------------------------------------------------- stream ends

  private endRemote(stream: H2Stream): void {
    stream.remoteEnded = true;
    this.guarded(stream, () => stream.onEnd?.());
    if (stream.closed) this.forget(stream);
  }

  private endLocal(stream: H2Stream): void {
    stream.localEnded = true;
    if (stream.closed) this.forget(stream);
  }

  private abort(stream: H2Stream, reason: string): void {
    this.forget(stream);
    stream.localEnded = stream.remoteEnded = true;
    try {
      stream.onAbort?.(reason);
    } catch (err) {
      this.handler.failed?.(err);
    }
  }

  /** Runs the handler's code for a stream: if it throws, that stream is reset, not the connection. */
  private guarded(stream: H2Stream, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.broke(stream, err);
    }
  }

  private broke(stream: H2Stream, err: unknown): void {
    this.handler.failed?.(err);
    this.fail(stream, H2Error.INTERNAL_ERROR, "the server failed");
  }

  /** Ends one stream with RST_STREAM; its reader learns through onAbort. */
  private fail(stream: H2Stream, code: H2Error, reason: string): void {
    if (!this.streams.has(stream.id)) return;
    this.write(rstStreamFrame(stream.id, code));
    this.abort(stream, reason);
  }

  /** The window this side grants a stream (a client may use the default until it has our SETTINGS). */
  private get receiveWindow(): number {
    return Math.max(this.options.initialWindow, DEFAULT_WINDOW);
  }

  private forget(stream: H2Stream): void {
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    if (this.goingAway && this.streams.size === 0 && !this.closed) this.end();
  }

  private gone(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.output.stop();
    for (const s of [...this.streams.values()]) this.abort(s, reason);
    for (const w of this.pingWaiters) w();
    this.pingWaiters = [];
    this.onClose?.();
  }

  // ---------------------------------------------------------------- output

  /** A control answer, which a client leaving the socket backed up may not pile up (peer-limits.ts). */
  private answer(bytes: Buffer): void {
    this.limits.answered(this.output.backedUp);
    this.write(bytes);
  }

  private write(bytes: Buffer): void {
    this.output.write(bytes);
  }

  afterWrite(done: () => void): void {
    this.output.afterWrite(done);
  }
}
