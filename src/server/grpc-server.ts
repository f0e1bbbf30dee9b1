// The scheduler's gRPC server on our own HTTP/2 connection (h2/): the same wire protocol and handler
// shapes as a grpc-js Server, at about a third of its CPU per call (`npm run bench:grpc`). It serves
// plaintext or TLS from watched PEM files, on every address the host name resolves to, pings each
// connection to find dead peers, and on close cancels every call at once. grpc-js stays the client
// everywhere and the server of the KEDA scaler.
import { promises as dns } from "dns";
import type * as http2 from "http2";
import * as net from "net";
import { Duplex } from "stream";
import * as tls from "tls";
import * as grpc from "@grpc/grpc-js";
import { errorText, log } from "../log/log";
import { TlsFiles, watchedTlsOptions } from "../proto/tls-files";
import { Method, serveCall, trailersOnly } from "./grpc-calls";
import { H2CallStream } from "./h2/call-stream";
import { H2Connection } from "./h2/connection";
import { HeaderList } from "./h2/hpack";

export interface GrpcServerOptions {
  /** Requests above this many bytes (a message, or one decompressed) are refused with RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** Each connection is pinged this often; one that does not answer within the timeout is closed, cancelling its calls. */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
}

type Listener = net.Server | tls.Server;

export class GrpcServer {
  private readonly methods = new Map<string, Method>();
  private readonly listeners: Listener[] = [];
  /** Every connection, also those that never become a session (a TLS handshake not finished, a silent client). */
  private readonly sockets = new Set<Duplex>();
  private stopTls?: () => void;

  constructor(private readonly options: GrpcServerOptions) {}

  /**
   * Registers a service's methods, as grpc.Server.addService; a method without a handler answers
   * UNIMPLEMENTED. A request with U+0000 in a string is refused before its handler unless its method
   * is one of `judgesOwnStrings` (whose handler decides what such a request means).
   */
  addService(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation, judgesOwnStrings: ReadonlySet<string> = new Set()): void {
    for (const [name, attrs] of Object.entries(definition)) {
      if (this.methods.has(attrs.path)) throw new Error(`Method handler for ${attrs.path} already provided.`);
      const given = handlers[name] as ((...args: unknown[]) => void) | undefined;
      this.methods.set(attrs.path, {
        path: attrs.path,
        requestStream: attrs.requestStream,
        responseStream: attrs.responseStream,
        serialize: attrs.responseSerialize as Method["serialize"],
        deserialize: attrs.requestDeserialize as Method["deserialize"],
        refusesNul: !judgesOwnStrings.has(attrs.path),
        func: given ?? unimplemented(attrs.path, attrs.responseStream),
      });
    }
  }

  /** Listens on every address `host` resolves to (the first fixes the port when it is 0); resolves with the port. */
  async listen(host: string, port: number, files?: TlsFiles): Promise<number> {
    const addresses = await dns.lookup(host, { all: true, verbatim: true });
    let secure: { initial: object } | undefined;
    if (files) {
      const watched = watchedTlsOptions(files, (renewed) => {
        for (const l of this.listeners) (l as tls.Server).setSecureContext(renewed);
      });
      this.stopTls = watched.close;
      // With a client CA, a client without a certificate it signed does not get past the handshake.
      secure = { initial: { ...watched.initial, requestCert: !!files.clientCa, rejectUnauthorized: !!files.clientCa } };
    }
    const failures: string[] = [];
    let bound = port;
    for (const { address } of addresses) {
      const serve = (socket: net.Socket) => this.serve(socket);
      const listener: Listener = secure ? tls.createServer({ ...secure.initial, ALPNProtocols: ["h2"] }, serve) : net.createServer(serve);
      this.track(listener, !!secure);
      try {
        bound = await listenOn(listener, address, bound);
        this.listeners.push(listener);
      } catch (err) {
        failures.push(`${address}:${bound}: ${(err as Error).message}`);
      }
    }
    if (this.listeners.length === 0) {
      this.stopTls?.();
      throw new Error(`cannot listen on ${host}:${port} (${failures.join("; ") || "the name resolves to no address"})`);
    }
    return bound;
  }

  /** Open connections, HTTP/2 or not yet (a TLS handshake, a silent client), for diagnostics and tests. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Stops listening and cancels every call in progress (worker streams never end by themselves). */
  async close(): Promise<void> {
    this.stopTls?.();
    const closed = this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
    // Every call is cancelled: the connections go at once (a listener's close would wait for them).
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await Promise.all(closed);
  }

  /** Every raw connection is kept for close(), from before its TLS handshake. */
  private track(listener: Listener, secure: boolean): void {
    listener.on("connection", (socket: Duplex) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
    });
    if (secure) listener.on("tlsClientError", () => undefined);
  }

  /** An HTTP/2 connection on the socket, its streams served as calls, pinged after each quiet keepalive period (as grpc-js's server). */
  private serve(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on("error", () => undefined);
    const connection = new H2Connection(socket, {
      stream: (h2, fields) => this.call(new H2CallStream(h2, socket), headerRecord(fields)),
      failed: (err) => log.error(`dts: unexpected error serving a call (its stream was reset): ${errorText(err)}`),
    });
    const { keepaliveTimeMs, keepaliveTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const wait = () => {
      if (socket.destroyed || !(keepaliveTimeMs > 0)) return;
      timer = setTimeout(ping, keepaliveTimeMs);
      timer.unref();
    };
    const ping = () => {
      if (socket.destroyed) return;
      let answered = false;
      void connection.ping().then(() => {
        answered = true;
        clearTimeout(timer);
        wait();
      });
      timer = setTimeout(() => {
        if (!answered) socket.destroy();
      }, keepaliveTimeoutMs);
      timer.unref();
    };
    wait();
    connection.onClose = () => clearTimeout(timer);
  }

  private call(stream: H2CallStream, headers: http2.IncomingHttpHeaders): void {
    const contentType = headers["content-type"];
    if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      stream.respond({ ":status": 415 }, { endStream: true });
      return;
    }
    const path = headers[":path"] ?? "";
    const method = this.methods.get(path);
    if (!method) {
      return trailersOnly(stream, { code: grpc.status.UNIMPLEMENTED, details: `The server does not implement the method ${path}` });
    }
    serveCall(stream, headers, method, this.options.maxReceiveMessageBytes);
  }
}

/** Header fields as Node's http2 gives them: repeated names as arrays (cookies joined). */
function headerRecord(fields: HeaderList): http2.IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of fields) {
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (name === "cookie") out[name] = `${prev as string}; ${value}`;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out as http2.IncomingHttpHeaders;
}

function listenOn(listener: Listener, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    listener.once("error", failed);
    listener.listen(port, address, () => {
      listener.off("error", failed);
      resolve((listener.address() as { port: number }).port);
    });
  });
}

/** The handler of a method the service does not implement, as grpc-js answers it. */
function unimplemented(path: string, responseStream: boolean): (...args: unknown[]) => void {
  const status = { code: grpc.status.UNIMPLEMENTED, details: `The server does not implement the method ${path}` };
  if (responseStream) return (call) => (call as NodeJS.EventEmitter).emit("error", Object.assign(new Error(status.details), status));
  return (_call, callback) => (callback as grpc.sendUnaryData<unknown>)(status, null);
}
