// The HTTP/2 server connection against real clients: grpc-js (as the SDK workers use it) and Node's
// http2 client with small windows, resets, pings, a refused stream and a broken preface.
import * as http2 from "http2";
import * as net from "net";
import * as grpc from "@grpc/grpc-js";
import { frame, MessageReader } from "../../../src/server/grpc-wire";
import { DEFAULT_H2_OPTIONS, H2Connection, H2Handler, H2Options } from "../../../src/server/h2/connection";

const OK: [string, string][] = [["grpc-status", "0"]];
const HEADERS: [string, string][] = [[":status", "200"], ["content-type", "application/grpc+proto"]];

async function serve(handler: H2Handler, options: H2Options = DEFAULT_H2_OPTIONS) {
  const connections: H2Connection[] = [];
  const server = net.createServer((socket) => void connections.push(new H2Connection(socket, handler, options)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = () => {
    for (const c of connections) c.socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  return { port, connections, close };
}

/** Echoes each request's messages back, reversed, in a response of the same shape as a gRPC unary answer. */
const echo: H2Handler = {
  stream(stream) {
    const reader = new MessageReader(1 << 24);
    const messages: Buffer[] = [];
    stream.onData = (chunk) => messages.push(...reader.push(chunk));
    stream.onEnd = () => {
      stream.respond(HEADERS);
      stream.send(frame(Buffer.from(messages[0].subarray(5)).reverse()), OK);
    };
  },
};

test("grpc-js unary calls, many at once on one connection, each get their own answer", async () => {
  const s = await serve(echo);
  const client = new grpc.Client(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure());
  try {
    const id = (b: Buffer) => b;
    const call = (n: number) => new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest("/t.T/Echo", id, id, Buffer.from(`request ${n}`), (e, r) => (e ? reject(e) : resolve(r!))));
    const answers = await Promise.all(Array.from({ length: 1500 }, (_, n) => call(n)));
    answers.forEach((a, n) => expect(a.toString()).toBe(Buffer.from(`request ${n}`).reverse().toString()));
    expect(s.connections).toHaveLength(1);
  } finally {
    client.close();
    await s.close();
  }
});

test("answers larger than the client's windows are held and sent as it grants more, trailers last", async () => {
  const s = await serve(echo);
  // Windows of 4 KiB: a 100,000-byte answer waits on dozens of WINDOW_UPDATEs, and the trailers behind it.
  const session = http2.connect(`http://127.0.0.1:${s.port}`, { settings: { initialWindowSize: 4096 } });
  try {
    await new Promise((resolve) => session.once("connect", resolve));
    session.setLocalWindowSize(4096);
    const body = Buffer.alloc(100_000, 7);
    body.write("start");
    const answers = await Promise.all([1, 2, 3].map(() => new Promise<{ data: Buffer; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": "/t.T/Echo", "content-type": "application/grpc" });
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("trailers", (trailers) => req.on("end", () => resolve({ data: Buffer.concat(chunks), trailers })));
      req.on("error", reject);
      req.end(frame(body));
    })));
    for (const a of answers) {
      expect(a.trailers["grpc-status"]).toBe("0");
      expect(a.data.readUInt32BE(1)).toBe(body.length);
      expect(a.data.subarray(5)).toEqual(Buffer.from(body).reverse());
    }
  } finally {
    session.close();
    await s.close();
  }
});

test("a stream the client resets is aborted; one past the limit is refused; PINGs are answered both ways", async () => {
  const aborted: string[] = [];
  const s = await serve({ stream: (stream) => void (stream.onAbort = (reason) => aborted.push(reason)) }, { ...DEFAULT_H2_OPTIONS, maxConcurrentStreams: 1 });
  const session = http2.connect(`http://127.0.0.1:${s.port}`);
  try {
    // Both sent before the server's SETTINGS arrive (a client that knows the limit would hold the
    // second back): the server allows one stream, so the second is refused.
    const first = session.request({ ":method": "POST", ":path": "/a" });
    first.on("error", () => undefined);
    const second = session.request({ ":method": "POST", ":path": "/b" });
    second.on("error", () => undefined);
    const refused = await new Promise<number>((resolve) => second.on("close", () => resolve(second.rstCode)));
    expect(refused).toBe(http2.constants.NGHTTP2_REFUSED_STREAM);
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    await s.connections[0].ping();
    first.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((resolve) => first.on("close", resolve));
    await new Promise<void>((resolve) => session.ping(() => resolve()));
    expect(aborted).toEqual([`the client reset the stream (code ${http2.constants.NGHTTP2_CANCEL})`]);
  } finally {
    session.close();
    await s.close();
  }
});

test("what is not HTTP/2 ends the connection; GOAWAY lets open streams finish first", async () => {
  const s = await serve(echo);
  try {
    const socket = net.connect(s.port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    socket.resume();
    await new Promise((resolve) => socket.on("close", resolve));

    let held: { send(b: Buffer, t: [string, string][]): void; respond(h: [string, string][]): void } | undefined;
    const g = await serve({ stream: (stream) => void (held = stream) });
    const session = http2.connect(`http://127.0.0.1:${g.port}`);
    session.on("error", () => undefined);
    const req = session.request({ ":method": "POST", ":path": "/a" }, { endStream: true });
    const ended = new Promise<http2.IncomingHttpHeaders>((resolve) => req.on("trailers", resolve));
    req.resume();
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    while (!held) await new Promise((resolve) => setImmediate(resolve));
    const goaway = new Promise((resolve) => session.once("goaway", resolve));
    g.connections[0].goAway();
    await goaway;
    held.respond(HEADERS);
    held.send(frame(Buffer.from("last")), OK);
    expect((await ended)["grpc-status"]).toBe("0");
    await new Promise((resolve) => g.connections[0].socket.once("close", resolve));
    session.destroy();
    await g.close();
  } finally {
    await s.close();
  }
});
