// Commit batches with their events already protobuf-encoded, which is how SQLite stores them. For the
// writer thread a batch is packed into one JSON string plus one transferred buffer of event bytes:
// a structured clone of every event's object graph cost the scheduler about 15% of its CPU.
import { HistoryEvent } from "../core/model";
import { pb } from "../proto";
import { eventBytes } from "../proto/event-bytes";
import { PartitionMessage, StoreOp } from "./store";

export type EncodedOp = StoreOp<Uint8Array>;

/** What crosses to the writer thread; `events` is transferred, not copied. */
export interface PackedBatch {
  ops: string;
  events: ArrayBuffer;
}

/** The event's bytes, encoded once: its later work items reuse them (proto/event-bytes.ts). */
export function encodeEvent(event: HistoryEvent): Uint8Array {
  return eventBytes(event);
}

/** Decoded events are pb.HistoryEvent instances: unset fields read as their defaults (null, 0, ""). */
export function decodeEvent(bytes: Uint8Array): HistoryEvent {
  return pb.HistoryEvent.decode(bytes);
}

/** The op with each of its events replaced by f(event), in order; ops without events are returned as they are. */
function mapEvents<A, B>(op: StoreOp<A>, f: (event: A) => B): StoreOp<B> {
  switch (op.op) {
    case "appendHistory":
    case "replaceHistory":
      return { ...op, events: op.events.map(f) };
    case "putMessage":
      return { ...op, message: { ...op.message, event: f(op.message.event) } };
    case "putInbox":
      return { ...op, message: { body: op.message.body, events: op.message.events.map(f) } };
    default:
      return op;
  }
}

export function encodeOps(ops: StoreOp[]): EncodedOp[] {
  return ops.map((op) => mapEvents(op, encodeEvent));
}

export function packOps(ops: StoreOp[]): PackedBatch {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Each event becomes its byte length in the JSON; the bytes follow one another in the buffer.
  const skeleton = ops.map((op) =>
    mapEvents(op, (event) => {
      const bytes = encodeEvent(event);
      chunks.push(bytes);
      total += bytes.length;
      return bytes.length;
    }),
  );
  const events = new ArrayBuffer(total);
  const view = new Uint8Array(events);
  let at = 0;
  for (const bytes of chunks) {
    view.set(bytes, at);
    at += bytes.length;
  }
  return { ops: JSON.stringify(skeleton), events };
}

export function unpackOps(batch: PackedBatch): EncodedOp[] {
  let at = 0;
  return (JSON.parse(batch.ops) as StoreOp<number>[]).map((op) =>
    mapEvents(op, (length) => {
      const bytes = Buffer.from(batch.events, at, length);
      at += length;
      return bytes;
    }),
  );
}

/** A message between partitions as one column's bytes: JSON, its events as base64 protobuf. */
export function packInboxMessage(m: PartitionMessage<Uint8Array>): Buffer {
  return Buffer.from(JSON.stringify({ body: m.body, events: m.events.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString("base64")) }));
}

export function unpackInboxMessage(bytes: Buffer): PartitionMessage {
  const m = JSON.parse(bytes.toString("utf8")) as { body: unknown; events: string[] };
  return { body: m.body, events: m.events.map((e) => decodeEvent(Buffer.from(e, "base64"))) };
}
