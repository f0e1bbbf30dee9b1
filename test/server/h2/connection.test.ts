// The HTTP/2 server connection against real clients: grpc-js (as the SDK workers use it) and Node's
// http2 client with small windows, resets, pings, a refused stream and a broken preface; and against
// a raw peer that breaks the limits (header block floods, DATA beyond a window, answers left unread).
import * as http2 from "http2";
import * as net from "net";
import * as grpc from "@grpc/grpc-js";
import { frame, MessageReader } from "../../../src/server/grpc-wire";
import { DEFAULT_H2_OPTIONS, H2Connection, H2Handler, H2Options } from "../../../src/server/h2/connection";
import { Frame, frame as h2Frame, FrameReader, FrameType, FLAG_END_HEADERS, H2Error, pingFrame, PREFACE, settingsFrame } from "../../../src/server/h2/frames";
import { MAX_CONTINUATIONS } from "../../../src/server/h2/header-block";
import { encodeHeaders } from "../../../src/server/h2/hpack";
import { MAX_UNREAD_ANSWERS, RESET_BURST } from "../../../src/server/h2/peer-limits";

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

const REQUEST: [string, string][] = [[":method", "POST"], [":scheme", "http"], [":authority", "x"], [":path", "/t.T/Echo"], ["content-type", "application/grpc"]];

/** A client writing frames by hand: the preface and its SETTINGS sent, every frame of the server's collected. */
async function rawPeer(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined); // writes after the server cut it off
  await new Promise((resolve) => socket.once("connect", resolve));
  const reader = new FrameReader(1 << 24);
  const frames: Frame[] = [];
  let arrived = () => {};
  socket.on("data", (chunk: Buffer) => (frames.push(...reader.push(chunk)), arrived()));
  const closed = new Promise<void>((resolve) => socket.on("close", () => (resolve(), arrived())));
  socket.write(Buffer.concat([PREFACE, settingsFrame([])]));
  /** The first frame of the server's that `match`es, once it has come. */
  const until = async (match: (f: Frame) => boolean): Promise<Frame> => {
    for (;;) {
      const found = frames.find(match);
      if (found) return found;
      if (socket.destroyed) throw new Error("the connection closed first");
      await new Promise<void>((resolve) => (arrived = resolve));
    }
  };
  return { socket, until, closed };
}

const goawayOf = (f: Frame) => ({ code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString() });

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

test("a header block over the size limit or in too many CONTINUATIONs ends the connection before any handler sees it", async () => {
  let streams = 0;
  const s = await serve({ stream: () => void streams++ });
  try {
    const floods: [size: number, frames: number, said: string][] = [
      [16_384, 10, `a header block of more than ${DEFAULT_H2_OPTIONS.maxHeaderListBytes} bytes`],
      [0, MAX_CONTINUATIONS + 10, `a header block in more than ${MAX_CONTINUATIONS} CONTINUATION frames`],
    ];
    for (const [size, count, said] of floods) {
      const peer = await rawPeer(s.port);
      peer.socket.write(h2Frame(FrameType.HEADERS, 0, 1, encodeHeaders(REQUEST))); // no END_HEADERS: CONTINUATIONs follow
      for (let i = 0; i < count; i++) peer.socket.write(h2Frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(size, 0x40)));
      expect(goawayOf(await peer.until((f) => f.type === FrameType.GOAWAY))).toEqual({ code: H2Error.ENHANCE_YOUR_CALM, debug: said });
      await peer.closed;
    }
    expect(streams).toBe(0);

    // A large header within the limit still arrives whole, over CONTINUATIONs.
    const big = Buffer.alloc(40_000, "x").toString("latin1").replace(/x/g, (_, i: number) => "abcdefghij"[i % 10]);
    let seen: string | undefined;
    const t = await serve({ stream: (stream, headers) => ((seen = headers.find(([n]) => n === "x-big")?.[1]), stream.respond(HEADERS, true)) });
    const session = http2.connect(`http://127.0.0.1:${t.port}`);
    const req = session.request({ ":method": "POST", ":path": "/a", "x-big": big }, { endStream: true });
    await new Promise((resolve) => req.on("response", resolve));
    expect(seen).toBe(big);
    session.close();
    await t.close();
  } finally {
    await s.close();
  }
});

