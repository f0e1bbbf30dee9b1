// End-to-end: every RPC of the three services `dts serve` offers, given requests made at random from
// the .proto files (seeded, so a failure can be replayed) and then mangled byte by byte, answers each
// with a status a client can act on: never UNKNOWN or INTERNAL (a handler that threw), never a hang,
// never a crash. Then a worker's answers made at random, with real completion tokens, go through the
// engine's checks of actions the same way. After both, the server still runs orchestrations, and
// restarted on its data it serves what it had.
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as protobuf from "protobufjs";
import { TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { isActivity, isOrchestration, RawClient, WorkStream } from "../helpers/raw";
import { echoRuns, INTS, restartSummary, Rng, STRINGS } from "../helpers/fuzz";
import { stopAll } from "../helpers/teardown";
import { pb } from "../../src/proto";
import { backendDefinition } from "../../src/proto/services";

/* eslint-disable @typescript-eslint/no-explicit-any */

const INPUTS_PER_METHOD = Number(process.env.DTS_FUZZ_INPUTS ?? 25);
const ANSWERS = Number(process.env.DTS_FUZZ_ANSWERS ?? 300);
const FUZZ_HUB = "fuzz";
/** The random answers' hub: the random requests end by deleting theirs (DeleteTaskHub). */
const ANSWERS_HUB = "answers";
const MAIN_HUB = "main";

const LONGS = [0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 86_400_000, 1e12];

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith("google/") ? target : path.resolve(__dirname, "../../../src/proto", target));
  root.loadSync(["orchestrator_service.proto", "backend_service.proto", "completion_stream.proto"]);
  root.resolveAll();
  return root;
}

function randomScalar(type: string, rng: Rng): unknown {
  switch (type) {
    case "string":
      return rng.chance(0.8) ? rng.pick(STRINGS) : rng.bytes(rng.int(20)).toString("latin1");
    case "bytes":
      return rng.bytes(rng.int(40));
    case "bool":
      return rng.chance(0.5);
    case "double":
    case "float":
      return rng.pick([0, -0, 1.5, -1e300, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY]);
    case "int64":
    case "uint64":
    case "sint64":
    case "fixed64":
    case "sfixed64":
      return rng.pick(LONGS);
    default:
      return rng.pick(INTS);
  }
}

function randomValue(field: protobuf.Field, rng: Rng, depth: number): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return depth > 4 ? {} : randomMessage(t, rng, depth + 1);
  if (t instanceof protobuf.Enum) return rng.chance(0.85) ? rng.pick(Object.values(t.values)) : rng.pick([-1, 99]);
  return randomScalar(field.type, rng);
}

/** A message with each field set or not at random (maps and repeated fields with 0-3 entries). */
function randomMessage(type: protobuf.Type, rng: Rng, depth = 0): Record<string, unknown> {
  if (type.fullName === ".google.protobuf.Timestamp") {
    return { seconds: rng.pick([0, 1_700_000_000, -62_135_596_801, 253_402_300_800, 2 ** 53 - 1]), nanos: rng.pick([0, 999_999_999, 1_000_000_000, -1]) };
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (!rng.chance(0.55)) continue;
    if (field instanceof protobuf.MapField) {
      const map: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) map[String(rng.pick(STRINGS)).slice(0, 50)] = randomValue(field, rng, depth);
      out[field.name] = map;
    } else if (field.repeated) {
      out[field.name] = Array.from({ length: rng.int(depth > 2 ? 2 : 4) }, () => randomValue(field, rng, depth));
    } else {
      out[field.name] = randomValue(field, rng, depth);
    }
  }
  return out;
}

/** The request's bytes: encoded from a random message, and one time in three mangled after. */
function randomRequest(type: protobuf.Type, rng: Rng): Buffer {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(type.encode(type.fromObject(randomMessage(type, rng))).finish());
  } catch {
    bytes = rng.bytes(rng.int(64));
  }
  if (!rng.chance(1 / 3) || bytes.length === 0) return bytes;
  const at = rng.int(bytes.length);
  switch (rng.int(4)) {
    case 0:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([rng.int(256)]), bytes.subarray(at + 1)]);
    case 1:
      return bytes.subarray(0, at);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), rng.bytes(1 + rng.int(8)), bytes.subarray(at)]);
    default:
      return Buffer.concat([bytes, bytes.subarray(at)]);
  }
}

