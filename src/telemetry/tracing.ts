// Tracing on or off, from the standard OpenTelemetry environment: on when an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) and OTEL_TRACES_EXPORTER is not
// "none". Spans go in batches (BatchSpanProcessor, OTEL_BSP_* tune it) to the OTLP/HTTP exporter, which
// reads the endpoint, headers and timeout variables itself; the resource's service.name is
// OTEL_SERVICE_NAME, default "dts". Off, neither the SDK nor the exporter is loaded, and no span observer is installed.
import type { TraceObserver } from "./trace-observer";

export interface Tracing {
  observer: TraceObserver;
  /** Where spans go, for the start-up line. */
  endpoint: string;
  /** Sends the spans still buffered, then stops (called on shutdown). */
  shutdown(): Promise<void>;
}

/** The tracing environment cannot work as given (the message names the variable). */
export class TracingConfigError extends Error {}

export function tracingFromEnv(env: NodeJS.ProcessEnv): Tracing | undefined {
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  const endpoint = env[variable];
  if (!endpoint || (env.OTEL_TRACES_EXPORTER ?? "").trim().toLowerCase() === "none") return undefined;
  // The exporter would take a bad URL and drop every span in silence: refuse it at start-up instead.
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new TracingConfigError(`${variable} must be an http:// or https:// URL (the OTLP/HTTP receiver, e.g. http://localhost:4318), got '${endpoint}'`);
  }
  // Loaded only when on: with tracing off the process never loads the SDK or the exporter.
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { BasicTracerProvider, BatchSpanProcessor } = require("@opentelemetry/sdk-trace-base") as typeof import("@opentelemetry/sdk-trace-base");
  const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http") as typeof import("@opentelemetry/exporter-trace-otlp-http");
  const { resourceFromAttributes } = require("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  const { ATTR_SERVICE_NAME } = require("@opentelemetry/semantic-conventions") as typeof import("@opentelemetry/semantic-conventions");
  const { PresetIds } = require("./trace-context") as typeof import("./trace-context");
  const { TraceObserver } = require("./trace-observer") as typeof import("./trace-observer");
  /* eslint-enable @typescript-eslint/no-var-requires */
  const ids = new PresetIds();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || "dts" }),
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // Not registered globally: the scheduler's spans use this provider alone, whatever else the process loads.
  return { observer: new TraceObserver(provider.getTracer("dts"), ids), endpoint, shutdown: () => provider.shutdown() };
}
