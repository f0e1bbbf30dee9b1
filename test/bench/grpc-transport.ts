// The transport's own cost on the SDK path, without a scheduler: a grpc-js client (as the official SDK
// worker uses) takes work items from one server stream and answers each with a unary call, whose
// answer the server follows with the next item, as the scheduler does after a commit. Eleven such
// steps are one HelloCities5 (six orchestrator and five activity work items). The same handlers run
// on a grpc-js server, as `dts serve` did before 3d32bb6, and on ours (src/server/grpc-server.ts, on
// node:http2 until 21c2d96, on src/server/h2 since): the difference is what our server saves per call
// (README "Benchmarks", gRPC per call).
// Run: npm run bench:grpc [-- --count 3000 --latency-runs 200 --latency-warmup 1000 --concurrency 200 --servers grpc-js,ours,http2,h2]
import { ChildProcess, fork } from "child_process";
import * as grpc from "@grpc/grpc-js";
import * as http2 from "http2";
import * as net from "net";
import { GrpcServer } from "../../src/server/grpc-server";
import { frame, MessageReader, RESPONSE_HEADERS } from "../../src/server/grpc-wire";
import { H2Connection } from "../../src/server/h2/connection";

const STEPS = 11;
const ITEM_BYTES = 600; // about an orchestrator work item of HelloCities5 midway
const ANSWER_BYTES = 300; // about a completion with one action
const WORK = "/bench.Transport/Work";
const COMPLETE = "/bench.Transport/Complete";
/**
 * grpc-js and ours (grpc-server.ts) serve the handlers below with everything a gRPC server does per
 * call; "http2" and "h2" only route, frame and answer the two methods (no metadata, deadlines,
 * compression or call objects), on Node's http2 module and on src/server/h2: what each HTTP/2 layer
 * itself costs.
 */
type ServerKind = "grpc-js" | "ours" | "http2" | "h2";
const SERVERS: ServerKind[] = ["grpc-js", "ours", "http2", "h2"];

/** A message: chain id (4 bytes), step (4 bytes), then padding to its size. */
function message(chain: number, step: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(chain, 0);
  b.writeUInt32BE(step, 4);
  return b;
}

// ---- the servers: the same behaviour on both -------------------------------------------------------

interface Outlet {
  write(item: Buffer): void;
}

/** A completion arrived for (chain, step): the next item goes out on the work stream after the answer. */
function nextItem(outlet: Outlet | undefined, completion: Buffer): void {
  const chain = completion.readUInt32BE(0);
  const step = completion.readUInt32BE(4);
  if (step < STEPS) outlet?.write(message(chain, step + 1, ITEM_BYTES));
}

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const definition: grpc.ServiceDefinition = {
  Work: { path: WORK, requestStream: false, responseStream: true, ...raw },
  Complete: { path: COMPLETE, requestStream: false, responseStream: false, ...raw },
};

/** The same handlers on either server: the work stream, and completions each followed by the next item. */
function handlers(): grpc.UntypedServiceImplementation {
  let outlet: Outlet | undefined;
  return {
    Work: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      outlet = { write: (b) => call.write(b) };
    },
    Complete: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, message(0, 0, 8));
      nextItem(outlet, call.request);
    },
  };
}

const OK_TRAILERS: [string, string][] = [["grpc-status", "0"]];
const H2_HEADERS: [string, string][] = [[":status", "200"], ["content-type", RESPONSE_HEADERS["content-type"]]];

/** Bare: the two methods on Node's http2 module, no gRPC layer. */
function bareHttp2(): Promise<{ port: number }> {
  let outlet: Outlet | undefined;
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    if (headers[":path"] === WORK) {
      outlet = { write: (b) => stream.write(frame(b)) };
      stream.resume();
      return;
    }
    const reader = new MessageReader(1 << 22);
    const messages: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => messages.push(...reader.push(chunk)));
    stream.on("end", () => {
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": 0 }));
      stream.end(frame(message(0, 0, 8)));
      nextItem(outlet, messages[0].subarray(5));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port })));
}

