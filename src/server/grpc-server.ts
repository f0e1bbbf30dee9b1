// The scheduler's gRPC server on Node's own HTTP/2: the same wire protocol and handler shapes as a
// grpc-js Server, at about 30% less CPU per call (`npm run bench:grpc`). It serves plaintext or
// TLS from watched PEM files, on every address the host name resolves to, pings each connection to
// find dead peers, and on close cancels every call at once. grpc-js stays the client everywhere and
// the server of the KEDA scaler.
import { promises as dns } from "dns";
import * as http2 from "http2";
import { Duplex } from "stream";
import * as grpc from "@grpc/grpc-js";
import { TlsFiles, watchedTlsOptions } from "../proto/tls-files";
import { Method, serveCall, trailersOnly } from "./grpc-calls";

export interface GrpcServerOptions {
  /** Requests above this many bytes (a message, or one decompressed) are refused with RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** Each connection is pinged this often; one that does not answer within the timeout is closed, cancelling its calls. */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
}

type Listener = http2.Http2Server | http2.Http2SecureServer;

const SETTINGS: http2.ServerOptions = {
  // grpc-js's defaults: no cap on a header block or on the memory a busy session may buffer.
  maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
  maxSessionMemory: Number.MAX_SAFE_INTEGER,
};

export class GrpcServer {
  private readonly methods = new Map<string, Method>();
  private readonly listeners: Listener[] = [];
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Every connection, also those that never become a session (a TLS handshake not finished, a silent client). */
  private readonly sockets = new Set<Duplex>();
  private stopTls?: () => void;

  constructor(private readonly options: GrpcServerOptions) {}

  /** Registers a service's methods, as grpc.Server.addService; a method without a handler answers UNIMPLEMENTED. */
  addService(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void {
    for (const [name, attrs] of Object.entries(definition)) {
      if (this.methods.has(attrs.path)) throw new Error(`Method handler for ${attrs.path} already provided.`);
      const given = handlers[name] as ((...args: unknown[]) => void) | undefined;
      this.methods.set(attrs.path, {
        path: attrs.path,
        requestStream: attrs.requestStream,
        responseStream: attrs.responseStream,
        serialize: attrs.responseSerialize as Method["serialize"],
        deserialize: attrs.requestDeserialize as Method["deserialize"],
        func: given ?? unimplemented(attrs.path, attrs.responseStream),
      });
    }
  }

  /** Listens on every address `host` resolves to (the first fixes the port when it is 0); resolves with the port. */
  async listen(host: string, port: number, tls?: TlsFiles): Promise<number> {
    const addresses = await dns.lookup(host, { all: true, verbatim: true });
    let secure: { initial: object } | undefined;
    if (tls) {
      const watched = watchedTlsOptions(tls, (renewed) => {
        for (const l of this.listeners) (l as http2.Http2SecureServer).setSecureContext(renewed);
      });
      this.stopTls = watched.close;
      // With a client CA, a client without a certificate it signed does not get past the handshake.
      secure = { initial: { ...watched.initial, requestCert: !!tls.clientCa, rejectUnauthorized: !!tls.clientCa } };
    }
    const failures: string[] = [];
    let bound = port;
    for (const { address } of addresses) {
      const listener = secure ? http2.createSecureServer({ ...SETTINGS, ...secure.initial, ALPNProtocols: ["h2"] }) : http2.createServer(SETTINGS);
      this.serve(listener);
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

  /** Open connections, sessions or not yet (for diagnostics and tests). */
  get connections(): number {
    return this.sockets.size;
  }

  /** Stops listening and cancels every call in progress (worker streams never end by themselves). */
  async close(): Promise<void> {
    this.stopTls?.();
    const closed = this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
    for (const s of this.sessions) s.destroy(undefined, http2.constants.NGHTTP2_CANCEL);
    this.sessions.clear();
    // Otherwise the listeners would wait for connections that are not sessions to end by themselves.
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await Promise.all(closed);
  }

  private serve(listener: Listener): void {
    listener.setTimeout(0);
    listener.on("connection", (socket: Duplex) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    listener.on("session", (session: http2.ServerHttp2Session) => this.track(session));
    listener.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      // A reset or a failed write ends in 'close', which cancels the call; the error itself says nothing more.
      stream.on("error", () => undefined);
      const contentType = headers["content-type"];
      if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
        if (!stream.destroyed) stream.respond({ ":status": 415 }, { endStream: true });
        return;
      }
      const path = headers[":path"] ?? "";
      const method = this.methods.get(path);
      if (!method) {
        return trailersOnly(stream, { code: grpc.status.UNIMPLEMENTED, details: `The server does not implement the method ${path}` });
      }
      serveCall(stream, headers, method, this.options.maxReceiveMessageBytes);
    });
    if ("setSecureContext" in listener) {
      listener.on("secureConnection", (socket) => socket.on("error", () => undefined));
      listener.on("tlsClientError", () => undefined);
    }
  }

  /** Keeps the session for close(), and pings it after each quiet keepalive period, as grpc-js's server does. */
  private track(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    session.on("error", () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const { keepaliveTimeMs, keepaliveTimeoutMs } = this.options;
    const wait = () => {
      if (session.destroyed || !(keepaliveTimeMs > 0)) return;
      timer = setTimeout(ping, keepaliveTimeMs);
      timer.unref();
    };
    const ping = () => {
      if (session.destroyed) return;
      let sent = false;
      try {
        sent = session.ping((err) => {
          clearTimeout(timer);
          if (err) session.destroy();
          else wait();
        });
      } catch {
        sent = false;
      }
      if (!sent) return session.destroy();
      timer = setTimeout(() => session.destroy(), keepaliveTimeoutMs);
      timer.unref();
    };
    wait();
    session.once("close", () => {
      clearTimeout(timer);
      this.sessions.delete(session);
    });
  }
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
