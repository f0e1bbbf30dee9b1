// W3C trace context as the Durable Task protocol carries it (TraceContext.traceParent, "00-<trace>-<span>-<flags>"),
// and the span ids the scheduler chooses itself: an orchestration's span id is derived from its hub,
// instance and execution, so the same span is named whether it is dispatched before or after a restart.
import { createHash, randomBytes } from "crypto";
import { SpanContext, TraceFlags } from "@opentelemetry/api";
import { IdGenerator } from "@opentelemetry/sdk-trace-base";
import { pb } from "../proto";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote span a TraceContext names; undefined when it is absent or malformed (a bad one is ignored, never fatal). */
export function fromTraceContext(tc: pb.ITraceContext | null | undefined): SpanContext | undefined {
  const m = tc?.traceParent ? TRACEPARENT.exec(tc.traceParent.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], traceFlags: parseInt(m[4], 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** The TraceContext that makes a worker's span a child of `ctx`. */
export function toTraceContext(ctx: { traceId: string; spanId: string }): pb.ITraceContext {
  return { traceParent: `00-${ctx.traceId}-${ctx.spanId}-01`, spanID: ctx.spanId };
}

function digest(parts: string[], bytes: number): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, bytes * 2);
}

/** The span id of an orchestration execution's span, the same every time it is asked. */
export function executionSpanId(hub: string, instanceId: string, executionId: string): string {
  return digest(["span", hub, instanceId, executionId], 8);
}

/** The trace id of an execution started without a trace context. */
export function executionTraceId(hub: string, instanceId: string, executionId: string): string {
  return digest(["trace", hub, instanceId, executionId], 16);
}

export function randomSpanId(): string {
  return randomBytes(8).toString("hex");
}

/**
 * The tracer's id source: random ids, except for the next span when the caller has chosen its ids
 * (JS runs one span start at a time, so a preset id cannot go to another span).
 */
export class PresetIds implements IdGenerator {
  private spanId?: string;
  private traceId?: string;

  /** Runs `start` (one span start) with these ids for the span it starts. */
  with<T>(spanId: string, traceId: string, start: () => T): T {
    this.spanId = spanId;
    this.traceId = traceId;
    try {
      return start();
    } finally {
      this.spanId = this.traceId = undefined;
    }
  }

  generateSpanId(): string {
    const id = this.spanId ?? randomSpanId();
    this.spanId = undefined;
    return id;
  }

  generateTraceId(): string {
    const id = this.traceId ?? randomBytes(16).toString("hex");
    this.traceId = undefined;
    return id;
  }
}
