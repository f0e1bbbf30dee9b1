// Starts and stops the gRPC server that fronts a Scheduler.
import * as os from "os";
import * as grpc from "@grpc/grpc-js";
import { Scheduler, SchedulerOptions } from "../scheduler/scheduler";
import { EngineStore, openPostgresStore, openStore, PostgresStore, StoreFatalError, StoreKind } from "../store";
import { log } from "../log/log";
import { backendDefinition, completionStreamDefinition, sidecarDefinition, workResultMethods } from "../proto/services";
import { backendHandlers } from "./backend-service";
import { completionStreamHandlers } from "./completion-stream";
import { TlsFiles } from "../proto/tls-files";
import { GrpcServer } from "./grpc-server";
import { sidecarHandlers } from "./sidecar-service";
import { AccessControl, OPEN_ACCESS } from "../auth/access";
import { guardService } from "./access-guard";
import { CallListener, countCalls } from "./call-metrics";
import { ClusterRoutes } from "./cluster-routes";
import { ClusterView } from "./cluster-view";
import { clusterNode, ClusterNodeSettings } from "./cluster-join";
import { fanOutService } from "./cluster-fanout";
import { PeerCalls } from "./peer-calls";
import { mirrorWorkItems } from "./work-mirrors";

export interface ServerOptions extends SchedulerOptions {
  port: number;
  host?: string;
  store: StoreKind;
  dataDir: string;
  /** postgres://… for --store postgres (libpq's options, such as sslmode, in its query string). */
  postgresUrl?: string;
  sqliteSync?: "full" | "normal";
  /** How long a commit waits for a database lock another process holds before it fails (ms). */
  storeBusyTimeoutMs?: number;
  /** HTTP/2 keepalive: the server pings each client connection this often and closes one that does not answer within the timeout. */
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** A store opened by the caller (fault tests); `store`, `dataDir` and the SQLite options are then unused. */
  storeInstance?: EngineStore;
  /** Who may call what (default: everyone, everything). */
  access?: AccessControl;
  /** Serve TLS from these PEM files (watched; renewed certificates apply to new connections). */
  tls?: TlsFiles;
  /** Told every gRPC call's outcome (the /metrics call counter). */
  onCall?: CallListener;
  /** The cluster this node is part of: calls and work of partitions other nodes own go to them. */
  cluster?: ClusterView;
  /** On PostgreSQL: this node's name, address and lease time among the nodes sharing the database. */
  node?: ClusterNodeSettings;
}

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

export interface RunningServer {
  port: number;
  scheduler: Scheduler;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  let store: EngineStore;
  try {
    store = options.storeInstance ?? (options.store === "postgres" ? await openPostgresStore(options.postgresUrl) : openStore(options.store, options.dataDir, {
      synchronous: options.sqliteSync, writerThread: true, busyTimeoutMs: options.storeBusyTimeoutMs,
    }));
  } catch (err) {
    if ((err as { code?: string }).code === "DTS_DATA_DIR_IN_USE") throw err; // already names the directory and its holder
    const e = new StoreFatalError(options.store === "postgres" ? (err as Error).message : `cannot open the ${options.store} store at ${options.dataDir}: ${(err as Error).message}`);
    throw Object.assign(e, { code: (err as { code?: string }).code });
  }
  // On PostgreSQL the server is a cluster node (of one until others join): partitions come with their leases.
  const leased = options.node && !options.storeInstance && store instanceof PostgresStore ? store : undefined;
  let scheduler: Scheduler;
  try {
    // Serve nothing until the store can write: a writer that cannot open the database stops start-up here.
    if ("ready" in store) await store.ready?.();
    scheduler = await Scheduler.open(store, { ...options, leased: !!leased });
  } catch (err) {
    await Promise.resolve(store.close()).catch(() => undefined);
    throw err;
  }
  const server = new GrpcServer({
    // Large enough that oversize payloads reach our own check and get a message naming the limit.
    maxReceiveMessageBytes: Math.max(64 * 1024 * 1024, scheduler.options.maxPayloadBytes * 4),
    // Dead or frozen peers are found by pings, so their work items are released instead of waiting on a lock timeout.
    keepaliveTimeMs: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
    keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
  });
  const sidecar = sidecarHandlers(scheduler);
  const access = options.access ?? OPEN_ACCESS;
  const node = leased && clusterNode(scheduler, leased, options.postgresUrl!, options.node!);
  const view = options.cluster ?? node?.view;
  const routes = view && new ClusterRoutes(view, new PeerCalls(view.nodeId, !!options.tls));
  // In a cluster, calls for partitions other nodes own are passed on, and each worker gets every node's work.
  const clustered = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation) =>
    routes ? mirrorWorkItems(definition, fanOutService(definition, routes.wrap(definition, handlers), routes, scheduler), routes) : handlers;
  const serve = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation) =>
    server.addService(definition, countCalls(definition, guardService(definition, clustered(definition, handlers), access), options.onCall), workResultMethods);
  try {
    serve(sidecarDefinition, sidecar);
    serve(backendDefinition, backendHandlers(scheduler, sidecar));
    serve(completionStreamDefinition, completionStreamHandlers(scheduler, routes));
  } catch (err) {
    await scheduler.close().catch(() => undefined);
    throw err;
  }
  const host = options.host ?? "localhost";
  let port: number;
  try {
    port = await server.listen(host, options.port, options.tls);
    await node?.join(port, os.hostname());
  } catch (err) {
    await server.close();
    await node?.leave().catch(() => undefined);
    await scheduler.close().catch(() => undefined);
    throw err;
  }
  let closed = false;
  return {
    port,
    scheduler,
    close: async () => {
      if (closed) return;
      closed = true;
      // Worker streams never end by themselves: cancel every call at once; the store is flushed next.
      await server.close();
      routes?.peers.close();
      // SIGTERM: the partitions go to the other nodes at once (after the writes in flight), not when the leases lapse.
      await node?.leave().catch((err) => log.warning(`dts: leaving the cluster failed (${(err as Error).message}); this node's partitions move when their leases lapse`));
      await scheduler.close();
    },
  };
}
