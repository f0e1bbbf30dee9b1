// A history event's protobuf bytes, encoded once. The same event object goes to the store at its
// commit and then into every later work item of its instance, since each episode carries the whole
// history; encoding it anew each time was most of the scheduler's CPU on long histories. Events are
// never changed after they are made (a rewind or a restart makes new ones), so the bytes stay true.
import { pb } from ".";

const encoded = new WeakMap<pb.IHistoryEvent, Uint8Array>();

export function eventBytes(event: pb.IHistoryEvent): Uint8Array {
  let bytes = encoded.get(event);
  if (bytes === undefined) {
    bytes = pb.HistoryEvent.encode(event).finish();
    encoded.set(event, bytes);
  }
  return bytes;
}
