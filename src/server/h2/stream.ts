// One request stream of an HTTP/2 connection (connection.ts): what the client sends arrives through
// its callbacks; the server answers with headers, data and trailers, which wait on the flow-control
// windows when they must.
import { H2Error } from "./frames";
import { encodeHeaders } from "./hpack";

/** Header fields to encode, or a header block already encoded. */
export type Fields = readonly (readonly [string, string])[] | Buffer;

function blockOf(fields: Fields): Buffer {
  return Buffer.isBuffer(fields) ? fields : encodeHeaders(fields);
}

/** What a stream needs of its connection. */
export interface StreamOutlet {
  /** The connection-level send window the peer granted. */
  readonly sendWindow: number;
  sendHeaders(stream: H2Stream, block: Buffer, end: boolean): void;
  sendData(stream: H2Stream, data: Buffer): void;
  sendTrailers(stream: H2Stream, block: Buffer): void;
  /** Sends what the windows allow of the stream's held data, and keeps it in mind while some is left. */
  flushStream(stream: H2Stream): void;
  /** Grants the client the stream's received bytes back (WINDOW_UPDATE). */
  grant(stream: H2Stream): void;
  resetStream(stream: H2Stream, code: H2Error): void;
  /** Calls `done` once what is queued now has gone to the socket and the socket has taken it. */
  afterWrite(done: () => void): void;
}

/** One request stream: what the client sends arrives through the callbacks; the server answers with the send methods. */
export class H2Stream {
  /** A DATA payload (padding removed). */
  onData?: (chunk: Buffer) => void;
  /** The client ended its side (END_STREAM). */
  onEnd?: () => void;
  /** The stream ended without the server's trailers: reset by the client, or its connection gone. */
  onAbort?: (reason: string) => void;
  /** What the windows held back has all been sent. */
  onDrained?: () => void;
  /** Data the flow-control windows hold back, sent as WINDOW_UPDATEs arrive. */
  private queue: { data: Buffer; trailers?: Buffer }[] = [];
  sendWindow: number;
  /** Received and not yet granted back. */
  unacked = 0;
  remoteEnded = false;
  /** END_STREAM sent. */
  localEnded = false;
  /** The trailers are given (sent, or queued behind data a window holds back): nothing more may be sent. */
  finishing = false;
  headersSent = false;
  /** The reader wants no more for now: the stream's window is not granted back, so the client stops sending. */
  paused = false;

  constructor(readonly id: number, private readonly conn: StreamOutlet, sendWindow: number) {
    this.sendWindow = sendWindow;
  }

  get closed(): boolean {
    return this.localEnded && this.remoteEnded;
  }

  /** Response headers (`:status` first), or their encoded block; with `end`, a trailers-only answer that ends the stream. */
  respond(headers: Fields, end = false): void {
    if (this.finishing || this.headersSent) return;
    this.headersSent = true;
    if (end) this.finishing = true;
    this.conn.sendHeaders(this, blockOf(headers), end);
  }

  /**
   * Data, split to the peer's frame size and held while a window is closed, then `trailers` if given,
   * which end the stream; false when some of it waits on a window (onDrained follows).
   */
  send(data: Buffer, trailers?: Fields): boolean {
    if (this.finishing) return true;
    const block = trailers ? blockOf(trailers) : undefined;
    if (trailers) this.finishing = true;
    if (this.queue.length > 0 || data.length > Math.min(this.sendWindow, this.conn.sendWindow)) {
      this.queue.push({ data, trailers: block });
      this.conn.flushStream(this);
      return this.queue.length === 0;
    }
    if (data.length > 0 || !block) this.conn.sendData(this, data);
    if (block) this.conn.sendTrailers(this, block);
    return true;
  }

  /** Calls `done` once what was sent so far has left the connection (not what a window still holds: see onDrained). */
  afterWrite(done: () => void): void {
    this.conn.afterWrite(done);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.grant(this);
  }

  /** Ends the stream with RST_STREAM (CANCEL unless said otherwise). */
  reset(code = H2Error.CANCEL): void {
    this.conn.resetStream(this, code);
  }

  /** Sends what the windows now allow; true once nothing is held back. */
  drain(): boolean {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.data.length > 0) {
        const n = Math.min(head.data.length, this.sendWindow, this.conn.sendWindow);
        if (n <= 0) return false;
        this.conn.sendData(this, head.data.subarray(0, n));
        head.data = head.data.subarray(n);
        if (head.data.length > 0) return false;
      }
      this.queue.shift();
      if (head.trailers) this.conn.sendTrailers(this, head.trailers);
    }
    this.onDrained?.();
    return true;
  }
}
