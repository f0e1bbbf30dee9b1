// The gRPC wire pieces: messages cut out of DATA chunks however they split, the size limit, compressed
// requests, the grpc-timeout header, and errors read as grpc-js reads them.
import * as zlib from "zlib";
import * as grpc from "@grpc/grpc-js";
import { frame, frames, MessageReader, payloadOf, statusOf, statusTrailers, timeoutMs, WireError } from "../../src/server/grpc-wire";

test("messages come out whole however the chunks cut them, and a partial one waits", () => {
  const a = frame(Buffer.from("hello"));
  const b = frame(Buffer.alloc(0));
  const c = frame(Buffer.from("world!"));
  const all = Buffer.concat([a, b, c]);
  for (let cut = 0; cut <= all.length; cut++) {
    const reader = new MessageReader(100);
    const got = [...reader.push(all.subarray(0, cut)), ...reader.push(all.subarray(cut))];
    expect(got.map((m) => m.subarray(5).toString())).toEqual(["hello", "", "world!"]);
    expect(reader.partial).toBe(0);
  }
  expect(frames([Buffer.from("hello"), Buffer.alloc(0), Buffer.from("world!")]).equals(all)).toBe(true);
  const reader = new MessageReader(100);
  expect(reader.push(c.subarray(0, 7))).toEqual([]);
  expect(reader.partial).toBe(7);
});

test("a message above the limit is refused with RESOURCE_EXHAUSTED from its prefix alone", () => {
  const reader = new MessageReader(10);
  const big = frame(Buffer.alloc(11));
  let err: unknown;
  try {
    reader.push(big.subarray(0, 5));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WireError);
  expect((err as WireError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect((err as WireError).message).toBe("Received message larger than max (11 vs 10)");
});

test("a compressed message is inflated by the request's encoding, within the limit", () => {
  const text = "x".repeat(1000);
  const compressed = (bytes: Buffer) => Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), bytes]);
  expect(payloadOf(compressed(zlib.gzipSync(text)), "gzip", 2000).toString()).toBe(text);
  expect(payloadOf(compressed(zlib.deflateSync(text)), "deflate", 2000).toString()).toBe(text);
  expect(payloadOf(frame(Buffer.from(text)), "gzip", 2000).toString()).toBe(text); // flag 0: as is
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return [(e as WireError).code, (e as WireError).message];
    }
    return undefined;
  };
  expect(code(() => payloadOf(compressed(zlib.gzipSync(text)), "gzip", 999))).toEqual([grpc.status.RESOURCE_EXHAUSTED, "Received message that decompresses to a size larger than 999"]);
  expect(code(() => payloadOf(compressed(Buffer.from("not gzip")), "gzip", 2000))).toEqual([grpc.status.INTERNAL, "Failed to decompress message"]);
  expect(code(() => payloadOf(compressed(zlib.gzipSync(text)), "snappy", 2000))).toEqual([grpc.status.UNIMPLEMENTED, 'Received message compressed with unsupported encoding "snappy"']);
});

test("grpc-timeout reads in every unit; anything else does not parse", () => {
  expect(timeoutMs("1H")).toBe(3_600_000);
  expect(timeoutMs("2M")).toBe(120_000);
  expect(timeoutMs("3S")).toBe(3000);
  expect(timeoutMs("250m")).toBe(250);
  expect(timeoutMs("2500u")).toBe(2);
  expect(timeoutMs("99999999n")).toBe(99);
  expect(timeoutMs("123456789S")).toBeUndefined(); // nine digits
  expect(timeoutMs("5s")).toBeUndefined();
  expect(timeoutMs("")).toBeUndefined();
});

test("errors become statuses as grpc-js reads them, and the details travel percent-encoded", () => {
  expect(statusOf({ code: grpc.status.NOT_FOUND, details: "gone" })).toMatchObject({ code: grpc.status.NOT_FOUND, details: "gone" });
  expect(statusOf(new Error("boom"))).toMatchObject({ code: grpc.status.UNKNOWN, details: "boom" });
  expect(statusOf(Object.assign(new Error("message"), { code: "ENOENT" }))).toMatchObject({ code: grpc.status.UNKNOWN, details: "message" });
  const trailer = new grpc.Metadata();
  trailer.set("why", "because");
  const s = statusOf({ code: grpc.status.ABORTED, details: "Instance 'ü 100%' busy" }, trailer);
  const t = statusTrailers(s);
  expect(t["grpc-status"]).toBe(grpc.status.ABORTED);
  expect(decodeURIComponent(String(t["grpc-message"]))).toBe("Instance 'ü 100%' busy");
  expect(t.why).toBe("because");
});
