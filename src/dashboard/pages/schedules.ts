// Schedules: each with what it starts, when, its state and next and last runs, a link to the
// instances it started, pause/resume and delete; and the form that creates one.
import { ScheduleRecord, scheduleInstancePrefix } from "../../core/schedule";
import { scheduleState } from "../api/schedule-routes";
import { seg, time } from "../format";
import type { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";
import { instancePath } from "./orchestrations";

/** The create form's fields as typed, so a refused form comes back as it was. */
export interface NewScheduleForm {
  scheduleId: string;
  orchestrationName: string;
  cron: string;
  timeZone: string;
  every: string;
  input: string;
  startAt: string;
  endAt: string;
  catchUp: string;
}

export const EMPTY_SCHEDULE_FORM: NewScheduleForm = { scheduleId: "", orchestrationName: "", cron: "", timeZone: "", every: "", input: "", startAt: "", endAt: "", catchUp: "once" };

export function schedulePath(hub: string, scheduleId: string): string {
  return hubPath(hub, `/schedules/${seg(scheduleId)}`);
}

function when(r: ScheduleRecord): Html {
  const range = r.startAt !== undefined || r.endAt !== undefined
    ? html`<br><span class="muted">from ${time(r.startAt)} to ${time(r.endAt)}</span>` : "";
  return r.cron !== undefined
    ? html`<code>${r.cron}</code> <span class="muted">(${r.timeZone ?? "UTC"})</span>${range}`
    : html`every ${r.intervalMs! / 1000} s${range}`;
}

/** A schedule's row; its buttons only for those who may change the hub. */
function row(hub: string, r: ScheduleRecord, writable: boolean): Html {
  const state = scheduleState(r);
  const base = schedulePath(hub, r.scheduleId);
  const instances = `${hubPath(hub, "/orchestrations")}?${new URLSearchParams({ prefix: scheduleInstancePrefix(r.scheduleId) }).toString()}`;
  return html`<tr data-schedule="${r.scheduleId}"><td class="id">${r.scheduleId}</td><td>${r.orchestrationName}</td><td>${when(r)}</td>
<td class="state">${state}</td><td class="next">${r.paused ? html`<span class="muted">–</span>` : time(r.nextRunAt)}</td><td>${time(r.lastRunAt)}</td>
<td>${r.lastInstanceId ? html`<a href="${instancePath(hub, r.lastInstanceId)}">${r.lastInstanceId}</a>` : html`<span class="muted">–</span>`}<br><a href="${instances}">All instances</a></td>
<td>${writable ? html`<div class="actions">${state === "ended" ? "" : r.paused
    ? html`<form method="post" action="${base}/resume"><button type="submit">Resume</button></form>`
    : html`<form method="post" action="${base}/pause"><button type="submit">Pause</button></form>`}
<form method="post" action="${base}/delete" data-confirm="Delete schedule ${r.scheduleId}? The instances it started stay."><button type="submit" class="danger">Delete</button></form></div>` : html`<span class="muted">read only</span>`}</td></tr>`;
}

export function schedulesPage(access: HubAccess, viewer: Caller, hub: string, form: NewScheduleForm, notice?: string, error?: string): Html {
  const schedules = access.schedules(hub);
  const writable = viewer.may("write", hub);
  return page({ title: `Schedules in ${hub}`, hub, hubs: access.hubNames(), viewer, section: "schedules", notice, error }, html`
<h1>Schedules <span class="muted">in ${hub}</span></h1>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Schedule</th><th scope="col">Orchestration</th><th scope="col">When</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col">Last instance</th><th scope="col">Actions</th></tr></thead>
<tbody>${schedules.length ? schedules.map((r) => row(hub, r, writable)) : html`<tr><td colspan="8" class="muted">No schedule.</td></tr>`}</tbody>
</table></div>
<h2>New schedule</h2>
<form class="card" method="post" action="${hubPath(hub, "/schedules")}" aria-label="New schedule">
<fieldset${writable ? "" : html` disabled`}>
<p><label class="field"><span>Schedule ID (letters, digits, '.', '_', '-'; instances get ids &lt;schedule id&gt;@&lt;time&gt;)</span><input type="text" name="scheduleId" value="${form.scheduleId}" required></label></p>
<p><label class="field"><span>Orchestration name</span><input type="text" name="orchestrationName" value="${form.orchestrationName}" required></label></p>
<p><label class="field"><span>Cron expression (NCRONTAB, seconds first, e.g. 0 */5 * * * *)</span><input type="text" name="cron" value="${form.cron}"></label></p>
<p><label class="field"><span>Time zone for the cron expression (IANA name, default UTC)</span><input type="text" name="timeZone" value="${form.timeZone}" placeholder="Europe/Paris"></label></p>
<p><label class="field"><span>Or every (30s, 5m, 1h30m, 00:00:30)</span><input type="text" name="every" value="${form.every}"></label></p>
<p><label class="field"><span>Input (JSON, optional)</span><textarea name="input">${form.input}</textarea></label></p>
<p><label class="field"><span>Start at (UTC, optional)</span><input type="datetime-local" name="startAt" value="${form.startAt}" step="1"></label></p>
<p><label class="field"><span>End at (UTC, optional)</span><input type="datetime-local" name="endAt" value="${form.endAt}" step="1"></label></p>
<p><label class="field"><span>Occurrences missed while the scheduler was down</span><select name="catchUp">
<option value="once"${form.catchUp === "skip" ? "" : html` selected`}>start one instance for them (once)</option>
<option value="skip"${form.catchUp === "skip" ? html` selected` : ""}>start none (skip)</option>
</select></label></p>
<button type="submit" class="primary">Create schedule</button>
</fieldset>
</form>`);
}
