// Starts and stops the gRPC server that fronts a Scheduler.
import * as grpc from "@grpc/grpc-js";
import { Scheduler, SchedulerOptions } from "../scheduler/scheduler";
import { openStore, StoreKind } from "../store";
import { backendDefinition, backendHandlers } from "./backend-service";
import { bindInsecure, shutdownGrpc } from "./grpc-lifecycle";
import { sidecarDefinition, sidecarHandlers } from "./sidecar-service";

export interface ServerOptions extends SchedulerOptions {
  port: number;
  host?: string;
  store: StoreKind;
  dataDir: string;
  sqliteSync?: "full" | "normal";
}

export interface RunningServer {
  port: number;
  scheduler: Scheduler;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const store = openStore(options.store, options.dataDir, { synchronous: options.sqliteSync, writerThread: true });
  const scheduler = new Scheduler(store, options);
  const server = new grpc.Server({
    // Large enough that oversize payloads reach our own check and get a message naming the limit.
    "grpc.max_receive_message_length": Math.max(64 * 1024 * 1024, scheduler.options.maxPayloadBytes * 4),
    "grpc.max_send_message_length": -1,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 5000,
    // Nothing serves channelz; its per-call bookkeeping is pure overhead on every unary call.
    "grpc.enable_channelz": 0,
  });
  const sidecar = sidecarHandlers(scheduler);
  server.addService(sidecarDefinition, sidecar);
  server.addService(backendDefinition, backendHandlers(scheduler, sidecar));
  const host = options.host ?? "0.0.0.0";
  const port = await bindInsecure(server, host, options.port);
  let closed = false;
  return {
    port,
    scheduler,
    close: async () => {
      if (closed) return;
      closed = true;
      // Worker streams never end by themselves: cancel every call at once; the store is flushed next.
      await shutdownGrpc(server, 0);
      await scheduler.close();
    },
  };
}
