// The WorkItem codec both services stream with: an orchestrator request's events are written from
// their cached bytes (event-bytes.ts) instead of being encoded again for every episode. The bytes on
// the wire decode to the same message; only the order of OrchestratorRequest's fields differs, which
// protobuf decoders accept.
import { eventBytes } from "./event-bytes";
import { pb } from ".";

// Field numbers from orchestrator_service.proto, with wire type 2 (length-delimited).
const ORCHESTRATOR_REQUEST = (1 << 3) | 2;
const PAST_EVENTS = (3 << 3) | 2;
const NEW_EVENTS = (4 << 3) | 2;

export function encodeWorkItem(item: pb.IWorkItem): Uint8Array {
  const request = item.orchestratorRequest;
  if (!request) return pb.WorkItem.encode(item).finish();
  const w = pb.WorkItem.encode({ ...item, orchestratorRequest: null });
  w.uint32(ORCHESTRATOR_REQUEST).fork();
  pb.OrchestratorRequest.encode({ ...request, pastEvents: [], newEvents: [] }, w);
  for (const event of request.pastEvents ?? []) w.uint32(PAST_EVENTS).bytes(eventBytes(event));
  for (const event of request.newEvents ?? []) w.uint32(NEW_EVENTS).bytes(eventBytes(event));
  return w.ldelim().finish();
}

/** pb.WorkItem with the encoder above, in the shape service definitions take. */
export const workItemCodec = {
  encode: (item: pb.IWorkItem) => ({ finish: () => encodeWorkItem(item) }),
  decode: (bytes: Uint8Array) => pb.WorkItem.decode(bytes),
};
