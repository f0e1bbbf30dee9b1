// HPACK and frames against a real HTTP/2 peer: Node's http2 client (nghttp2) encodes request headers
// for our decoder, across many requests on one connection (its dynamic table, evictions, Huffman,
// CONTINUATION), and decodes the response headers our encoder writes.
import * as http2 from "http2";
import * as net from "net";
import { encodeHeaders, HeaderList, HpackDecoder, HpackError, huffmanCodes, huffmanDecode } from "../../../src/server/h2/hpack";
import { FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, Frame, FrameReader, FrameType, frame, headerBlockFragment, PREFACE, settingsFrame } from "../../../src/server/h2/frames";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

test("the Huffman code follows from its lengths: RFC 7541's codes for a few symbols", () => {
  const codes = huffmanCodes();
  expect(codes["a".charCodeAt(0)]).toEqual({ code: 0x3, bits: 5 });
  expect(codes["0".charCodeAt(0)]).toEqual({ code: 0x0, bits: 5 });
  expect(codes[" ".charCodeAt(0)]).toEqual({ code: 0x14, bits: 6 });
  expect(codes[0]).toEqual({ code: 0x1ff8, bits: 13 });
  expect(codes[256]).toEqual({ code: 0x3fffffff, bits: 30 });
  // A prefix code: no two share a (code, length).
  expect(new Set(codes.map((c) => `${c.bits}:${c.code}`)).size).toBe(257);
});

test("RFC 7541 C.4: three requests with Huffman, sharing one dynamic table", () => {
  const d = new HpackDecoder();
  expect(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toEqual([[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]]);
  expect(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], ["cache-control", "no-cache"]]);
  expect(d.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"))).toEqual([
    [":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"],
  ]);
});

test("malformed blocks are errors, not crashes or wrong headers", () => {
  expect(() => new HpackDecoder().decode(hex("80"))).toThrow(HpackError); // index 0
  expect(() => new HpackDecoder().decode(hex("be"))).toThrow(HpackError); // an empty dynamic table
  expect(() => new HpackDecoder().decode(hex("0f"))).toThrow(HpackError); // ends inside an integer
  expect(() => new HpackDecoder().decode(hex("4005 6162"))).toThrow(HpackError); // ends inside a string
  expect(() => new HpackDecoder(4096).decode(hex("3fe21f"))).toThrow(HpackError); // table size 4097 > 4096
  expect(() => new HpackDecoder().decode(hex("82 20"))).toThrow(HpackError); // a size update after a field
  expect(() => huffmanDecode(hex("ff"), 0, 1)).toThrow(HpackError); // 8 bits of padding
  expect(() => huffmanDecode(hex("ffff ffff"), 0, 4)).toThrow(HpackError); // EOS
  expect(() => huffmanDecode(hex("00"), 0, 1)).toThrow(HpackError); // '0' then padding of zeros
  expect(() => new HpackDecoder(4096, 100).decode(encodeHeaders([["x", "y".repeat(100)]]))).toThrow(HpackError); // over the list limit
});

/** `value` Huffman-coded (RFC 7541 5.2), padded with the start of EOS. */
function huffman(value: string): Buffer {
  const codes = huffmanCodes();
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of Buffer.from(value, "latin1")) {
    const { code, bits: n } = codes[byte];
    for (let i = n - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >>> i) & 1);
      if (++bits === 8) {
        out.push(acc);
        acc = bits = 0;
      }
    }
  }
  if (bits > 0) out.push((acc << (8 - bits)) | ((1 << (8 - bits)) - 1));
  return Buffer.from(out);
}

/** A header block of one field, literal without indexing, its name ":path" (static index 4) and its value Huffman-coded. */
function pathLiteral(coded: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x04, 0x80 | coded.length]), coded]);
}

test("Huffman-coded values a client repeats decode the same every time, and a bad one is an error however often it comes", () => {
  const d = new HpackDecoder();
  const path = "/TaskHubSidecarService/CompleteOrchestratorTask";
  for (let i = 0; i < 3; i++) expect(d.decode(pathLiteral(huffman(path)))).toEqual([[":path", path]]);
  // More distinct values than are remembered: each still decodes to itself, before and after.
  const many = Array.from({ length: 200 }, (_, i) => `/Service/Method${i}`);
  for (let r = 0; r < 2; r++) for (const p of many) expect(d.decode(pathLiteral(huffman(p)))).toEqual([[":path", p]]);
  expect(d.decode(pathLiteral(huffman(path)))).toEqual([[":path", path]]);
  for (let i = 0; i < 2; i++) expect(() => d.decode(pathLiteral(hex("ffff ffff")))).toThrow(HpackError); // EOS
});

