// A SQLite history row holds a run: the events one append added, so an episode's events are one
// insert however many there are. A run of one (and every row written before runs, schema 4 and
// earlier) is the event's own bytes; a longer run is a HistoryChunk message, each event one
// length-delimited field 1, built from bytes already encoded without decoding them again.
import { Writer } from "protobufjs/minimal";
import { HistoryEvent } from "../core/model";
import { pb } from "../proto";
import { decodeEvent } from "./encoded-batch";

const EVENTS_FIELD_TAG = (1 << 3) | 2; // HistoryChunk.events: field 1, length-delimited

/** The row bytes of a run of encoded events (at least one). */
export function runBytes(events: Uint8Array[]): Uint8Array {
  if (events.length === 1) return events[0];
  const w = Writer.create();
  for (const e of events) w.uint32(EVENTS_FIELD_TAG).bytes(e);
  return w.finish();
}

/** The events of a row that says it holds `count`; a row that holds another number is refused as corrupt. */
export function runEvents(count: number, bytes: Uint8Array): HistoryEvent[] {
  if (count === 1) return [decodeEvent(bytes)];
  const events = pb.HistoryChunk.decode(bytes).events;
  if (events.length !== count) throw new Error(`a history row says it holds ${count} events, but it holds ${events.length}`);
  return events;
}