test("DATA beyond a paused stream's window resets that stream only; its reader took no more than the window", async () => {
  let taken = 0;
  const aborted: string[] = [];
  const s = await serve({
    stream(stream) {
      stream.onData = (chunk) => ((taken += chunk.length), stream.pause());
      stream.onAbort = (reason) => aborted.push(reason);
    },
  });
  try {
    const peer = await rawPeer(s.port);
    peer.socket.write(h2Frame(FrameType.HEADERS, FLAG_END_HEADERS, 1, encodeHeaders(REQUEST)));
    const chunk = Buffer.alloc(16_384, 1);
    for (let sent = 0; sent <= DEFAULT_H2_OPTIONS.initialWindow; sent += chunk.length) peer.socket.write(h2Frame(FrameType.DATA, 0, 1, chunk));
    const reset = await peer.until((f) => f.type === FrameType.RST_STREAM && f.streamId === 1);
    expect(reset.payload.readUInt32BE(0)).toBe(H2Error.FLOW_CONTROL_ERROR);
    expect(aborted).toEqual(["the client sent beyond the stream's window"]);
    expect(taken).toBeLessThanOrEqual(DEFAULT_H2_OPTIONS.initialWindow);
    // The connection goes on.
    peer.socket.write(pingFrame(0, Buffer.from("stillok!")));
    await peer.until((f) => f.type === FrameType.PING && f.payload.toString() === "stillok!");
    peer.socket.destroy();
  } finally {
    await s.close();
  }
});

test("a client that sends PINGs without reading the answers is cut off once its socket is backed up", async () => {
  const s = await serve(echo);
  try {
    const peer = await rawPeer(s.port);
    peer.socket.pause(); // reads nothing: the kernel's buffers fill, then the server's
    const pings = Buffer.concat(Array.from({ length: 4096 }, () => pingFrame(0, Buffer.alloc(8))));
    let sent = 0;
    while (!peer.socket.destroyed && !s.connections[0].socket.destroyed) {
      sent += 4096;
      if (!peer.socket.write(pings)) await Promise.race([new Promise((resolve) => peer.socket.once("drain", resolve)), peer.closed]);
    }
    await new Promise((resolve) => (s.connections[0].socket.destroyed ? resolve(undefined) : s.connections[0].socket.once("close", resolve)));
    expect(sent).toBeGreaterThan(MAX_UNREAD_ANSWERS);
    peer.socket.destroy();
  } finally {
    await s.close();
  }
});

test("a handler that throws resets its own stream; the connection's other calls go on", async () => {
  const failures: unknown[] = [];
  const s = await serve({
    stream(stream, headers, ended) {
      if (headers.some(([n, v]) => n === ":path" && v === "/t.T/Boom")) throw new Error("a bug in the handler");
      echo.stream(stream, headers, ended);
    },
    failed: (err) => failures.push(err),
  });
  const client = new grpc.Client(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure());
  try {
    const id = (b: Buffer) => b;
    const call = (path: string) => new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest(path, id, id, Buffer.from("abc"), (e, r) => (e ? reject(e) : resolve(r!))));
    await expect(call("/t.T/Boom")).rejects.toMatchObject({ code: grpc.status.INTERNAL });
    expect((await call("/t.T/Echo")).toString()).toBe("cba");
    expect(failures.map((e) => (e as Error).message)).toEqual(["a bug in the handler"]);
    expect(s.connections).toHaveLength(1);
  } finally {
    client.close();
    await s.close();
  }
});

test("a client that opens streams and resets them at once is cut off after a burst; the handler saw each until then", async () => {
  let opened = 0;
  let aborted = 0;
  const s = await serve({ stream: (stream) => void (opened++, (stream.onAbort = () => void aborted++)) });
  try {
    const peer = await rawPeer(s.port);
    const block = encodeHeaders(REQUEST); // no dynamic table entries: the same bytes open every stream
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(H2Error.CANCEL);
    const pairs: Buffer[] = [];
    for (let id = 1; id < 2 * (RESET_BURST + 500); id += 2) pairs.push(h2Frame(FrameType.HEADERS, FLAG_END_HEADERS, id, block), h2Frame(FrameType.RST_STREAM, 0, id, cancel));
    peer.socket.write(Buffer.concat(pairs));
    const goaway = goawayOf(await peer.until((f) => f.type === FrameType.GOAWAY));
    expect(goaway.code).toBe(H2Error.ENHANCE_YOUR_CALM);
    expect(goaway.debug).toMatch(/^streams reset faster than/);
    await peer.closed;
    expect(aborted).toBeGreaterThan(RESET_BURST - 1);
    expect(opened).toBeLessThan(RESET_BURST + 500);
  } finally {
    await s.close();
  }
});
