// gRPC over HTTP/2 as the wire carries it: length-prefixed messages, the grpc-timeout header, and the
// status in trailers. Pure functions; grpc-server.ts and grpc-calls.ts do the I/O.
import * as zlib from "zlib";
import * as grpc from "@grpc/grpc-js";

export interface CallStatus {
  code: grpc.status;
  details: string;
  metadata?: grpc.Metadata | null;
}

/** A message with its 5-byte prefix: the compressed flag (0: responses are never compressed) and the length. */
export function frame(message: Uint8Array): Buffer {
  return frames([message]);
}

/** Several messages, each with its prefix, in one buffer. */
export function frames(messages: Uint8Array[]): Buffer {
  let total = 0;
  for (const m of messages) total += m.byteLength + 5;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const m of messages) {
    out[at] = 0;
    out.writeUInt32BE(m.byteLength, at + 1);
    out.set(m, at + 5);
    at += m.byteLength + 5;
  }
  return out;
}

export class WireError extends Error {
  constructor(readonly code: grpc.status, details: string) {
    super(details);
  }
}

/** Cuts a request stream's DATA chunks into messages, however the chunks split them. */
export class MessageReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** The messages (prefix included) this chunk completes; throws RESOURCE_EXHAUSTED for one above the limit. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = this.pendingBytes === 0 ? chunk : Buffer.concat([...this.pending, chunk], this.pendingBytes + chunk.length);
    this.pending = [];
    this.pendingBytes = 0;
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1);
      if (length > this.maxMessageBytes) throw new WireError(grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${this.maxMessageBytes})`);
      if (buf.length < 5 + length) break;
      out.push(buf.subarray(0, 5 + length));
      buf = buf.subarray(5 + length);
    }
    if (buf.length > 0) {
      this.pending.push(buf);
      this.pendingBytes = buf.length;
    }
    return out;
  }

  /** Bytes of a message begun and not finished (a request that ends here is cut short). */
  get partial(): number {
    return this.pendingBytes;
  }
}

/** A message's payload: as is, or inflated by the request's grpc-encoding (gzip, deflate), within the limit. */
export function payloadOf(message: Buffer, encoding: string | undefined, maxMessageBytes: number): Buffer {
  const body = message.subarray(5);
  if (message[0] === 0) return body;
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new WireError(grpc.status.UNIMPLEMENTED, `Received message compressed with unsupported encoding "${encoding ?? "identity"}"`);
  }
  try {
    return encoding === "gzip" ? zlib.gunzipSync(body, { maxOutputLength: maxMessageBytes }) : zlib.inflateSync(body, { maxOutputLength: maxMessageBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new WireError(grpc.status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${maxMessageBytes}`);
    }
    throw new WireError(grpc.status.INTERNAL, "Failed to decompress message");
  }
}

const TIMEOUT = /^(\d{1,8})\s*([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** The grpc-timeout header in milliseconds; undefined when it does not parse. */
export function timeoutMs(header: string): number | undefined {
  const m = TIMEOUT.exec(header.trim());
  return m ? Math.floor(Number(m[1]) * UNIT_MS[m[2]]) : undefined;
}

/** What a handler passed as an error, as grpc-js reads it: a numeric code (else UNKNOWN), its details (else the message). */
export function statusOf(err: unknown, trailer?: grpc.Metadata | null): CallStatus {
  const e = (err ?? {}) as { code?: unknown; details?: unknown; message?: unknown; metadata?: grpc.Metadata };
  const numeric = typeof e.code === "number" && Number.isInteger(e.code);
  const message = typeof e.message === "string" ? e.message : "Unknown Error";
  return {
    code: numeric ? (e.code as grpc.status) : grpc.status.UNKNOWN,
    details: numeric && typeof e.details === "string" ? e.details : message,
    metadata: trailer ?? e.metadata ?? null,
  };
}

/**
 * Responses are never compressed, so no grpc-encoding: the spec reads its absence as identity.
 * Frozen, as OK_TRAILERS: the HTTP/2 layer encodes a frozen record's header block once.
 */
export const RESPONSE_HEADERS = Object.freeze({ ":status": 200, "content-type": "application/grpc+proto" } as const);

const OK_TRAILERS = Object.freeze({ "grpc-status": grpc.status.OK, "grpc-message": "OK" });

/** The status as trailers; details percent-encoded as the gRPC spec asks (grpc-js decodes them). */
export function statusTrailers(status: CallStatus): Record<string, string | string[] | number> {
  if (status.code === grpc.status.OK && status.details === "OK" && !status.metadata) return OK_TRAILERS;
  return { "grpc-status": status.code, "grpc-message": encodeURI(status.details), ...status.metadata?.toHttp2Headers() } as Record<string, string | string[] | number>;
}

/** Request headers that are the transport's, not the application's metadata. */
const TRANSPORT_HEADERS = ["grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "accept-encoding", "te", "content-type"];

export function requestMetadata(headers: Record<string, string | string[] | undefined>): grpc.Metadata {
  const metadata = grpc.Metadata.fromHttp2Headers(headers as Parameters<typeof grpc.Metadata.fromHttp2Headers>[0]);
  for (const h of TRANSPORT_HEADERS) metadata.remove(h);
  return metadata;
}
