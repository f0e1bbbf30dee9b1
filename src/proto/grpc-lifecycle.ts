// Binding and stopping a grpc-js server: the KEDA scaler's (the scheduler serves on its own, server/grpc-server.ts).
import * as grpc from "@grpc/grpc-js";

/** Binds plaintext HTTP/2 on host:port (0 picks a free port); resolves with the bound port. */
export function bindInsecure(server: grpc.Server, host: string, port: number): Promise<number> {
  return bindWith(server, host, port, grpc.ServerCredentials.createInsecure());
}

/** Binds host:port with the given credentials (TLS or plaintext); resolves with the bound port. */
export function bindWith(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
}

/** Lets calls in progress finish for up to graceMs, then cancels whatever is left (open streams never end by themselves). */
export function shutdownGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