/** Bare: the two methods on src/server/h2, no gRPC layer. */
function bareH2(): Promise<{ port: number }> {
  let outlet: Outlet | undefined;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    new H2Connection(socket, {
      stream(stream, headers) {
        stream.respond(H2_HEADERS);
        const path = headers.find(([n]) => n === ":path")?.[1];
        if (path === WORK) {
          outlet = { write: (b) => stream.send(frame(b)) };
          return;
        }
        const reader = new MessageReader(1 << 22);
        const messages: Buffer[] = [];
        stream.onData = (chunk) => messages.push(...reader.push(chunk));
        stream.onEnd = () => {
          stream.send(frame(message(0, 0, 8)), OK_TRAILERS);
          nextItem(outlet, messages[0].subarray(5));
        };
      },
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port })));
}

async function serve(kind: ServerKind): Promise<{ port: number }> {
  if (kind === "http2") return bareHttp2();
  if (kind === "h2") return bareH2();
  if (kind === "ours") {
    const server = new GrpcServer({ maxReceiveMessageBytes: 4 * 1024 * 1024, keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 20_000 });
    server.addService(definition, handlers());
    return { port: await server.listen("127.0.0.1", 0) };
  }
  // As `dts serve` ran it before 3d32bb6.
  const server = new grpc.Server({ "grpc.enable_channelz": 0, "grpc.max_send_message_length": -1 });
  server.addService(definition, handlers());
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve({ port })))
  );
}

// ---- the client: a grpc-js channel, one work stream, a unary call per item --------------------------

/**
 * `warmup` chains one at a time first, unmeasured; then `ready()` (the parent marks the server's CPU)
 * and the measured chains, `concurrency` at once.
 */
async function runClient(port: number, count: number, concurrency: number, warmup: number, ready: () => Promise<void>): Promise<{ latencies: number[]; secs: number; cpuUs: number }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const id = (b: Buffer) => b;
  const waiting = new Map<number, () => void>();
  const stream = client.makeServerStreamRequest(WORK, id, id, Buffer.alloc(1));
  stream.on("error", () => undefined);
  const complete = (chain: number, step: number) =>
    new Promise<void>((resolve, reject) => client.makeUnaryRequest(COMPLETE, id, id, message(chain, step, ANSWER_BYTES), (err) => (err ? reject(err) : resolve())));
  stream.on("data", (item: Buffer) => {
    const chain = item.readUInt32BE(0);
    const step = item.readUInt32BE(4);
    complete(chain, step).then(() => {
      if (step === STEPS) waiting.get(chain)?.();
    }, () => undefined);
  });
  // One orchestration: its start call (step 0), then eleven items and their completions.
  let next = 1;
  const one = async (): Promise<number> => {
    const chain = next++;
    const started = performance.now();
    const done = new Promise<void>((resolve) => waiting.set(chain, resolve));
    await complete(chain, 0);
    await done;
    waiting.delete(chain);
    return performance.now() - started;
  };
  await one(); // the stream is open
  for (let i = 0; i < warmup; i++) await one();
  await ready();
  const cpu0 = cpuUs();
  const latencies: number[] = [];
  const t0 = performance.now();
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (started < count) {
        started++;
        latencies.push(await one());
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuUs() - cpu0;
  stream.cancel();
  client.close();
  return { latencies, secs, cpuUs: cpu };
}

// ---- the parent: a server process and a client process per row --------------------------------------

interface Row {
  server: ServerKind;
  mode: string;
  count: number;
  secs: number;
  p50: number;
  p99: number;
  serverCpuUs: number;
  clientCpuUs: number;
}

