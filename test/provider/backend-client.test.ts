// Unit tests of the provider's BackendService client against an in-process gRPC server built from
// the same service definition, which records what the client sends: metadata on every call,
// retries of UNAVAILABLE, and a work-item stream that reconnects when it ends or goes silent.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../../src/proto";
import { backendDefinition } from "../../src/proto/services";
import { BackendClient, grpcTarget, USER_AGENT } from "../../src/provider/backend-client";

/* eslint-disable @typescript-eslint/no-explicit-any */
let server: grpc.Server;
let port: number;
const metadata: grpc.Metadata[] = [];
let pingFailures = 0;
let streamPlan: ((call: grpc.ServerWritableStream<any, any>) => void)[] = [];
let streamsOpened = 0;

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(backendDefinition, {
    Ping: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      metadata.push(call.metadata);
      if (pingFailures > 0) {
        pingFailures--;
        cb({ code: grpc.status.UNAVAILABLE, details: "starting up" } as grpc.ServiceError);
      } else {
        cb(null, {});
      }
    },
    GetMetrics: (_call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb({ code: grpc.status.NOT_FOUND, details: "Task hub not found: x" } as grpc.ServiceError),
    GetWorkItems: (call: grpc.ServerWritableStream<any, any>) => {
      metadata.push(call.metadata);
      streamsOpened++;
      const next = streamPlan.shift();
      if (next) next(call);
    },
  });
  port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
});

afterAll(() => server.forceShutdown());

function newClient(extra: Partial<ConstructorParameters<typeof BackendClient>[0]> = {}): BackendClient {
  return new BackendClient({
    endpoint: `http://127.0.0.1:${port}`, taskHub: "hub-a", tokenSource: { getToken: async () => "fake-token" },
    retry: { maxAttempts: 5, initialDelayMs: 5, maxDelayMs: 20 }, reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...extra,
  });
}

test("every call carries taskhub, the bearer token, the worker id and the user agent", async () => {
  const c = newClient();
  await c.call("Ping", {});
  const md = metadata[metadata.length - 1];
  expect(md.get("taskhub")).toEqual(["hub-a"]);
  expect(md.get("authorization")).toEqual(["Bearer fake-token"]);
  expect(String(md.get("workerid")[0])).toMatch(/^[^,]+,\d+,[0-9a-f-]{36}$/);
  expect(md.get("workerid")).toEqual([c.workerId]);
  expect(md.get("x-user-agent")).toEqual([USER_AGENT]);
  expect(USER_AGENT).toMatch(/^dts-functions-provider\/\d+\.\d+\.\d+/);
  c.close();
});

test("no authorization header without a token source", async () => {
  const c = newClient({ tokenSource: undefined });
  await c.call("Ping", {});
  expect(metadata[metadata.length - 1].get("authorization")).toEqual([]);
  c.close();
});

test("UNAVAILABLE is retried with backoff; other errors are not", async () => {
  const c = newClient();
  pingFailures = 3;
  const before = metadata.length;
  await c.call("Ping", {});
  expect(metadata.length - before).toBe(4);
  pingFailures = 10;
  await expect(c.call("Ping", {})).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  pingFailures = 0;
  await expect(c.call("GetMetrics", {})).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: "Task hub not found: x" });
  c.close();
});

test("the work-item stream reconnects after it ends, and items flow on the new stream", async () => {
  const c = newClient();
  const items: pb.WorkItem[] = [];
  const lost: string[] = [];
  streamPlan = [
    (call) => call.end(),
    (call) => call.emit("error", { code: grpc.status.INTERNAL, details: "oops" }),
    (call) => {
      call.write({ healthPing: {} });
      call.write({ activityRequest: { name: "A", taskId: 1 }, completionToken: "t1" });
    },
  ];
  const opened = streamsOpened;
  const request = { maxConcurrentOrchestrationWorkItems: 3, maxConcurrentActivityWorkItems: 4, maxConcurrentEntityWorkItems: 5 };
  const stream = c.streamWorkItems(request, { onItem: (i) => items.push(i), onDisconnect: (r) => lost.push(r) });
  const deadline = Date.now() + 5000;
  while (items.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(items.map((i) => i.request)).toEqual(["healthPing", "activityRequest"]);
  expect(items[1].completionToken).toBe("t1");
  expect(streamsOpened - opened).toBe(3);
  expect(lost).toEqual(["the scheduler ended the stream", "INTERNAL: oops"]);
  expect(metadata[metadata.length - 1].get("taskhub")).toEqual(["hub-a"]);
  stream.close();
  c.close();
});

test("a stream silent for longer than the silence limit is replaced", async () => {
  const c = newClient({ silenceMs: 150 });
  const lost: string[] = [];
  streamPlan = [() => undefined, (call) => call.write({ healthPing: {} })];
  const opened = streamsOpened;
  let pings = 0;
  const stream = c.streamWorkItems({}, { onItem: () => pings++, onDisconnect: (r) => lost.push(r) });
  const deadline = Date.now() + 5000;
  while (pings < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(pings).toBe(1);
  expect(streamsOpened - opened).toBe(2);
  expect(lost[0]).toMatch(/no work item or health ping for 0 s/);
  stream.close();
  c.close();
});

test("the gRPC target and TLS follow the endpoint's scheme", () => {
  expect(grpcTarget("https://sched.westus.durabletask.io")).toEqual({ target: "sched.westus.durabletask.io:443", secure: true });
  expect(grpcTarget("http://localhost:8080")).toEqual({ target: "localhost:8080", secure: false });
  expect(grpcTarget("http://localhost")).toEqual({ target: "localhost:80", secure: false });
  expect(grpcTarget("https://[::1]:9443")).toEqual({ target: "[::1]:9443", secure: true });
});
