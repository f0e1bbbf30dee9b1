// One instance: its state, payloads and failure, what it waits on, its children, the actions its
// status allows, and three views of its history (timeline, history table, sequence).
import { openEntityRequests, openTasksAndTimers, fromTimestamp, unfinishedSubOrchestrations } from "../../core/events";
import { HistoryEvent, InstanceRecord, isTerminal, Status } from "../../core/model";
import { duration, prettyJson, runTime, statusBadge, time } from "../format";
import { eventView } from "../history-view";
import { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";
import { timelineSpans, timelineSvg } from "../timeline";
import { instancePath } from "./orchestrations";
import { sequenceSvg } from "./sequence";

export const HISTORY_PAGE = 200;
export type InstanceView = "timeline" | "history" | "sequence";

const S = Status;
const ACTIVE = (s: Status) => s === S.ORCHESTRATION_STATUS_RUNNING || s === S.ORCHESTRATION_STATUS_PENDING || s === S.ORCHESTRATION_STATUS_SUSPENDED;

/** Which actions the instance's status allows (the buttons of the others are shown disabled). */
export function allowedActions(r: InstanceRecord): Record<string, boolean> {
  return {
    suspend: r.status === S.ORCHESTRATION_STATUS_RUNNING || r.status === S.ORCHESTRATION_STATUS_PENDING,
    resume: r.status === S.ORCHESTRATION_STATUS_SUSPENDED,
    terminate: ACTIVE(r.status),
    raise: ACTIVE(r.status),
    restart: isTerminal(r.status),
    rewind: r.status === S.ORCHESTRATION_STATUS_FAILED,
    purge: isTerminal(r.status),
  };
}

function payload(id: string, title: string, text: string | undefined): Html {
  if (text === undefined) return html`<div><h2>${title}</h2><p class="muted">None</p></div>`;
  return html`<div class="payload"><h2>${title}</h2><button type="button" class="copy" data-copy="${id}">Copy</button><pre id="${id}">${prettyJson(text)}</pre></div>`;
}

function actions(hub: string, r: InstanceRecord, viewer: Caller): Html {
  const allowed = allowedActions(r);
  const base = instancePath(hub, r.instanceId);
  // A caller who may only read sees the actions, all disabled (the server refuses them anyway).
  const writable = viewer.may("write", hub);
  const off = (name: string) => (allowed[name] && writable ? "" : html` disabled`);
  return html`<section class="actions card" aria-label="Actions">
<form method="post" action="${base}/suspend"><button type="submit"${off("suspend")}>Suspend</button></form>
<form method="post" action="${base}/resume"><button type="submit"${off("resume")}>Resume</button></form>
<form method="post" action="${base}/terminate"><label>Reason <input type="text" name="reason" required${off("terminate")}></label><button type="submit" class="danger"${off("terminate")}>Terminate</button></form>
<form method="post" action="${base}/raise-event"><label>Event <input type="text" name="name" required${off("raise")}></label><label>Data (JSON) <input type="text" name="data"${off("raise")}></label><button type="submit"${off("raise")}>Raise event</button></form>
<form method="post" action="${base}/restart"><button type="submit"${off("restart")}>Restart</button></form>
<form method="post" action="${base}/rewind"><button type="submit"${off("rewind")}>Rewind</button></form>
<form method="post" action="${base}/purge" data-confirm="Purge ${r.instanceId} and its history? This cannot be undone."><button type="submit" class="danger"${off("purge")}>Purge</button></form>
</section>`;
}

function leaseText(l: { worker: string; since: number } | undefined): Html {
  return l ? html`with worker <code>${l.worker}</code> since ${time(l.since)}` : html`<span class="muted">queued</span>`;
}

function waitingOn(access: HubAccess, hub: string, r: InstanceRecord, history: HistoryEvent[]): Html {
  if (isTerminal(r.status)) return html``;
  const work = access.work(hub, r.instanceId);
  const timers = openTasksAndTimers(history).timers;
  const subs = unfinishedSubOrchestrations(history);
  const entity = openEntityRequests(history);
  const items = [
    ...(work.lease ? [html`<li>An episode is running ${leaseText(work.lease)}</li>`] : []),
    ...work.activities.map((a) => html`<li>Activity <strong>${a.name}</strong> (task ${a.taskId}, attempt ${a.attempt}) ${leaseText(a.lease)}</li>`),
    ...timers.map((t) => html`<li>Timer ${t.timerId} due ${time(fromTimestamp(t.fireAt))}</li>`),
    ...subs.map((s) => html`<li>Sub-orchestration <a href="${instancePath(hub, s.created.instanceId ?? "")}">${s.created.name ?? ""}</a> (${s.created.instanceId ?? ""})</li>`),
    ...entity.calls.map((c) => html`<li>Entity <code>${c.entity}</code>: the answer to operation <strong>${c.operation}</strong></li>`),
    ...entity.locks.map((l) => html`<li>A lock on ${l.entities.map((e, i) => html`${i ? ", " : ""}<code>${e}</code>`)}, not yet granted</li>`),
    ...work.inbox.map((m) => html`<li>In its inbox: ${m.kind}${m.name ? html` <strong>${m.name}</strong>` : ""}${m.visibleAt > Date.now() ? html`, visible ${time(m.visibleAt)}` : ""}</li>`),
  ];
  return html`<div class="card"><h2>Waiting on</h2>${items.length ? html`<ul>${items}</ul>` : html`<p class="muted">Nothing scheduled and nothing in its inbox: it waits for an external event (Raise event below sends one). Which event name it waits for is known only to its worker's code: the protocol does not tell the scheduler.</p>`}</div>`;
}

/** One page of a long list of steps, with its pager (none when everything fits on one page). */
function paged<T>(items: T[], size: number, page: number, label: string, noun: string, base: string): { slice: T[]; first: number; pager: Html | "" } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(page, pages);
  const first = (p - 1) * size;
  const slice = items.slice(first, first + size);
  const pager = pages > 1 ? html`<nav class="pager" aria-label="${label}"><span>${noun} ${first + 1}–${first + slice.length} of ${items.length}</span>
${p > 1 ? html`<a href="${base}&page=${p - 1}">Previous</a>` : ""}${p < pages ? html`<a href="${base}&page=${p + 1}">Next</a>` : ""}</nav>` : "";
  return { slice, first, pager };
}

