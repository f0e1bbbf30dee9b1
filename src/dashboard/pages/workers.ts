// Workers and load: the GetMetrics figures per kind of work item, and how many workers are connected.
import { time } from "../format";
import { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { page } from "../layout";
import { WorkerView } from "../../scheduler/work-view";

/** What a worker receives: everything, or what its filter names per kind. */
function runs(w: WorkerView): Html | string {
  if (!w.filter) return "everything";
  const f = w.filter;
  const list = (label: string, names: string[]) => (names.length ? html`<div>${label}: ${names.join(", ")}</div>` : "");
  return html`${list("orchestrations", f.orchestration)}${list("activities", f.activity)}${list("entities", f.entity)}`;
}

export function workersPage(access: HubAccess, viewer: Caller, hub: string): Html {
  const m = access.metrics(hub);
  const workers = access.workers(hub);
  const kinds = [["Orchestrations", m.orchestrations], ["Activities", m.activities], ["Entities", m.entities]] as const;
  return page({ title: `Workers of ${hub}`, hub, hubs: access.hubNames(), viewer, section: "workers", refreshSeconds: 5 }, html`
<h1>Workers and load <span class="muted">in ${hub}</span></h1>
<div class="card"><dl class="props">
<dt>Connected workers</dt><dd id="worker-count">${m.workers}</dd>
<dt>Instances in memory</dt><dd>${m.hotInstances}</dd>
</dl></div>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Work items</th><th scope="col">Pending</th><th scope="col">Waiting for a capable worker</th><th scope="col">Active (leased)</th><th scope="col">Oldest pending (s)</th></tr></thead>
<tbody>${kinds.map(([label, k]) => html`<tr><td>${label}</td><td>${k.pending}</td><td class="waiting">${k.waitingForWorker}</td><td>${k.active}</td><td>${k.oldestAgeSeconds}</td></tr>`)}</tbody>
</table></div>
<h2>Connected workers</h2>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Worker</th><th scope="col">Connected</th><th scope="col">Orchestrations (in flight / limit)</th><th scope="col">Activities</th><th scope="col">Entities</th><th scope="col">Runs (work-item filter)</th><th scope="col">State</th></tr></thead>
<tbody>${workers.length ? workers.map((w) => html`<tr><td class="id">${w.id}${w.mirrorFor !== undefined ? html`<div class="muted">connected to node ${w.mirrorFor}; its work from this node is relayed there</div>` : ""}</td><td>${time(w.connectedAt)}</td>
<td>${w.inFlight.orchestrations} / ${w.limits.orchestrations}</td><td>${w.inFlight.activities} / ${w.limits.activities}</td><td>${w.inFlight.entities} / ${w.limits.entities}</td><td class="runs">${runs(w)}</td>
<td>${w.draining ? "draining" : w.backedUpSince !== undefined ? html`not reading since ${time(w.backedUpSince)}` : "receiving"}</td></tr>`) : html`<tr><td colspan="7" class="muted">No worker is connected.</td></tr>`}</tbody>
</table></div>
<p class="muted">This page refreshes every 5 seconds.</p>`);
}