/** A raw TCP server speaking just enough HTTP/2 to decode each request's headers and answer with ours. */
function rawServer(respond: (headers: HeaderList) => [string, string][]) {
  const requests: HeaderList[] = [];
  const server = net.createServer((socket) => {
    const decoder = new HpackDecoder();
    const reader = new FrameReader();
    let preface = Buffer.alloc(0);
    let block: Buffer[] = [];
    socket.write(settingsFrame([]));
    const onFrame = (f: Frame) => {
      if (f.type === FrameType.SETTINGS && !(f.flags & FLAG_ACK)) socket.write(frame(FrameType.SETTINGS, FLAG_ACK, 0));
      if (f.type !== FrameType.HEADERS && f.type !== FrameType.CONTINUATION) return;
      block.push(headerBlockFragment(f));
      if (!(f.flags & FLAG_END_HEADERS)) return;
      const headers = decoder.decode(Buffer.concat(block));
      block = [];
      requests.push(headers);
      socket.write(frame(FrameType.HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, f.streamId, encodeHeaders(respond(headers))));
    };
    socket.on("data", (chunk: Buffer) => {
      if (preface.length < PREFACE.length) {
        preface = Buffer.concat([preface, chunk]);
        if (preface.length < PREFACE.length) return;
        expect(preface.subarray(0, PREFACE.length)).toEqual(PREFACE);
        chunk = preface.subarray(PREFACE.length);
      }
      for (const f of reader.push(chunk)) onFrame(f);
    });
    socket.on("error", () => undefined);
  });
  return { server, requests };
}

test("a real client's header blocks decode to what it sent, over many requests on one connection", async () => {
  const { server, requests } = rawServer((h) => [[":status", "200"], ["content-type", "application/grpc+proto"], ["x-echo", h.find(([n]) => n === "x-n")?.[1] ?? ""]]);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  try {
    const sent: Record<string, string>[] = [];
    const answers: http2.IncomingHttpHeaders[] = [];
    for (let n = 0; n < 300; n++) {
      const headers: Record<string, string> = {
        ":method": "POST", ":path": `/TaskHubSidecarService/${n % 2 ? "CompleteActivityTask" : "CompleteOrchestratorTask"}`,
        "content-type": "application/grpc", te: "trailers", "x-n": String(n),
        // Values that change (Huffman, new table entries), that repeat (indexed), and large ones that evict.
        "grpc-timeout": `${1000 + n}m`, taskhub: "default", "x-big": n % 50 === 0 ? "v".repeat(3000 + n) : "small",
        "x-bytes": Buffer.from([0x80 | (n & 0x7f), 0x7e, 0x20, 0x41]).toString("latin1"),
      };
      if (n === 7) headers["x-huge"] = "h".repeat(20_000); // more than a frame: HEADERS + CONTINUATION
      sent.push(headers);
      answers.push(await new Promise((resolve, reject) => {
        const req = client.request(headers, { endStream: true });
        req.on("response", resolve);
        req.on("error", reject);
        req.resume();
      }));
    }
    expect(requests).toHaveLength(300);
    requests.forEach((got, n) => {
      const map = Object.fromEntries(got);
      for (const [name, value] of Object.entries(sent[n])) expect([name, map[name]]).toEqual([name, value]);
    });
    answers.forEach((a, n) => {
      expect(a[":status"]).toBe(200);
      expect(a["content-type"]).toBe("application/grpc+proto");
      expect(a["x-echo"]).toBe(String(n));
    });
  } finally {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("the encoder's integers and literals past their prefixes are read back by a real client", async () => {
  const long = "k".repeat(200);
  const { server } = rawServer(() => [[":status", "204"], ["grpc-status", "0"], ["grpc-message", "m".repeat(130)], [long, "v".repeat(15_000)]]);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { maxHeaderListPairs: 100, maxSessionMemory: 100 });
  try {
    const answer = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const req = client.request({ ":path": "/" }, { endStream: true });
      req.on("response", resolve);
      req.on("error", reject);
      req.resume();
    });
    expect(answer[":status"]).toBe(204);
    expect(answer["grpc-message"]).toBe("m".repeat(130));
    expect(answer[long]).toBe("v".repeat(15_000));
  } finally {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
