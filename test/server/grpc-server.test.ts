// The scheduler's gRPC server on node:http2, driven by grpc-js clients over real sockets: each call
// shape with its events, metadata and statuses, limits, deadlines, cancellation, unknown methods,
// and close() cancelling what is open.
import { EventEmitter, once } from "events";
import * as http2 from "http2";
import * as net from "net";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { pollUntil, within } from "../helpers/poll";
import * as grpc from "@grpc/grpc-js";
import { GrpcServer } from "../../src/server/grpc-server";

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const definition: grpc.ServiceDefinition = {
  Echo: { path: "/test.Svc/Echo", requestStream: false, responseStream: false, originalName: "echo", ...raw },
  Hang: { path: "/test.Svc/Hang", requestStream: false, responseStream: false, originalName: "hang", ...raw },
  Count: { path: "/test.Svc/Count", requestStream: false, responseStream: true, originalName: "count", ...raw },
  Chat: { path: "/test.Svc/Chat", requestStream: true, responseStream: true, originalName: "chat", ...raw },
  Missing: { path: "/test.Svc/Missing", requestStream: false, responseStream: false, originalName: "missing", ...raw },
};
const Client = grpc.makeGenericClientConstructor(definition, "Svc");
type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** What the handlers saw, for the tests to await. */
const seen = new EventEmitter();

const handlers: grpc.UntypedServiceImplementation = {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    seen.emit("echo", call, call.getPeer());
    const text = call.request.toString();
    if (text === "throw") throw new Error("handler bug");
    if (text === "fail") return callback({ code: grpc.status.FAILED_PRECONDITION, details: "Instance 'ü' is 100% done" });
    callback(null, Buffer.from(`echo:${text}:${String(call.metadata.get("taskhub")[0] ?? "")}`));
  },
  Hang: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => seen.emit("hang", call),
  Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    seen.emit("count", call);
    const n = Number(call.request.toString());
    if (n < 0) return; // stays open
    const headers = new grpc.Metadata();
    headers.set("capabilities", "x,y");
    call.sendMetadata(headers);
    for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
    if (n === 3) call.emit("error", Object.assign(new Error(), { code: grpc.status.NOT_FOUND, details: "no fourth" }));
    else call.end();
  },
  Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on("data", (m: Buffer) => call.write(Buffer.from(m.toString().toUpperCase())));
    call.on("end", () => call.end());
  },
};

let server: GrpcServer;
let client: AnyClient;
let port: number;

beforeAll(async () => {
  server = new GrpcServer({ maxReceiveMessageBytes: 1024, keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 20_000 });
  server.addService(definition, handlers);
  port = await server.listen("localhost", 0);
  client = new Client(`localhost:${port}`, grpc.credentials.createInsecure()) as unknown as AnyClient;
});

afterAll(async () => {
  client.close();
  await server.close();
});