function historyTable(hub: string, r: InstanceRecord, history: HistoryEvent[], page: number): Html {
  const { slice, first, pager } = paged(history, HISTORY_PAGE, page, "History pages", "Events", `${instancePath(hub, r.instanceId)}?view=history`);
  return html`${pager}<div class="table-wrap"><table>
<thead><tr><th scope="col">#</th><th scope="col">Event ID</th><th scope="col">Type</th><th scope="col">Timestamp</th><th scope="col">Details</th></tr></thead>
<tbody>${slice.map((e, i) => {
    const v = eventView(e);
    return html`<tr><td>${first + i + 1}</td><td>${v.eventId}</td><td>${v.eventType}</td><td>${v.timestamp ? time(Date.parse(v.timestamp)) : ""}</td><td class="mono"><pre>${JSON.stringify(v.details, null, 1)}</pre></td></tr>`;
  })}</tbody></table></div>${pager}`;
}

/** Steps per timeline page: a long history stays a page the browser draws at once. */
const TIMELINE_PAGE = 500;

function timelineView(hub: string, r: InstanceRecord, history: HistoryEvent[], now: number, page: number): Html {
  const { slice: spans, pager } = paged(timelineSpans(history), TIMELINE_PAGE, page, "Timeline pages", "Steps", `${instancePath(hub, r.instanceId)}?view=timeline`);
  return html`${pager}${timelineSvg(spans, r.createdAt, r.completedAt ?? now, now)}
<div class="card">${spans.map((s, i) => html`<details id="span-${i}"><summary>${s.label} · ${s.kind} · ${s.end === undefined ? "running" : duration(s.end - s.start)}${s.failed ? " · failed" : ""}</summary>
<dl class="props"><dt>Started</dt><dd>${time(s.start)}</dd><dt>Ended</dt><dd>${time(s.end)}</dd>${s.due !== undefined ? html`<dt>Due</dt><dd>${time(s.due)}</dd>` : ""}</dl>
${s.input !== undefined ? html`<h2>Input</h2><pre>${prettyJson(s.input)}</pre>` : ""}${s.output !== undefined ? html`<h2>${s.failed ? "Failure" : "Output"}</h2><pre>${prettyJson(s.output)}</pre>` : ""}
</details>`)}</div>`;
}

