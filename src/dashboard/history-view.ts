// History events as the pages and the download show them: the event type as the managed service
// names it (TaskScheduled...), its timestamp, and its fields as plain JSON (string wrappers
// unwrapped, timestamps as ISO text).
import { fromTimestamp, kindOf } from "../core/events";
import { HistoryEvent } from "../core/model";

export interface EventView {
  eventId: number;
  eventType: string;
  timestamp: string;
  details: unknown;
}

/** A protobuf value as plain JSON: string wrappers unwrapped, timestamps as ISO text, empty fields dropped. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined && o[k] !== null);
  if (keys.length === 1 && keys[0] === "value" && typeof o.value === "string") return o.value;
  if (keys.every((k) => k === "seconds" || k === "nanos") && keys.includes("seconds")) {
    const ms = fromTimestamp(o as { seconds: number; nanos?: number });
    return ms === undefined ? undefined : new Date(ms).toISOString();
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = plain(o[k]);
  return out;
}

export function eventView(e: HistoryEvent): EventView {
  const kind = kindOf(e);
  const ms = fromTimestamp(e.timestamp);
  return {
    eventId: e.eventId ?? -1,
    eventType: kind.charAt(0).toUpperCase() + kind.slice(1),
    timestamp: ms === undefined ? "" : new Date(ms).toISOString(),
    details: plain((e as Record<string, unknown>)[kind]) ?? {},
  };
}
