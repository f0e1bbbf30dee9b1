// The home page: every served task hub with its instances counted per status.
import { Status, STATUS_NAMES } from "../../core/model";
import { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";

/** The statuses in the order pages list them. */
export const LISTED_STATUSES: Status[] = [
  Status.ORCHESTRATION_STATUS_RUNNING, Status.ORCHESTRATION_STATUS_PENDING, Status.ORCHESTRATION_STATUS_SUSPENDED,
  Status.ORCHESTRATION_STATUS_COMPLETED, Status.ORCHESTRATION_STATUS_FAILED, Status.ORCHESTRATION_STATUS_TERMINATED,
];

export function countsCell(hub: string, counts: Map<Status, number>): Html {
  return html`<div class="counts">${LISTED_STATUSES.map((s) => {
    const n = counts.get(s) ?? 0;
    const name = STATUS_NAMES[s];
    return html`<a class="status status-${name.toLowerCase()}" href="${hubPath(hub, `/orchestrations?status=${name}`)}" aria-label="${n} ${name}">${name} ${n}</a>`;
  })}</div>`;
}

export async function hubsPage(access: HubAccess, viewer: Caller): Promise<Html> {
  const hubs = access.hubNames();
  // Counts only where the caller may read; the names of the others stay in the list.
  const rows = await Promise.all(hubs.map(async (hub) => {
    if (!viewer.may("read", hub)) return html`<tr><td class="id">${hub}</td><td colspan="2" class="muted">Not readable with your roles</td></tr>`;
    const counts = await access.counts(hub, {});
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return html`<tr><td class="id"><a href="${hubPath(hub, "/orchestrations")}">${hub}</a></td><td>${total}</td><td>${countsCell(hub, counts)}</td></tr>`;
  }));
  return page({ title: "Task hubs", hubs, viewer, section: "hubs" }, html`
<h1>Task hubs</h1>
${hubs.length === 0
    ? html`<p class="card">No task hub is served yet. Start <code>dts serve --dynamic-hubs</code>, or create one with an SDK's CreateTaskHub.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Task hub</th><th scope="col">Orchestrations</th><th scope="col">By status</th></tr></thead>
<tbody>${rows}</tbody></table></div>`}`);
}
