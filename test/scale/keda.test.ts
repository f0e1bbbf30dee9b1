// `dts scale keda` answered over real gRPC as KEDA calls it: GetMetricSpec, IsActive, GetMetrics
// (default and per-trigger limits and hubs), StreamIsActive pushing a change, and UNAVAILABLE with the
// reason when the scheduler cannot be read.
import * as grpc from "@grpc/grpc-js";
import { es, externalScalerDefinition } from "../../scale/keda/proto";
import { backendDefinition } from "../../src/proto/services";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { connectionString } from "../helpers/func-process";
import { RawClient } from "../helpers/raw";
import { createBacklog, deadPort, ScalerProcess, startScaler } from "./helpers";

/* eslint-disable @typescript-eslint/no-explicit-any */

let dts: DtsProcess;
let scaler: ScalerProcess;
let client: grpc.Client & Record<string, any>;
const raws: RawClient[] = [];
let dead: number;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--hubs", "keda,keda2,keda3"]);
  dead = await deadPort();
  scaler = await startScaler(
    ["--connection-string", connectionString(dts.port, "keda"), "--cache-seconds", "0", "--poll-seconds", "0.05", "--timeout", "5"],
    { BROKEN_SCHEDULER: connectionString(dead, "keda") },
  );
  const Ctor = grpc.makeGenericClientConstructor(externalScalerDefinition as any, "ExternalScaler");
  client = new Ctor(`localhost:${scaler.port}`, grpc.credentials.createInsecure()) as any;
});
afterAll(async () => {
  client?.close();
  for (const r of raws) r.close();
  const code = await scaler?.stop();
  await dts?.stop();
  expect(code).toBe(0);
});

function call<T = any>(method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
}

function backend(hub: string): RawClient {
  const r = new RawClient(dts.address, hub, backendDefinition);
  raws.push(r);
  return r;
}

test("GetMetricSpec asks for 1 per replica on a per-hub metric", async () => {
  const spec: es.GetMetricSpecResponse = await call("GetMetricSpec", { name: "app", namespace: "ns", scalerMetadata: {} });
  expect(spec.metricSpecs).toHaveLength(1);
  expect(spec.metricSpecs[0]).toMatchObject({ metricName: "durabletask-target-workers-keda", targetSize: 1, targetSizeFloat: 1 });
  const other: es.GetMetricSpecResponse = await call("GetMetricSpec", { scalerMetadata: { taskHub: "keda2" } });
  expect(other.metricSpecs[0].metricName).toBe("durabletask-target-workers-keda2");
});

test("IsActive and GetMetrics follow the backlog: target worker count, default and per-trigger limits", async () => {
  expect(await call("IsActive", { scalerMetadata: {} })).toMatchObject({ result: false });
  let m: es.GetMetricsResponse = await call("GetMetrics", { scaledObjectRef: { scalerMetadata: {} }, metricName: "s0-durabletask-target-workers-keda" });
  expect(m.metricValues).toHaveLength(1);
  expect(m.metricValues[0]).toMatchObject({ metricName: "s0-durabletask-target-workers-keda", metricValue: 0, metricValueFloat: 0 });

  await createBacklog(backend("keda"), "k", 12);
  expect(await call("IsActive", { scalerMetadata: {} })).toMatchObject({ result: true });
  m = await call("GetMetrics", { scaledObjectRef: { scalerMetadata: {} }, metricName: "" });
  expect(m.metricValues[0]).toMatchObject({ metricName: "durabletask-target-workers-keda", metricValue: 2, metricValueFloat: 2 });
  m = await call("GetMetrics", { scaledObjectRef: { scalerMetadata: { maxConcurrentOrchestratorFunctions: "5" } }, metricName: "x" });
  expect(m.metricValues[0]).toMatchObject({ metricValue: 3, metricValueFloat: 3 });
  // Another hub named by the trigger is its own count.
  expect(await call("IsActive", { scalerMetadata: { taskHub: "keda3" } })).toMatchObject({ result: false });
});

test("StreamIsActive sends the current state at once and pushes the change", async () => {
  const stream = client.StreamIsActive({ scalerMetadata: { taskHub: "keda2" } }) as grpc.ClientReadableStream<es.IsActiveResponse>;
  const received: boolean[] = [];
  let wake: (() => void) | undefined;
  stream.on("data", (r: es.IsActiveResponse) => {
    received.push(r.result);
    wake?.();
  });
  const nth = async (n: number) => {
    while (received.length < n) await new Promise<void>((resolve) => (wake = resolve));
  };
  stream.on("error", () => {}); // the cancel below
  await nth(1);
  expect(received).toEqual([false]);
  await createBacklog(backend("keda2"), "k2", 1);
  await nth(2);
  expect(received).toEqual([false, true]);
  stream.cancel();
});

test("an unreachable scheduler fails every call with UNAVAILABLE and the reason", async () => {
  const ref = { scalerMetadata: { connectionStringName: "BROKEN_SCHEDULER" } };
  const reason = new RegExp(`GetMetrics from http://localhost:${dead} \\(task hub 'keda'\\) failed: UNAVAILABLE`);
  await expect(call("IsActive", ref)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(reason) });
  await expect(call("GetMetrics", { scaledObjectRef: ref, metricName: "m" })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(reason) });
  const stream = client.StreamIsActive(ref) as grpc.ClientReadableStream<es.IsActiveResponse>;
  const data: unknown[] = [];
  stream.on("data", (d: unknown) => data.push(d));
  const err = await new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
  expect(err).toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(reason) });
  expect(data).toEqual([]);
  // A hub the scheduler does not serve is a bad scheduler for this trigger too.
  await expect(call("IsActive", { scalerMetadata: { taskHub: "nohub" } })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(/NOT_FOUND/) });
});

test("bad trigger metadata is INVALID_ARGUMENT naming the field", async () => {
  await expect(call("IsActive", { scalerMetadata: { maxConcurrentActivityFunctions: "many" } })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/maxConcurrentActivityFunctions/) });
  await expect(call("GetMetricSpec", { scalerMetadata: { connectionStringName: "NOT_SET_ANYWHERE" } })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/NOT_SET_ANYWHERE/) });
});