interface Method {
  path: string;
  name: string;
  request: protobuf.Type;
  clientStream: boolean;
  serverStream: boolean;
}

function methodsOf(root: protobuf.Root): Method[] {
  const services = ["TaskHubSidecarService", "durabletask.protos.backend.v1.BackendService", "dts.v1.CompletionStream"];
  const methods = services.flatMap((s) => root.lookupService(s).methodsArray.map((m) => ({
    path: `/${s}/${m.name}`, name: m.name, request: m.resolvedRequestType!,
    clientStream: !!m.requestStream, serverStream: !!m.responseStream,
  })));
  // Those that can empty the hub go last, so the others meet instances; and last of all those that
  // delete or re-create it, whose partitions are then being taken again (a clustered store answers
  // UNAVAILABLE meanwhile, as it should, which the others would count as a failure).
  const rank = (m: Method) => (/CreateTaskHub/.test(m.name) ? 3 : /DeleteTaskHub/.test(m.name) ? 2 : /Purge|CleanEntityStorage/.test(m.name) ? 1 : 0);
  return [...methods].sort((a, b) => rank(a) - rank(b));
}

/** Calls that may wait on purpose (for an instance, for work): a deadline ending them is their answer. */
const WAITS = /^(WaitFor|GetWorkItems$|StreamInstanceHistory$|CompleteWorkItems$|.*WithExtendedSession$)/;
const identity = (b: Buffer) => b;

/** The status a raw call ends with (OK when it answered), with a short deadline for calls that wait. */
function callRaw(channel: grpc.Client, m: Method, bytes: Buffer, md: grpc.Metadata): Promise<{ code: number; details: string }> {
  const deadline = Date.now() + (WAITS.test(m.name) ? 300 : 10_000);
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: "" });
    if (!m.clientStream && !m.serverStream) {
      channel.makeUnaryRequest(m.path, identity, identity, bytes, md, { deadline }, (err) => done(err));
      return;
    }
    const call = m.clientStream
      ? channel.makeBidiStreamRequest(m.path, identity, identity, md, { deadline })
      : channel.makeServerStreamRequest(m.path, identity, identity, bytes, md, { deadline });
    call.on("data", () => undefined);
    call.on("status", (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
    call.on("error", () => undefined);
    if (m.clientStream) {
      (call as grpc.ClientDuplexStream<Buffer, Buffer>).write(bytes);
      (call as grpc.ClientDuplexStream<Buffer, Buffer>).end();
    }
  });
}

/** What no request may get: a handler's unexpected failure, a hang, or no server. */
function unacceptable(m: Method, status: { code: number; details: string }): boolean {
  const s = grpc.status;
  if (status.code === s.UNKNOWN || status.code === s.UNAVAILABLE) return true;
  // Bytes that do not decode are INTERNAL "Error deserializing request", as grpc-js and the other gRPC servers answer.
  if (status.code === s.INTERNAL) return status.details !== "Error deserializing request";
  if (status.code === s.DEADLINE_EXCEEDED) return !WAITS.test(m.name);
  if (status.code !== s.OK && !status.details) return true;
  return false;
}

let server: DtsProcess;
const sdkClients: TaskHubGrpcClient[] = [];
const sdkWorkers: TaskHubGrpcWorker[] = [];
const raws: RawClient[] = [];
let root: protobuf.Root;

beforeAll(async () => {
  root = loadRoot();
  server = await startDts(["--store", "sqlite", "--hubs", `${MAIN_HUB},${FUZZ_HUB},${ANSWERS_HUB}`]);
});

afterAll(() => stopAll({ raws, workers: sdkWorkers, clients: sdkClients, servers: [server] }));

/** Lines of the server's log that report a handler's unexpected error. */
const unexpectedErrors = () => server.output().split("\n").filter((l) => l.includes("unexpected error"));

