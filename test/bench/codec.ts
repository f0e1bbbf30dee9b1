// Codec choice: encode + decode of a 20-event OrchestratorRequest with three protobuf libraries.
// Run: npm run build && node dist/test/bench/codec.js
import * as path from "path";
import * as protobuf from "protobufjs";
import { pb } from "../../src/proto";

const N = 20000;
const payload = JSON.stringify({ city: "Tokyo", greeting: "Hello, Tokyo!", n: 12345, list: [1, 2, 3, 4, 5] });
const ts = () => ({ seconds: Math.floor(Date.now() / 1000), nanos: 123000000 });

function plainRequest(): pb.IOrchestratorRequest {
  const past: pb.IHistoryEvent[] = [
    { eventId: -1, timestamp: ts(), orchestratorStarted: {} },
    { eventId: -1, timestamp: ts(), executionStarted: { name: "HelloCities", input: { value: payload }, orchestrationInstance: { instanceId: "abc-123", executionId: { value: "e1" } } } },
  ];
  for (let i = 1; past.length < 18; i++) {
    past.push({ eventId: i, timestamp: ts(), taskScheduled: { name: "SayHello", input: { value: payload } } });
    past.push({ eventId: -1, timestamp: ts(), taskCompleted: { taskScheduledId: i, result: { value: payload } } });
  }
  const newEvents: pb.IHistoryEvent[] = [
    { eventId: -1, timestamp: ts(), orchestratorStarted: {} },
    { eventId: -1, timestamp: ts(), taskCompleted: { taskScheduledId: 9, result: { value: payload } } },
  ];
  return { instanceId: "abc-123", executionId: { value: "e1" }, pastEvents: past, newEvents };
}

function time(label: string, fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  console.log(`${label.padEnd(44)} ${us.toFixed(2).padStart(8)} µs/op`);
  return us;
}

const results: Record<string, number> = {};
// 1. protobufjs static code (ours)
{
  const msg = pb.OrchestratorRequest.create(plainRequest());
  const bytes = pb.OrchestratorRequest.encode(msg).finish();
  console.log(`request size: ${bytes.length} bytes`);
  results["protobufjs static encode"] = time("protobufjs static: encode", () => pb.OrchestratorRequest.encode(msg).finish());
  results["protobufjs static decode"] = time("protobufjs static: decode", () => pb.OrchestratorRequest.decode(bytes));
}
// 2. protobufjs reflection over the same .proto files
{
  const root = new protobuf.Root();
  root.resolvePath = (_o, t) => (t.startsWith("google/") ? t : path.join(__dirname, "../../../src/proto", t));
  root.loadSync("orchestrator_service.proto");
  const T = root.lookupType("OrchestratorRequest");
  const msg = T.fromObject(plainRequest() as Record<string, unknown>);
  const bytes = T.encode(msg).finish();
  results["protobufjs reflection encode"] = time("protobufjs reflection: encode", () => T.encode(msg).finish());
  results["protobufjs reflection decode"] = time("protobufjs reflection: decode", () => T.decode(bytes));
}
// 3. google-protobuf, the classes the official SDK ships
{
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const g = require("@microsoft/durabletask-js/dist/proto/orchestrator_service_pb");
  const bytes = pb.OrchestratorRequest.encode(pb.OrchestratorRequest.create(plainRequest())).finish();
  const msg = g.OrchestratorRequest.deserializeBinary(bytes);
  results["google-protobuf encode"] = time("google-protobuf (SDK classes): encode", () => msg.serializeBinary());
  results["google-protobuf decode"] = time("google-protobuf (SDK classes): decode", () => g.OrchestratorRequest.deserializeBinary(bytes));
}
if (process.argv.includes("--json")) console.log(JSON.stringify(results));
