// HTTP/2 frames (RFC 9113 section 4 and 6) as bytes: the connection preface, the 9-byte frame header,
// cutting a byte stream into frames and building frames to send. Pure; the connection does the I/O.

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const enum FrameType {
  DATA = 0x0,
  HEADERS = 0x1,
  PRIORITY = 0x2,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  PUSH_PROMISE = 0x5,
  PING = 0x6,
  GOAWAY = 0x7,
  WINDOW_UPDATE = 0x8,
  CONTINUATION = 0x9,
}

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

export const enum Setting {
  HEADER_TABLE_SIZE = 0x1,
  ENABLE_PUSH = 0x2,
  MAX_CONCURRENT_STREAMS = 0x3,
  INITIAL_WINDOW_SIZE = 0x4,
  MAX_FRAME_SIZE = 0x5,
  MAX_HEADER_LIST_SIZE = 0x6,
}

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7). */
export const enum H2Error {
  NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  ENHANCE_YOUR_CALM = 0xb,
}

export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const DEFAULT_WINDOW = 65_535;

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A connection-level protocol violation, with the error code its GOAWAY carries. */
export class ConnectionError extends Error {
  constructor(readonly code: H2Error, message: string) {
    super(message);
  }
}

/** Cuts a connection's bytes into frames, however the reads split them; on a server's side, after checking the client's preface. */
export class FrameReader {
  private pending?: Buffer;

  /** `maxFrameSize`: SETTINGS_MAX_FRAME_SIZE as this side advertised it. */
  constructor(private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE, private preface = false) {}

  push(chunk: Buffer): Frame[] {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (this.preface) {
      const n = Math.min(buf.length, PREFACE.length);
      if (!buf.subarray(0, n).equals(PREFACE.subarray(0, n))) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "not an HTTP/2 connection preface");
      if (n < PREFACE.length) {
        this.pending = buf;
        return [];
      }
      this.preface = false;
      buf = buf.subarray(n);
    }
    const frames: Frame[] = [];
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (length > this.maxFrameSize) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, `a frame of ${length} bytes, above the ${this.maxFrameSize} advertised`);
      if (buf.length < 9 + length) break;
      frames.push({ type: buf[3], flags: buf[4], streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + length) });
      buf = buf.subarray(9 + length);
    }
    if (buf.length > 0) this.pending = buf;
    return frames;
  }
}

/** A frame's 9-byte header written into `out` at `at`. */
export function writeFrameHeader(out: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  out.writeUIntBE(length, at, 3);
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(streamId, at + 5);
}

export function frame(type: number, flags: number, streamId: number, payload?: Buffer): Buffer {
  const out = Buffer.allocUnsafe(9 + (payload?.length ?? 0));
  writeFrameHeader(out, 0, payload?.length ?? 0, type, flags, streamId);
  payload?.copy(out, 9);
  return out;
}

export function settingsFrame(settings: [Setting, number][]): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function parseSettings(payload: Buffer): [number, number][] {
  if (payload.length % 6 !== 0) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, "a SETTINGS frame whose length is not a multiple of 6");
  const out: [number, number][] = [];
  for (let i = 0; i < payload.length; i += 6) out.push([payload.readUInt16BE(i), payload.readUInt32BE(i + 2)]);
  return out;
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code: H2Error): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code, 0);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function goawayFrame(lastStreamId: number, code: H2Error, debug = ""): Buffer {
  const text = Buffer.from(debug, "utf8");
  const payload = Buffer.allocUnsafe(8 + text.length);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(code, 4);
  text.copy(payload, 8);
  return frame(FrameType.GOAWAY, 0, 0, payload);
}

/** DATA frames of at most `maxFrame` bytes each, given to `emit` as frame headers and slices of `data` (not copied). */
export function dataFrames(streamId: number, data: Buffer, maxFrame: number, emit: (bytes: Buffer) => void): void {
  let at = 0;
  do {
    const chunk = data.subarray(at, at + maxFrame);
    at += chunk.length;
    const header = Buffer.allocUnsafe(9);
    writeFrameHeader(header, 0, chunk.length, FrameType.DATA, 0, streamId);
    emit(header);
    if (chunk.length > 0) emit(chunk);
  } while (at < data.length);
}

export function pingFrame(flags: number, opaque: Buffer): Buffer {
  return frame(FrameType.PING, flags, 0, opaque);
}

/** A header block as a HEADERS frame and the CONTINUATIONs its size needs at `maxFrame`, in one buffer. */
export function headerBlockFrames(streamId: number, block: Buffer, end: boolean, maxFrame: number): Buffer {
  const frames = Math.max(1, Math.ceil(block.length / maxFrame));
  const out = Buffer.allocUnsafe(9 * frames + block.length);
  let at = 0;
  for (let i = 0; i < frames; i++) {
    const chunk = block.subarray(i * maxFrame, (i + 1) * maxFrame);
    const flags = (i === frames - 1 ? FLAG_END_HEADERS : 0) | (i === 0 && end ? FLAG_END_STREAM : 0);
    writeFrameHeader(out, at, chunk.length, i === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, flags, streamId);
    chunk.copy(out, at + 9);
    at += 9 + chunk.length;
  }
  return out;
}

/** A HEADERS (or PUSH_PROMISE) payload without its padding and priority fields: the header block fragment. */
export function headerBlockFragment(f: Frame): Buffer {
  let start = 0;
  let end = f.payload.length;
  if (f.flags & FLAG_PADDED) {
    if (end < 1) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a padded HEADERS frame without its pad length");
    end -= f.payload[0];
    start = 1;
  }
  if (f.type === FrameType.HEADERS && f.flags & FLAG_PRIORITY) start += 5;
  if (start > end) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a HEADERS frame whose padding is longer than it");
  return f.payload.subarray(start, end);
}

/** A DATA payload without its padding. */
export function dataPayload(f: Frame): Buffer {
  if (!(f.flags & FLAG_PADDED)) return f.payload;
  if (f.payload.length < 1 || f.payload[0] >= f.payload.length) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "a DATA frame whose padding is longer than it");
  return f.payload.subarray(1, f.payload.length - f.payload[0]);
}