export async function instancePage(access: HubAccess, viewer: Caller, hub: string, r: InstanceRecord, view: InstanceView, viewPage: number, notice?: string, error?: string): Promise<Html> {
  const history = (await access.history(hub, r.instanceId)) ?? [];
  const children = await access.list(hub, { parentInstanceId: r.instanceId }, { newestFirst: false, offset: 0, limit: 100 });
  const now = Date.now();
  const base = instancePath(hub, r.instanceId);
  const tab = (v: InstanceView, label: string) => html`<a href="${base}?view=${v}"${v === view ? html` aria-current="page"` : ""}>${label}</a>`;
  const f = r.failureDetails;
  return page({ title: r.instanceId, hub, hubs: access.hubNames(), viewer, section: "orchestrations", notice, error, refreshSeconds: undefined }, html`
<p><a href="${hubPath(hub, "/orchestrations")}">← Orchestrations</a></p>
<h1>${r.instanceId} ${statusBadge(r.status)}</h1>
${actions(hub, r, viewer)}
<div class="grid2">
<div class="card"><dl class="props">
<dt>Name</dt><dd>${r.name}</dd>
<dt>Version</dt><dd>${r.version ?? "–"}</dd>
<dt>Status</dt><dd>${statusBadge(r.status)}</dd>
<dt>Created</dt><dd>${time(r.createdAt)}</dd>
<dt>Last updated</dt><dd>${time(r.lastUpdatedAt)}</dd>
<dt>Completed</dt><dd>${time(r.completedAt)}</dd>
<dt>Duration</dt><dd>${duration(runTime(r, now))}</dd>
<dt>Execution ID</dt><dd class="mono">${r.executionId}</dd>
${r.scheduledStartAt ? html`<dt>Scheduled start</dt><dd>${time(r.scheduledStartAt)}</dd>` : ""}
<dt>Parent</dt><dd>${r.parentInstanceId ? html`<a href="${instancePath(hub, r.parentInstanceId)}">${r.parentInstanceId}</a>` : "–"}</dd>
<dt>Tags</dt><dd>${r.tags ? Object.entries(r.tags).map(([k, v]) => html`<code>${k}=${v}</code> `) : "–"}</dd>
</dl></div>
${waitingOn(access, hub, r, history)}
</div>
${children.length ? html`<div class="card"><h2>Sub-orchestrations</h2><ul>${children.map((c) => html`<li><a href="${instancePath(hub, c.instanceId)}">${c.instanceId}</a> ${c.name} ${statusBadge(c.status)}</li>`)}</ul></div>` : ""}
${f ? html`<div class="card"><h2>Failure</h2><dl class="props"><dt>Type</dt><dd>${f.errorType ?? ""}</dd><dt>Message</dt><dd>${f.errorMessage ?? ""}</dd></dl>${f.stackTrace?.value ? html`<pre>${f.stackTrace.value}</pre>` : ""}</div>` : ""}
<div class="grid2">
${payload("input", "Input", r.input)}
${payload("output", "Output", r.output)}
${payload("custom-status", "Custom status", r.customStatus)}
</div>
<nav class="tabs" aria-label="Views">${tab("timeline", "Timeline")}${tab("history", "History")}${tab("sequence", "Sequence")}
<a href="${base}/history.json" download>Download history (JSON)</a></nav>
${view === "timeline" ? timelineView(hub, r, history, now, viewPage) : view === "history" ? historyTable(hub, r, history, viewPage) : sequenceSvg(r, history)}`);
}
