// The timeline of one execution, read from its history: a bar per activity attempt, timer and
// sub-orchestration (retries are separate attempts, so separate bars), a mark per event received or
// sent. Pure: the history and the current time in, spans out; the page draws them as SVG.
import { fromTimestamp, val } from "../core/events";
import { HistoryEvent } from "../core/model";
import { html, Html } from "./html";
import { duration } from "./format";

export type SpanKind = "activity" | "timer" | "sub" | "event";

export interface Span {
  kind: SpanKind;
  label: string;
  start: number;
  /** Undefined while it is still open (drawn up to now). */
  end?: number;
  failed: boolean;
  input?: string;
  output?: string;
  /** For timers: when it is due. */
  due?: number;
}

export function timelineSpans(history: HistoryEvent[]): Span[] {
  const spans: Span[] = [];
  const open = new Map<string, Span>();
  for (const e of history) {
    const at = fromTimestamp(e.timestamp) ?? 0;
    const id = e.eventId ?? -1;
    const close = (key: string, fields: Partial<Span>) => {
      const s = open.get(key);
      if (!s) return;
      Object.assign(s, { end: at, ...fields });
      open.delete(key);
    };
    const begin = (key: string, s: Span) => {
      spans.push(s);
      open.set(key, s);
    };
    if (e.taskScheduled) begin(`t${id}`, { kind: "activity", label: e.taskScheduled.name ?? "", start: at, failed: false, input: val(e.taskScheduled.input) });
    else if (e.taskCompleted) close(`t${e.taskCompleted.taskScheduledId}`, { output: val(e.taskCompleted.result) });
    else if (e.taskFailed) close(`t${e.taskFailed.taskScheduledId}`, { failed: true, output: e.taskFailed.failureDetails?.errorMessage ?? "" });
    else if (e.timerCreated) begin(`m${id}`, { kind: "timer", label: "Timer", start: at, failed: false, due: fromTimestamp(e.timerCreated.fireAt) });
    else if (e.timerFired) close(`m${e.timerFired.timerId}`, {});
    else if (e.subOrchestrationInstanceCreated) {
      const c = e.subOrchestrationInstanceCreated;
      begin(`t${id}`, { kind: "sub", label: `${c.name ?? ""} (${c.instanceId ?? ""})`, start: at, failed: false, input: val(c.input) });
    } else if (e.subOrchestrationInstanceCompleted) close(`t${e.subOrchestrationInstanceCompleted.taskScheduledId}`, { output: val(e.subOrchestrationInstanceCompleted.result) });
    else if (e.subOrchestrationInstanceFailed) close(`t${e.subOrchestrationInstanceFailed.taskScheduledId}`, { failed: true, output: e.subOrchestrationInstanceFailed.failureDetails?.errorMessage ?? "" });
    else if (e.eventRaised) spans.push({ kind: "event", label: `Event '${e.eventRaised.name ?? ""}' received`, start: at, end: at, failed: false, input: val(e.eventRaised.input) });
    else if (e.eventSent) spans.push({ kind: "event", label: `Event '${e.eventSent.name ?? ""}' sent to ${e.eventSent.instanceId ?? ""}`, start: at, end: at, failed: false, input: val(e.eventSent.input) });
  }
  return spans;
}

const ROW = 22;
const LABEL_W = 230;
const WIDTH = 1000;

/** The SVG: one row per span on a shared time axis from the execution's start to its end (or now). */
export function timelineSvg(spans: Span[], from: number, to: number, now: number): Html {
  if (spans.length === 0) return html`<p class="muted">Nothing has been scheduled in this execution yet.</p>`;
  const end = Math.max(to, ...spans.map((s) => s.end ?? now), from + 1);
  const scale = (t: number) => LABEL_W + ((t - from) / (end - from)) * (WIDTH - LABEL_W - 10);
  const height = spans.length * ROW + 30;
  const bars = spans.map((s, i) => {
    const y = 20 + i * ROW;
    const x = scale(s.start);
    const w = Math.max(3, scale(s.end ?? now) - x);
    const cls = `bar-${s.kind === "event" ? "event" : s.kind}${s.failed ? " bar-failed" : ""}${s.end === undefined ? " bar-open" : ""}`;
    const title = `${s.label}: ${s.end === undefined ? "running" : duration(s.end - s.start)}${s.failed ? " (failed)" : ""}`;
    const shape = s.kind === "event"
      ? html`<circle class="mark" cx="${x.toFixed(1)}" cy="${y + 7}" r="5"></circle>`
      : html`<rect class="${cls}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="14" rx="2"></rect>`;
    return html`<a href="#span-${i}" aria-label="${title}"><title>${title}</title>
<text x="4" y="${y + 11}">${s.label.length > 34 ? `${s.label.slice(0, 33)}…` : s.label}</text>${shape}</a>`;
  });
  return html`<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Timeline of ${spans.length} steps">
<line class="axis" x1="${LABEL_W}" y1="14" x2="${WIDTH - 10}" y2="14"></line>
<text x="${LABEL_W}" y="10">0</text><text x="${WIDTH - 60}" y="10">${duration(end - from)}</text>
${bars}
</svg>`;
}
