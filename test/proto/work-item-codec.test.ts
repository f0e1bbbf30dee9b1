// The work-item encoder that writes events from cached bytes must produce what the standard encoder
// does, as our decoder and the official SDK's (google-protobuf) read it.
import { pb } from "../../src/proto";
import { eventBytes } from "../../src/proto/event-bytes";
import { encodeWorkItem } from "../../src/proto/work-item-codec";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk = require("@microsoft/durabletask-js/dist/proto/orchestrator_service_pb");

const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

function events(): pb.IHistoryEvent[] {
  return [
    { eventId: -1, timestamp: at(1_700_000_000_123), orchestratorStarted: {} },
    { eventId: 0, timestamp: at(1_700_000_000_124), executionStarted: { name: "HelloCities", input: { value: '"Tokyo ✓"' }, orchestrationInstance: { instanceId: "i-1", executionId: { value: "e-1" } } } },
    { eventId: 1, timestamp: at(1_700_000_000_200), taskScheduled: { name: "SayHello", input: { value: '"Seattle"' } } },
    { eventId: -1, timestamp: at(1_700_000_000_300), taskCompleted: { taskScheduledId: 1, result: { value: '"Hello Seattle"' } } },
    { eventId: 2, timestamp: at(1_700_000_000_400), timerCreated: { fireAt: at(1_700_000_060_000) } },
  ];
}

function orchestratorItem(past: pb.IHistoryEvent[], fresh: pb.IHistoryEvent[]): pb.IWorkItem {
  return {
    completionToken: "token-7",
    orchestratorRequest: { instanceId: "i-1", executionId: { value: "e-1" }, pastEvents: past, newEvents: fresh, requiresHistoryStreaming: false },
  };
}

// Decoded messages compare by their fields (defaults live on the prototypes, alike for both).
const plain = (bytes: Uint8Array) => pb.WorkItem.decode(bytes);

test("an orchestrator work item decodes exactly as the standard encoding does", () => {
  const all = events();
  const item = orchestratorItem(all.slice(0, 3), all.slice(3));
  expect(plain(encodeWorkItem(item))).toEqual(plain(pb.WorkItem.encode(item).finish()));
});

test("the official SDK's decoder reads the same events, in order", () => {
  const all = events();
  const decoded = sdk.WorkItem.deserializeBinary(encodeWorkItem(orchestratorItem(all.slice(0, 2), all.slice(2))));
  const request = decoded.getOrchestratorrequest();
  expect(decoded.getCompletiontoken()).toBe("token-7");
  expect(request.getInstanceid()).toBe("i-1");
  expect(request.getPasteventsList().map((e: { getEventid(): number }) => e.getEventid())).toEqual([-1, 0]);
  expect(request.getNeweventsList().map((e: { getEventid(): number }) => e.getEventid())).toEqual([1, -1, 2]);
  expect(request.getPasteventsList()[1].getExecutionstarted().getInput().getValue()).toBe('"Tokyo ✓"');
  expect(request.getNeweventsList()[1].getTaskcompleted().getResult().getValue()).toBe('"Hello Seattle"');
});

test("work items of other kinds and an empty orchestrator request are encoded as before", () => {
  const activity: pb.IWorkItem = { completionToken: "t", activityRequest: { name: "SayHello", taskId: 3, input: { value: "1" }, orchestrationInstance: { instanceId: "i" } } };
  expect(Buffer.from(encodeWorkItem(activity))).toEqual(Buffer.from(pb.WorkItem.encode(activity).finish()));
  const empty = orchestratorItem([], []);
  expect(plain(encodeWorkItem(empty))).toEqual(plain(pb.WorkItem.encode(empty).finish()));
});

test("an event is encoded once: its later work items reuse the same bytes", () => {
  const [event] = events();
  const first = eventBytes(event);
  expect(eventBytes(event)).toBe(first);
  expect(Buffer.from(first)).toEqual(Buffer.from(pb.HistoryEvent.encode(event).finish()));
});