function unary(method: string, body: string, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<{ value?: string; err?: grpc.ServiceError }> {
  return new Promise((resolve) =>
    client[method](Buffer.from(body), metadata, options, (err: grpc.ServiceError | null, value?: Buffer) => resolve(err ? { err } : { value: value!.toString() })),
  );
}

test("a unary call gets its answer; the handler sees the application's metadata, not the transport's headers", async () => {
  const md = new grpc.Metadata();
  md.set("taskhub", "hub-a");
  md.set("trace-bin", Buffer.from([1, 2, 3]));
  const called = once(seen, "echo");
  expect(await unary("Echo", "hi", md, { deadline: Date.now() + 60_000 })).toEqual({ value: "echo:hi:hub-a" });
  const [call, peer] = (await called) as [grpc.ServerUnaryCall<Buffer, Buffer>, string];
  expect(call.metadata.get("trace-bin")).toEqual([Buffer.from([1, 2, 3])]);
  for (const h of ["grpc-timeout", "te", "content-type", "grpc-accept-encoding"]) expect(call.metadata.get(h)).toEqual([]);
  expect(call.getDeadline()).toBeGreaterThan(Date.now() + 50_000);
  expect(peer).toMatch(/:\d+$/); // while the call is open, as grpc-js
  expect(call.getPath()).toBe("/test.Svc/Echo");
});

test("errors arrive with their code and details; a throwing handler answers UNKNOWN; a missing one UNIMPLEMENTED", async () => {
  const failed = await unary("Echo", "fail");
  expect(failed.err?.code).toBe(grpc.status.FAILED_PRECONDITION);
  expect(failed.err?.details).toBe("Instance 'ü' is 100% done");
  expect((await unary("Echo", "throw")).err?.code).toBe(grpc.status.UNKNOWN);
  const missing = await unary("Missing", "x");
  expect(missing.err?.code).toBe(grpc.status.UNIMPLEMENTED);
  expect(missing.err?.details).toBe("The server does not implement the method /test.Svc/Missing");
});

test("a method the server does not know answers UNIMPLEMENTED naming it", async () => {
  const other = new grpc.Client(`localhost:${port}`, grpc.credentials.createInsecure());
  const err = await new Promise<grpc.ServiceError>((resolve) =>
    other.makeUnaryRequest("/test.Svc/Nope", (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve(e!)),
  );
  other.close();
  expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  expect(err.details).toBe("The server does not implement the method /test.Svc/Nope");
});

test("a request above the receive limit is refused with RESOURCE_EXHAUSTED and never reaches the handler", async () => {
  let reached = false;
  const listener = () => (reached = true);
  seen.on("echo", listener);
  const r = await unary("Echo", "x".repeat(2000));
  seen.off("echo", listener);
  expect(r.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect(reached).toBe(false);
});

test("a compressed request is read (the client compresses with gzip)", async () => {
  const gzip = new Client(`localhost:${port}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 }) as unknown as AnyClient;
  const answer = await new Promise<string>((resolve, reject) =>
    gzip.Echo(Buffer.from("y".repeat(500)), (err: grpc.ServiceError | null, value?: Buffer) => (err ? reject(err) : resolve(value!.toString()))),
  );
  gzip.close();
  expect(answer).toBe(`echo:${"y".repeat(500)}:`);
});

test("a call past its deadline ends DEADLINE_EXCEEDED and the handler is told 'cancelled'", async () => {
  const hung = once(seen, "hang");
  const result = unary("Hang", "", new grpc.Metadata(), { deadline: Date.now() + 300 });
  const [call] = (await hung) as [grpc.ServerUnaryCall<Buffer, Buffer>];
  await once(call, "cancelled");
  expect(call.cancelled).toBe(true);
  expect((await result).err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
});

test("a server stream sends its headers, its messages and OK; an emitted error ends it with that status after the messages", async () => {
  const read = (n: number) =>
    new Promise<{ messages: string[]; headers?: grpc.Metadata; status?: grpc.StatusObject; err?: grpc.ServiceError }>((resolve) => {
      const stream = client.Count(Buffer.from(String(n))) as grpc.ClientReadableStream<Buffer>;
      const messages: string[] = [];
      let headers: grpc.Metadata | undefined;
      let err: grpc.ServiceError | undefined;
      stream.on("metadata", (m) => (headers = m));
      stream.on("data", (m: Buffer) => messages.push(m.toString()));
      stream.on("error", (e: grpc.ServiceError) => (err = e));
      stream.on("status", (status) => resolve({ messages, headers, status, err }));
    });
  const ok = await read(2);
  expect(ok.messages).toEqual(["1", "2"]);
  expect(ok.headers?.get("capabilities")).toEqual(["x,y"]);
  expect(ok.status?.code).toBe(grpc.status.OK);
  // Many writes in one tick leave the stream together (one HTTP/2 write) and arrive whole, in order.
  const many = await read(50);
  expect(many.messages).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
  expect(many.status?.code).toBe(grpc.status.OK);
  const failed = await read(3);
  expect(failed.messages).toEqual(["1", "2", "3"]);
  expect(failed.err?.code).toBe(grpc.status.NOT_FOUND);
  expect(failed.err?.details).toBe("no fourth");
});

test("a client cancelling a server stream tells the handler 'cancelled' and closes the call", async () => {
  const opened = once(seen, "count");
  const stream = client.Count(Buffer.from("-1")) as grpc.ClientReadableStream<Buffer>;
  stream.on("error", () => undefined);
  const [call] = (await opened) as [grpc.ServerWritableStream<Buffer, Buffer>];
  const cancelled = once(call, "cancelled");
  const closed = once(call, "close");
  stream.cancel();
  await Promise.all([cancelled, closed]);
  expect(call.cancelled).toBe(true);
});

test("a bidirectional stream answers each message and ends when the client does", async () => {
  const stream = client.Chat() as grpc.ClientDuplexStream<Buffer, Buffer>;
  const got: string[] = [];
  stream.on("data", (m: Buffer) => got.push(m.toString()));
  const status = new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
  for (const w of ["a", "b", "c"]) stream.write(Buffer.from(w));
  stream.end();
  expect((await status).code).toBe(grpc.status.OK);
  expect(got).toEqual(["A", "B", "C"]);
});

test("a request that is not gRPC gets HTTP 415", async () => {
  const session = http2.connect(`http://localhost:${port}`);
  const req = session.request({ ":method": "POST", ":path": "/test.Svc/Echo", "content-type": "application/json" });
  const [headers] = (await once(req, "response")) as [http2.IncomingHttpHeaders];
  req.resume();
  req.end();
  session.close();
  expect(headers[":status"]).toBe(415);
});

test("close() cancels the calls still open and stops listening", async () => {
  const own = new GrpcServer({ maxReceiveMessageBytes: 1024, keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 20_000 });
  own.addService(definition, handlers);
  const ownPort = await own.listen("127.0.0.1", 0);
  const c = new Client(`127.0.0.1:${ownPort}`, grpc.credentials.createInsecure()) as unknown as AnyClient;
  const opened = once(seen, "count");
  const stream = c.Count(Buffer.from("-1")) as grpc.ClientReadableStream<Buffer>;
  const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
  const [call] = (await opened) as [grpc.ServerWritableStream<Buffer, Buffer>];
  const cancelled = once(call, "cancelled");
  await own.close();
  await cancelled;
  expect([grpc.status.CANCELLED, grpc.status.UNAVAILABLE, grpc.status.INTERNAL]).toContain((await ended).code);
  const refused = await new Promise<grpc.ServiceError>((resolve) =>
    c.Echo(Buffer.from("x"), new grpc.Metadata(), { deadline: Date.now() + 2000 }, (err: grpc.ServiceError | null) => resolve(err!)),
  );
  c.close();
  expect(refused.code).toBe(grpc.status.UNAVAILABLE);
});

test("close() does not wait for a TLS connection that never finishes its handshake", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-grpc-tls-"));
  try {
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert], { stdio: "ignore" });
    const own = new GrpcServer({ maxReceiveMessageBytes: 1024, keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 20_000 });
    own.addService(definition, handlers);
    const ownPort = await own.listen("127.0.0.1", 0, { cert, key });
    const socket = net.connect(ownPort, "127.0.0.1");
    socket.on("error", () => undefined);
    await once(socket, "connect");
    await pollUntil(async () => own.connections, (n) => n === 1, "the server to accept the connection");
    const gone = once(socket, "close");
    await within(own.close(), "close() with a handshake pending", 5000);
    await gone;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a port in use is refused with the address in the message", async () => {
  const other = new GrpcServer({ maxReceiveMessageBytes: 1024, keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 20_000 });
  await expect(other.listen("127.0.0.1", port)).rejects.toThrow(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
});