function child(args: string[]): ChildProcess {
  return fork(__filename, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function reply<T>(p: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    p.once("message", (m) => resolve(m as T));
    p.once("exit", (code) => reject(new Error(`the ${p.spawnargs.slice(2).join(" ")} process exited (${code})`)));
  });
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** A row on fresh processes; `warmup` chains go one at a time before the measured ones. */
async function row(server: ServerKind, mode: "latency" | "throughput", count: number, concurrency: number, warmup: number): Promise<Row> {
  const s = child(["server", server]);
  try {
    const { port } = await reply<{ port: number }>(s);
    const c = child(["client", String(port), String(count), String(concurrency), String(warmup)]);
    await reply(c); // warmed up
    s.send("mark");
    await reply(s);
    const measured = reply<{ latencies: number[]; secs: number; cpuUs: number }>(c);
    c.send("go");
    const result = await measured;
    s.send("cpu");
    const { cpuUs: serverCpu } = await reply<{ cpuUs: number }>(s);
    const sorted = result.latencies.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const steps = count * (STEPS + 1);
    return { server, mode, count, secs: result.secs, p50: at(0.5), p99: at(0.99), serverCpuUs: serverCpu / steps, clientCpuUs: result.cpuUs / steps };
  } finally {
    s.kill();
  }
}

function option(args: string[], name: string, fallback: number, least = 1): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < least) throw new Error(`${name} takes a whole number >= ${least}, not '${args[i + 1] ?? ""}'`);
  return n;
}

async function main(args: string[]): Promise<void> {
  if (args[0] === "server") {
    const { port } = await serve(args[1] as ServerKind);
    let mark = 0;
    process.on("message", (m) => {
      if (m === "mark") mark = cpuUs();
      process.send!(m === "cpu" ? { cpuUs: cpuUs() - mark } : { ok: true });
    });
    process.send!({ port });
    return;
  }
  if (args[0] === "client") {
    const ready = () => new Promise<void>((resolve) => {
      process.once("message", () => resolve());
      process.send!({ warmed: true });
    });
    const result = await runClient(Number(args[1]), Number(args[2]), Number(args[3]), Number(args[4]), ready);
    process.send!(result, () => process.exit(0));
    return;
  }
  const count = option(args, "--count", 3000);
  const runs = option(args, "--latency-runs", 200);
  const concurrency = option(args, "--concurrency", 200);
  // A long-running server and worker have their hot paths compiled; fresh processes' first chains are several times slower.
  const warmup = option(args, "--latency-warmup", 1000, 0);
  const rows: Row[] = [];
  const only = args.indexOf("--servers");
  const servers = only < 0 ? SERVERS : args[only + 1].split(",").map((s) => {
    if (!SERVERS.includes(s as ServerKind)) throw new Error(`--servers takes some of ${SERVERS.join(",")}, not '${s}'`);
    return s as ServerKind;
  });
  for (const server of servers) {
    rows.push(await row(server, "latency", runs, 1, warmup));
    rows.push(await row(server, "throughput", count, concurrency, 0));
  }
  console.log(`Per HelloCities5-shaped chain: a start call, then ${STEPS} work items out on one stream, each answered by a unary call (${ITEM_BYTES} / ${ANSWER_BYTES} bytes); latency after ${warmup} unmeasured chains one at a time.`);
  console.log("server   mode        chains   secs  chains/s  p50 ms  p99 ms  server CPU µs/call  client CPU µs/call");
  for (const r of rows) {
    console.log(
      `${r.server.padEnd(8)} ${r.mode.padEnd(10)} ${String(r.count).padStart(7)} ${r.secs.toFixed(2).padStart(6)} ${(r.count / r.secs).toFixed(0).padStart(9)} ${r.p50.toFixed(2).padStart(7)} ${r.p99.toFixed(2).padStart(7)} ${r.serverCpuUs.toFixed(1).padStart(19)} ${r.clientCpuUs.toFixed(1).padStart(19)}`,
    );
  }
  console.log("calls: the start call and the eleven completions; CPU: user + system of the whole process over the measured phase, divided by the calls.");
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
