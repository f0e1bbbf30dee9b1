// `dts durable`'s text for people: key/value blocks and tables. Pure: the command module decides what
// to print and where; the JSON for scripts is the payloads themselves (host/status-payload.ts shapes).
import { StatusPayload } from "../host/status-payload";

/** A value as one line: strings as they are, everything else as compact JSON; null/undefined as "-". */
export function inline(v: unknown): string {
  if (v === null || v === undefined) return "-";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Left-aligned columns two spaces apart, a header row first; cells are made one-line. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => inline(c).replace(/\s*\n\s*/g, " ")))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

/** `Label:  value` lines, the values aligned. */
export function keyValues(pairs: [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${(k + ":").padEnd(width)}  ${inline(v)}`).join("\n") + "\n";
}

export interface StatusView {
  showInput: boolean;
  showOutput: boolean;
}

/** The status for --json: every field always present; input and output null unless asked for. */
export function statusJson(p: StatusPayload, view: StatusView): StatusPayload {
  return { ...p, input: view.showInput ? p.input : null, output: view.showOutput ? p.output : null };
}

export function formatStatus(p: StatusPayload, view: StatusView): string {
  const pairs: [string, unknown][] = [
    ["Instance ID", p.instanceId], ["Name", p.name], ["Runtime status", p.runtimeStatus],
    ["Created", p.createdTime], ["Last updated", p.lastUpdatedTime], ["Custom status", p.customStatus],
  ];
  if (view.showInput) pairs.push(["Input", p.input]);
  if (view.showOutput) pairs.push(["Output", p.output]);
  return keyValues(pairs);
}

export function formatInstances(list: StatusPayload[], continuationToken: string | null, showInput: boolean): string {
  if (list.length === 0) return "No instances match.\n";
  const headers = ["INSTANCE ID", "NAME", "STATUS", "CREATED", "LAST UPDATED", ...(showInput ? ["INPUT"] : [])];
  const rows = list.map((p) => [p.instanceId, p.name, p.runtimeStatus, p.createdTime, p.lastUpdatedTime, ...(showInput ? [p.input] : [])]);
  const more = continuationToken ? `More instances: pass --continuation-token ${continuationToken}\n` : "";
  return table(headers, rows) + more;
}

/** What one history event (host/status-payload.ts historyPayload shape) is about, in one cell. */
function eventDetail(e: Record<string, unknown>): unknown {
  const parts: string[] = [];
  for (const key of ["FunctionName", "Name", "OrchestrationStatus", "FireAt", "Reason"]) {
    if (e[key] !== undefined && e[key] !== null && e[key] !== "") parts.push(`${key}=${inline(e[key])}`);
  }
  const payload = e.Result ?? e.Input;
  if (payload !== undefined && payload !== null) parts.push(`${e.Result !== undefined ? "Result" : "Input"}=${inline(payload)}`);
  return parts.join(" ");
}

export function formatHistory(events: Record<string, unknown>[]): string {
  if (events.length === 0) return "No history events.\n";
  return table(["EVENT ID", "EVENT TYPE", "TIMESTAMP", "DETAILS"], events.map((e) => [e.EventId, e.EventType, e.Timestamp, eventDetail(e)]));
}
