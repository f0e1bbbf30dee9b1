// The host's loopback gRPC channel for durable-functions 4's client, against a stand-in scheduler
// that records what reaches it: the connection's credential and the task hub are added, replies and
// errors come back unchanged, streams are relayed, and messages past gRPC's 4 MiB default pass.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../../src/proto";
import { sidecarDefinition } from "../../src/proto/services";
import { DurableGrpcChannel, openDurableGrpcChannel } from "../../src/host/durable-grpc-channel";

type Handler = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

let scheduler: grpc.Server;
let channel: DurableGrpcChannel;
let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
const seen: grpc.Metadata[] = [];
let schedulerPort = 0;
const BIG = "y".repeat(5 * 1024 * 1024);

beforeAll(async () => {
  scheduler = new grpc.Server({ "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 });
  const getInstance: Handler = (call, cb) => {
    seen.push(call.metadata);
    const id = (call.request as pb.GetInstanceRequest).instanceId;
    if (id === "missing") return cb({ code: grpc.status.NOT_FOUND, details: "No instance 'missing'" });
    cb(null, { exists: true, orchestrationState: { instanceId: id, name: "Big", output: { value: id === "big" ? BIG : "small" } } });
  };
  const streamHistory = (call: grpc.ServerWritableStream<unknown, unknown>) => {
    seen.push(call.metadata);
    for (let i = 0; i < 3; i++) call.write({ events: [{ eventId: i, orchestratorStarted: {} }] });
    call.end();
  };
  const neverAnswers: Handler = () => undefined;
  scheduler.addService(sidecarDefinition, { GetInstance: getInstance, StreamInstanceHistory: streamHistory, WaitForInstanceCompletion: neverAnswers } as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) => scheduler.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  schedulerPort = port;
  channel = await openDurableGrpcChannel({ endpoint: `http://127.0.0.1:${port}`, hubName: "apphub", tokenSource: { getToken: async () => "secret-token" } });
  const Ctor = grpc.makeGenericClientConstructor(sidecarDefinition as grpc.ServiceDefinition, "TaskHubSidecarService");
  client = new Ctor(new URL(channel.url).host, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": channel.maxMessageBytes, "grpc.max_send_message_length": channel.maxMessageBytes,
  }) as typeof client;
});
afterAll(async () => {
  client?.close();
  await channel?.close();
  scheduler?.forceShutdown();
});

function getInstance(instanceId: string, md = new grpc.Metadata()): Promise<pb.GetInstanceResponse> {
  return new Promise((resolve, reject) => client.GetInstance({ instanceId }, md, (err: grpc.ServiceError | null, res: pb.GetInstanceResponse) => (err ? reject(err) : resolve(res))));
}

test("listens on loopback and advertises a message size above gRPC's 4 MiB default", () => {
  expect(channel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(channel.maxMessageBytes).toBeGreaterThan(4 * 1024 * 1024);
});

test("adds the connection's bearer token and the app's task hub; keeps a task hub the client sent", async () => {
  seen.length = 0;
  await getInstance("a");
  const md = new grpc.Metadata();
  md.set("taskhub", "otherhub");
  md.set("x-user-agent", "durabletask-js");
  md.set("authorization", "Bearer from-the-app");
  await getInstance("b", md);
  expect(seen.map((m) => [m.get("taskhub")[0], m.get("authorization")])).toEqual([["apphub", ["Bearer secret-token"]], ["otherhub", ["Bearer secret-token"]]]);
  expect(seen[1].get("x-user-agent")).toEqual(["durabletask-js"]);
});

test("replies above 4 MiB, errors and streams pass through unchanged", async () => {
  expect((await getInstance("big")).orchestrationState?.output?.value).toHaveLength(BIG.length);
  await expect(getInstance("missing")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: "No instance 'missing'" });
  const chunks = await new Promise<pb.HistoryChunk[]>((resolve, reject) => {
    const out: pb.HistoryChunk[] = [];
    const s = client.StreamInstanceHistory({ instanceId: "a" }, new grpc.Metadata()) as grpc.ClientReadableStream<pb.HistoryChunk>;
    s.on("data", (c: pb.HistoryChunk) => out.push(c));
    s.on("error", reject);
    s.on("end", () => resolve(out));
  });
  expect(chunks.map((c) => c.events?.[0]?.eventId)).toEqual([0, 1, 2]);
});

test("a credential that cannot be had fails the call as UNAVAILABLE, saying why", async () => {
  const broken = await openDurableGrpcChannel({ endpoint: "http://127.0.0.1:1", hubName: "h", tokenSource: { getToken: async () => { throw new Error("no sign-in"); } } });
  const Ctor = grpc.makeGenericClientConstructor(sidecarDefinition as grpc.ServiceDefinition, "TaskHubSidecarService");
  const c = new Ctor(new URL(broken.url).host, grpc.credentials.createInsecure()) as typeof client;
  try {
    await expect(new Promise((resolve, reject) => c.GetInstance({ instanceId: "x" }, new grpc.Metadata(), (e: unknown, r: unknown) => (e ? reject(e) : resolve(r)))))
      .rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining("no sign-in") });
  } finally {
    c.close();
    await broken.close();
  }
});

test("closing does not wait for a long call in flight: it is cut after a short grace", async () => {
  const ch = await openDurableGrpcChannel({ endpoint: `http://127.0.0.1:${schedulerPort}`, hubName: "h" });
  const Ctor = grpc.makeGenericClientConstructor(sidecarDefinition as grpc.ServiceDefinition, "TaskHubSidecarService");
  const c = new Ctor(new URL(ch.url).host, grpc.credentials.createInsecure()) as typeof client;
  try {
    const waiting = new Promise((resolve, reject) => c.WaitForInstanceCompletion({ instanceId: "x" }, new grpc.Metadata(), (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    waiting.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const t0 = Date.now();
    await ch.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(waiting).rejects.toBeDefined();
  } finally {
    c.close();
  }
});
