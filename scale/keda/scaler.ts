// `dts scale keda`: KEDA's external scaler gRPC service, answered from the same scale monitor as the
// HTTP endpoint and `dts scale status`, so a Kubernetes deployment scales on the same numbers.
//
// Mapping: GetMetricSpec asks for a target of 1 per replica and GetMetrics reports the target worker
// count; KEDA gives the HPA an AverageValue target, so desiredReplicas = ceil(targetWorkers / 1) =
// targetWorkers. IsActive is targetWorkers > 0 (KEDA scales from and to zero on it). When the
// scheduler cannot be read every call fails with UNAVAILABLE and the reason, so KEDA keeps the current
// scale (or its fallback) instead of scaling to zero on a fake 0.
import * as grpc from "@grpc/grpc-js";
import { ScaleMonitor } from "../monitor";
import { MonitorRegistry, MonitorRegistryOptions } from "../registry";
import { metricNameFor, MetadataError, resolveTrigger, ScalerDefaults } from "./metadata";
import { es, externalScalerDefinition } from "./proto";
import { bindInsecure, shutdownGrpc } from "../../src/proto/grpc-lifecycle";

export const DEFAULT_POLL_MS = 1000;

export interface KedaScalerOptions extends MonitorRegistryOptions {
  port: number;
  /** Listen address; all interfaces by default. */
  host?: string;
  defaults: ScalerDefaults;
  /** Where connectionStringName metadata is looked up. */
  env?: NodeJS.ProcessEnv;
  /** How often StreamIsActive re-checks the monitor (which reads the scheduler at most every cacheMs). */
  pollMs?: number;
}

export interface RunningKedaScaler {
  port: number;
  close(): Promise<void>;
}

type Status = { code: grpc.status; details: string };

export async function startKedaScaler(options: KedaScalerOptions): Promise<RunningKedaScaler> {
  const registry = new MonitorRegistry(options);
  const env = options.env ?? process.env;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const streams = new Set<() => void>();

  /** The trigger's monitor and metric name, or a gRPC error for bad metadata. */
  const resolve = (ref: es.IScaledObjectRef | null | undefined): { monitor: ScaleMonitor; metricName: string } => {
    try {
      const t = resolveTrigger(ref?.scalerMetadata, options.defaults, env);
      return { monitor: registry.monitor(t.connection, t.taskHub, t.limits), metricName: metricNameFor(t.taskHub) };
    } catch (err) {
      const code = err instanceof MetadataError ? grpc.status.INVALID_ARGUMENT : grpc.status.FAILED_PRECONDITION;
      throw { code, details: (err as Error).message } satisfies Status;
    }
  };

  /** The target worker count, or UNAVAILABLE with the reason the scheduler could not be read. */
  const target = async (monitor: ScaleMonitor): Promise<number> => {
    const s = await monitor.status();
    if (s.state !== "ok" || s.targetWorkers === null) throw { code: grpc.status.UNAVAILABLE, details: s.error ?? "no metrics" } satisfies Status;
    return s.targetWorkers;
  };

  const unary = <Req, Res>(fn: (req: Req) => Promise<Res> | Res) => (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    Promise.resolve().then(() => fn(call.request)).then((res) => callback(null, res), (err: Status) => callback(asStatus(err)));
  };

  const handlers: grpc.UntypedServiceImplementation = {
    IsActive: unary(async (ref: es.ScaledObjectRef) => ({ result: (await target(resolve(ref).monitor)) > 0 })),
    GetMetricSpec: unary((ref: es.ScaledObjectRef) => ({
      metricSpecs: [{ metricName: resolve(ref).metricName, targetSize: 1, targetSizeFloat: 1 }],
    })),
    GetMetrics: unary(async (req: es.GetMetricsRequest) => {
      const { monitor, metricName } = resolve(req.scaledObjectRef);
      const n = await target(monitor);
      return { metricValues: [{ metricName: req.metricName || metricName, metricValue: n, metricValueFloat: n }] };
    }),
    // Sends the current activity at once, then again each time it changes.
    StreamIsActive: (call: grpc.ServerWritableStream<es.ScaledObjectRef, es.IIsActiveResponse>) => {
      let timer: NodeJS.Timeout | undefined;
      let last: boolean | undefined;
      let done = false;
      const stop = () => {
        done = true;
        if (timer) clearTimeout(timer);
        streams.delete(end);
      };
      const end = () => {
        stop();
        call.end();
      };
      const fail = (err: unknown) => {
        if (done) return;
        stop();
        call.emit("error", asStatus(err as Status));
      };
      streams.add(end);
      call.on("cancelled", stop);
      call.on("close", stop);
      let monitor: ScaleMonitor;
      try {
        monitor = resolve(call.request).monitor;
      } catch (err) {
        return fail(err);
      }
      const tick = async () => {
        try {
          const active = (await target(monitor)) > 0;
          if (done) return;
          if (active !== last) {
            last = active;
            call.write({ result: active });
          }
          timer = setTimeout(() => void tick(), pollMs);
        } catch (err) {
          fail(err);
        }
      };
      void tick();
    },
  };

  const server = new grpc.Server();
  server.addService(externalScalerDefinition, handlers);
  const port = await bindInsecure(server, options.host ?? "0.0.0.0", options.port);

  return {
    port,
    close: async () => {
      for (const end of [...streams]) end();
      // Unary calls still waiting on the scheduler get 2 s to finish.
      await shutdownGrpc(server, 2000);
      registry.close();
    },
  };
}

function asStatus(err: Status | Error): Partial<grpc.StatusObject> {
  if (typeof (err as Status).code === "number" && typeof (err as Status).details === "string") return err as Status;
  return { code: grpc.status.INTERNAL, details: (err as Error)?.message ?? String(err) };
}
