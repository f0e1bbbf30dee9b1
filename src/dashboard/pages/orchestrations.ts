// The orchestrations list: filters, newest first, pages of 25/50/100 with the total, auto-refresh,
// and bulk actions on the selected rows or on everything the filter matches.
import { InstanceRecord, STATUS_NAMES } from "../../core/model";
import { duration, runTime, seg, statusBadge, time } from "../format";
import { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";
import { countsCell, LISTED_STATUSES } from "./hubs";
import { filterOf, ListQuery, listSearch, PAGE_SIZES, REFRESH_SECONDS } from "./list-query";

export function instancePath(hub: string, instanceId: string): string {
  return hubPath(hub, `/orchestrations/${seg(instanceId)}`);
}

function tagsText(tags: Record<string, string> | undefined): string {
  return tags ? Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(", ") : "";
}

function row(hub: string, r: InstanceRecord, now: number): Html {
  return html`<tr>
<td><input type="checkbox" name="id" value="${r.instanceId}" form="bulk" aria-label="Select ${r.instanceId}"></td>
<td class="id"><a href="${instancePath(hub, r.instanceId)}">${r.instanceId}</a></td>
<td>${r.name}${r.parentInstanceId ? html` <span class="muted">(sub)</span>` : ""}</td>
<td class="mono">${r.version ?? ""}</td>
<td>${statusBadge(r.status)}</td>
<td>${time(r.createdAt)}</td>
<td class="optional">${time(r.lastUpdatedAt)}</td>
<td class="optional">${duration(runTime(r, now))}</td>
<td class="optional mono">${tagsText(r.tags)}</td>
</tr>`;
}

function filters(hub: string, q: ListQuery): Html {
  const checked = (b: boolean) => (b ? html` checked` : "");
  const selected = (b: boolean) => (b ? html` selected` : "");
  return html`<form class="filters card" method="get" action="${hubPath(hub, "/orchestrations")}" aria-label="Filters">
<fieldset><legend>Status</legend>
${LISTED_STATUSES.map((s) => html`<label><input type="checkbox" name="status" value="${STATUS_NAMES[s]}"${checked(q.statuses.includes(s))}> ${STATUS_NAMES[s]}</label>`)}
</fieldset>
<label class="field"><span>Name</span><input type="text" name="name" value="${q.name}"></label>
<label class="field"><span>Version</span><input type="text" name="version" value="${q.version}"></label>
<label class="field"><span>Instance id starts with</span><input type="search" name="prefix" value="${q.prefix}"></label>
<label class="field"><span>Tag (key=value)</span><input type="text" name="tag" value="${q.tag}"></label>
<label class="field"><span>Created from (UTC)</span><input type="datetime-local" name="from" value="${q.from}" step="1"></label>
<label class="field"><span>Created to (UTC)</span><input type="datetime-local" name="to" value="${q.to}" step="1"></label>
<label><input type="checkbox" name="sub" value="1"${checked(q.showSub)}> Show sub-orchestrations</label>
<label class="field"><span>Page size</span><select name="size">${PAGE_SIZES.map((n) => html`<option${selected(n === q.size)}>${n}</option>`)}</select></label>
<label class="field"><span>Auto-refresh</span><select name="refresh">${REFRESH_SECONDS.map((n) => html`<option value="${n}"${selected(n === q.refresh)}>${n ? `${n} s` : "Off"}</option>`)}</select></label>
<button type="submit" class="primary">Apply</button>
<a class="button" href="${hubPath(hub, "/orchestrations")}">Clear</a>
</form>`;
}

export async function orchestrationsPage(access: HubAccess, viewer: Caller, hub: string, q: ListQuery, notice?: string): Promise<Html> {
  const filter = filterOf(q);
  const counts = await access.counts(hub, filter);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const offset = (q.page - 1) * q.size;
  const rows = await access.list(hub, filter, { newestFirst: true, offset, limit: q.size });
  const now = Date.now();
  const base = hubPath(hub, "/orchestrations");
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + rows.length;
  const pager = html`<nav class="pager" aria-label="Pages">
<span>${first}–${last} of ${total}</span>
${q.page > 1 ? html`<a href="${base}${listSearch(q, { page: q.page - 1 })}" rel="prev">Previous</a>` : html`<span class="muted">Previous</span>`}
${last < total ? html`<a href="${base}${listSearch(q, { page: q.page + 1 })}" rel="next">Next</a>` : html`<span class="muted">Next</span>`}
<a href="${base}${listSearch(q)}">Refresh</a>
</nav>`;
  return page({ title: `Orchestrations in ${hub}`, hub, hubs: access.hubNames(), viewer, section: "orchestrations", refreshSeconds: q.refresh || undefined, notice }, html`
<h1>Orchestrations <span class="muted">in ${hub}</span></h1>
${filters(hub, q)}
${countsCell(hub, counts)}
${pager}
<div class="table-wrap"><table>
<thead><tr>
<th scope="col"><input type="checkbox" data-select-all aria-label="Select all on this page"></th>
<th scope="col">Instance ID</th><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Created</th>
<th scope="col" class="optional">Last updated</th><th scope="col" class="optional">Duration</th><th scope="col" class="optional">Tags</th>
</tr></thead>
<tbody>${rows.length ? rows.map((r) => row(hub, r, now)) : html`<tr><td colspan="9" class="muted">No orchestration matches.</td></tr>`}</tbody>
</table></div>
${pager}
${viewer.may("write", hub) ? html`<form id="bulk" class="actions card" method="post" action="${hubPath(hub, "/bulk")}${listSearch(q, { page: 1, refresh: 0 })}" aria-label="Bulk actions">
<strong>Bulk:</strong>
<label><input type="radio" name="scope" value="selected" checked> Selected rows</label>
<label><input type="radio" name="scope" value="all"> All ${total} matching the filter</label>
<button type="submit" name="action" value="terminate" class="danger">Terminate…</button>
<button type="submit" name="action" value="purge" class="danger">Purge…</button>
</form>` : ""}`);
}