test(`every RPC answers ${INPUTS_PER_METHOD} random and mangled requests with a status a client can act on, and the server keeps running`, async () => {
  // A few instances for the requests' ids to meet: fz-0 running, fz-1 and fz-2 waiting on an event.
  const raw = new RawClient(server.address, FUZZ_HUB);
  raws.push(raw);
  for (const id of ["fz-0", "fz-1", "fz-2"]) await raw.call("StartInstance", { instanceId: id, name: "Fuzz", input: { value: "1" } });

  const channel = new grpc.Client(server.address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("taskhub", FUZZ_HUB);
  const failures: string[] = [];
  const counts = new Map<number, number>();
  try {
    for (const m of methodsOf(root)) {
      for (let i = 0; i < INPUTS_PER_METHOD; i++) {
        const seed = (i + 1) * 7919 + m.path.length;
        const bytes = randomRequest(m.request, new Rng(seed));
        const status = await callRaw(channel, m, bytes, md);
        counts.set(status.code, (counts.get(status.code) ?? 0) + 1);
        if (unacceptable(m, status)) failures.push(`${m.path} (seed ${seed}, request ${bytes.toString("base64").slice(0, 200)}): ${grpc.status[status.code]} ${status.details}`);
      }
    }
  } finally {
    channel.close();
  }
  process.stderr.write(`request-fuzz: ${methodsOf(root).length} methods × ${INPUTS_PER_METHOD}; statuses ${[...counts].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${grpc.status[c]} ${n}`).join(", ")}\n`);
  expect(failures.slice(0, 20)).toEqual([]);
  expect(unexpectedErrors()).toEqual([]);
  expect(server.proc.exitCode).toBeNull();
}, 180_000);

test(`${ANSWERS} random answers to real work items (real tokens; random actions, results, entity batches, or events precomputed as a Functions host sends them) are each taken or refused with a clear status`, async () => {
  const raw = new RawClient(server.address, ANSWERS_HUB);
  raws.push(raw);
  // Half the answers go the way a Functions host sends them (BackendService, the episode already turned into events).
  const backend = new RawClient(server.address, ANSWERS_HUB, backendDefinition);
  raws.push(backend);
  const stream: WorkStream = raw.workItems({ maxConcurrentOrchestrationWorkItems: 100, maxConcurrentActivityWorkItems: 100, maxConcurrentEntityWorkItems: 100 });
  const orchestratorResponse = root.lookupType("OrchestratorResponse");
  const activityResponse = root.lookupType("ActivityResponse");
  const precomputed = root.lookupType("durabletask.protos.backend.v1.CompleteOrchestrationWorkItemRequest");
  const activityEvent = root.lookupType("durabletask.protos.backend.v1.CompleteActivityWorkItemRequest");
  const entityResult = root.lookupType("EntityBatchResult");
  // Entities appear when random actions signal ids such as "@counter@a"; their batches are answered at random too.
  const isEntity = (w: pb.IWorkItem) => !!(w.entityRequest ?? w.entityRequestV2);
  const answerable = (w: pb.IWorkItem) => isOrchestration(w as pb.WorkItem) || isActivity(w as pb.WorkItem) || isEntity(w);
  const failures: string[] = [];
  const codes = new Map<string, number>();
  let seen = 0;
  let started = 0;
  for (let n = 0; n < ANSWERS; n++) {
    // Keep work coming: a new instance whenever nothing is waiting to be answered (its first episode
    // always comes), and now and then a signal (an entity a random answer locked may hold it back).
    if (!stream.items.slice(seen).some(answerable)) {
      await raw.call("StartInstance", { instanceId: `fa-${started++}`, name: "Fuzz", input: { value: String(n) } });
      if (n % 5 === 4) await raw.call("SignalEntity", { instanceId: `@counter@e${n % 3}`, requestId: `r-${n}`, name: "add", input: { value: "1" } });
    }
    const index = await stream.waitFor(answerable, seen);
    seen = index + 1;
    const item = stream.items[index];
    const rng = new Rng(1_000 + n);
    let method: string;
    let request: any;
    let via = raw;
    if (isEntity(item)) {
      method = "CompleteEntityTask";
      request = entityResult.toObject(entityResult.fromObject(randomMessage(entityResult, rng)));
      request.completionToken = rng.chance(0.9) ? item.completionToken : rng.pick(STRINGS);
    } else if (rng.chance(0.5)) {
      via = backend;
      const id = item.orchestratorRequest?.instanceId ?? item.activityRequest!.orchestrationInstance?.instanceId;
      method = item.orchestratorRequest ? "CompleteOrchestrationWorkItem" : "CompleteActivityWorkItem";
      const type = item.orchestratorRequest ? precomputed : activityEvent;
      request = type.toObject(type.fromObject(randomMessage(type, rng)));
      if (item.orchestratorRequest) request.instance = { ...request.instance, instanceId: rng.chance(0.9) ? id : rng.pick(STRINGS) };
      request.completionToken = rng.chance(0.9) ? item.completionToken : rng.pick(STRINGS);
    } else if (item.orchestratorRequest) {
      method = "CompleteOrchestratorTask";
      request = orchestratorResponse.toObject(orchestratorResponse.fromObject(randomMessage(orchestratorResponse, rng)));
      // The real instance and token, so the answer reaches the engine's checks; now and then a wrong one.
      request.instanceId = rng.chance(0.9) ? item.orchestratorRequest.instanceId : rng.pick(STRINGS);
      request.completionToken = rng.chance(0.9) ? item.completionToken : rng.pick(STRINGS);
    } else {
      method = "CompleteActivityTask";
      request = activityResponse.toObject(activityResponse.fromObject(randomMessage(activityResponse, rng)));
      request.instanceId = rng.chance(0.9) ? item.activityRequest!.orchestrationInstance?.instanceId : rng.pick(STRINGS);
      request.taskId = rng.chance(0.9) ? item.activityRequest!.taskId : rng.pick(INTS);
      request.completionToken = rng.chance(0.9) ? item.completionToken : rng.pick(STRINGS);
    }
    const status = await via.call(method, request).then(() => ({ code: 0, details: "" }), (e: grpc.ServiceError) => ({ code: e.code, details: e.details }));
    const key = `${method} ${grpc.status[status.code]}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
    if (unacceptable({ name: method } as Method, status)) failures.push(`${method} #${n} (seed ${1_000 + n}): ${grpc.status[status.code]} ${status.details}`);
    // A refused answer leaves the item leased to this stream: give it back, as a worker would, so
    // the stream's slots do not run out (it comes again, for another random answer).
    if (status.code !== grpc.status.OK) {
      const abandon = item.orchestratorRequest ? "AbandonTaskOrchestratorWorkItem" : isEntity(item) ? "AbandonTaskEntityWorkItem" : "AbandonTaskActivityWorkItem";
      await raw.call(abandon, { completionToken: item.completionToken });
    }
  }
  stream.cancel();
  process.stderr.write(`request-fuzz answers: ${[...codes].map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
  expect(failures.slice(0, 20)).toEqual([]);
  expect(unexpectedErrors()).toEqual([]);

  // Every instance the answers touched still reads whole: its state and its history.
  const ids: string[] = (await raw.instances()).map((s: any) => s.instanceId);
  expect(ids.length).toBeGreaterThan(0);
  await raw.readWhole(ids);
}, 180_000);

test("after both, the server still runs orchestrations, and restarted on its data it serves what it had", async () => {
  const { w, c, id } = await echoRuns(server.address, MAIN_HUB);
  sdkWorkers.push(w);
  sdkClients.push(c);

  const raw = new RawClient(server.address, ANSWERS_HUB);
  raws.push(raw);
  const before: any[] = await raw.instances();
  await Promise.all(sdkWorkers.splice(0).map((x) => x.stop()));
  expect(await server.stop()).toBe(0);
  server = await startDts(["--store", "sqlite", "--hubs", `${MAIN_HUB},${FUZZ_HUB},${ANSWERS_HUB}`], { dataDir: server.dataDir });
  const again = new RawClient(server.address, ANSWERS_HUB);
  raws.push(again);
  const after: any[] = await again.instances();
  expect(restartSummary(after)).toEqual(restartSummary(before));
  const mainAgain = new RawClient(server.address, MAIN_HUB);
  raws.push(mainAgain);
  expect((await mainAgain.call("GetInstance", { instanceId: id, getInputsAndOutputs: true })).orchestrationState.output.value).toBe('"echo:after the fuzz"');
}, 120_000);
