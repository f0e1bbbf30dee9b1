// The sequence view: the orchestration and everything it talks to as lifelines (each activity name,
// each sub-orchestration, timers, the outside world for events), and its history as messages between
// them, in order.
import { HistoryEvent, InstanceRecord } from "../../core/model";
import { html, Html } from "../html";

interface Message {
  from: string;
  to: string;
  label: string;
  failed?: boolean;
}

const ORCH = "Orchestration";
const OUTSIDE = "Clients / events";
const TIMERS = "Timers";

function messages(history: HistoryEvent[]): Message[] {
  const lifelineOf = new Map<number, string>();
  const out: Message[] = [];
  for (const e of history) {
    const id = e.eventId ?? -1;
    if (e.executionStarted) out.push({ from: OUTSIDE, to: ORCH, label: "start" });
    else if (e.taskScheduled) {
      const line = `Activity ${e.taskScheduled.name ?? ""}`;
      lifelineOf.set(id, line);
      out.push({ from: ORCH, to: line, label: `call (task ${id})` });
    } else if (e.taskCompleted || e.taskFailed) {
      const taskId = (e.taskCompleted ?? e.taskFailed)!.taskScheduledId ?? -1;
      out.push({ from: lifelineOf.get(taskId) ?? "Activity", to: ORCH, label: e.taskFailed ? `failed (task ${taskId})` : `result (task ${taskId})`, failed: !!e.taskFailed });
    } else if (e.subOrchestrationInstanceCreated) {
      const line = `Sub ${e.subOrchestrationInstanceCreated.name ?? ""}`;
      lifelineOf.set(id, line);
      out.push({ from: ORCH, to: line, label: `start ${e.subOrchestrationInstanceCreated.instanceId ?? ""}` });
    } else if (e.subOrchestrationInstanceCompleted || e.subOrchestrationInstanceFailed) {
      const taskId = (e.subOrchestrationInstanceCompleted ?? e.subOrchestrationInstanceFailed)!.taskScheduledId ?? -1;
      out.push({ from: lifelineOf.get(taskId) ?? "Sub-orchestration", to: ORCH, label: e.subOrchestrationInstanceFailed ? "failed" : "result", failed: !!e.subOrchestrationInstanceFailed });
    } else if (e.timerCreated) out.push({ from: ORCH, to: TIMERS, label: `timer ${id}` });
    else if (e.timerFired) out.push({ from: TIMERS, to: ORCH, label: `timer ${e.timerFired.timerId ?? -1} fired` });
    else if (e.eventRaised) out.push({ from: OUTSIDE, to: ORCH, label: `event '${e.eventRaised.name ?? ""}'` });
    else if (e.eventSent) out.push({ from: ORCH, to: OUTSIDE, label: `event '${e.eventSent.name ?? ""}' to ${e.eventSent.instanceId ?? ""}` });
    else if (e.executionCompleted) out.push({ from: ORCH, to: OUTSIDE, label: "completed", failed: !!e.executionCompleted.failureDetails });
    else if (e.executionTerminated) out.push({ from: OUTSIDE, to: ORCH, label: "terminate" });
    else if (e.executionSuspended) out.push({ from: OUTSIDE, to: ORCH, label: "suspend" });
    else if (e.executionResumed) out.push({ from: OUTSIDE, to: ORCH, label: "resume" });
  }
  return out;
}

const COL = 170;
const STEP = 26;
const MAX_MESSAGES = 500;

export function sequenceSvg(_r: InstanceRecord, history: HistoryEvent[]): Html {
  const all = messages(history);
  const shown = all.slice(0, MAX_MESSAGES);
  const lines = [OUTSIDE, ORCH];
  for (const m of shown) for (const l of [m.from, m.to]) if (!lines.includes(l)) lines.push(l);
  const x = (l: string) => 90 + lines.indexOf(l) * COL;
  const width = 90 + lines.length * COL;
  const height = 50 + shown.length * STEP;
  return html`${all.length > shown.length ? html`<p class="muted">The first ${MAX_MESSAGES} of ${all.length} messages; the History view has them all.</p>` : ""}
<svg class="timeline" viewBox="0 0 ${width} ${height}" role="img" aria-label="Sequence of ${shown.length} messages">
${lines.map((l) => html`<text x="${x(l) - 60}" y="14">${l.length > 26 ? `${l.slice(0, 25)}…` : l}</text><line class="axis" x1="${x(l)}" y1="22" x2="${x(l)}" y2="${height}"></line>`)}
${shown.map((m, i) => {
    const y = 40 + i * STEP;
    const x1 = x(m.from);
    const x2 = x(m.to);
    const dir = x2 >= x1 ? 1 : -1;
    return html`<line class="${m.failed ? "bar-failed" : "axis"}" x1="${x1}" y1="${y}" x2="${x2 - dir * 6}" y2="${y}" stroke="#5c6675" stroke-width="1.5"></line>
<polygon points="${x2},${y} ${x2 - dir * 7},${y - 4} ${x2 - dir * 7},${y + 4}" fill="${m.failed ? "#b3261e" : "#5c6675"}"></polygon>
<text x="${Math.min(x1, x2) + 8}" y="${y - 5}">${m.label}</text>`;
  })}
</svg>`;
}
