// A hub's retention: the period in force for each finished status and where it comes from, and a
// form that sets the hub's own policy (all fields empty: follow the scheduler's policy).
import { describeDays, RETENTION_FIELDS, RetentionPolicy } from "../../core/retention";
import { HttpError } from "../http";
import type { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";

const LABELS: Record<(typeof RETENTION_FIELDS)[number], string> = {
  days: "Every finished status", completedDays: "Completed", failedDays: "Failed", canceledDays: "Canceled", terminatedDays: "Terminated",
};

export function retentionPage(access: HubAccess, viewer: Caller, hub: string, notice?: string, error?: string, entered?: URLSearchParams): Html {
  const v = access.retention(hub);
  const value = (f: keyof RetentionPolicy) => (entered ? entered.get(f) ?? "" : v.own?.[f] ?? "");
  return page({ title: `Retention of ${hub}`, hub, hubs: access.hubNames(), viewer, section: "retention", notice, error }, html`
<h1>Retention <span class="muted">in ${hub}</span></h1>
<p>Finished instances are purged, with their histories and sub-orchestrations, this long after they finished.
Running, pending and suspended instances are never purged.</p>
<div class="table-wrap"><table id="retention-periods">
<thead><tr><th scope="col">Status</th><th scope="col">Kept</th><th scope="col">Set by</th></tr></thead>
<tbody>${v.periods.map((p) => html`<tr><td>${p.name}</td><td>${describeDays(p.days)}</td><td>${p.from === "hub" ? "this task hub" : "the scheduler (dts serve)"}</td></tr>`)}</tbody>
</table></div>
<h2>This task hub's policy</h2>
<form class="card" method="post" action="${hubPath(hub, "/retention")}">
<fieldset${viewer.may("write", hub) ? "" : html` disabled`}>
<p class="muted">Whole days; 0 keeps forever. A status left empty takes "Every finished status", and when that is empty too, the scheduler's setting. Leave every field empty to follow the scheduler's policy.</p>
${RETENTION_FIELDS.map((f) => html`<p><label class="field"><span>${LABELS[f]} (days)</span><input type="number" min="0" step="1" name="${f}" value="${value(f)}"></label></p>`)}
<button type="submit" class="primary">Save</button>
</fieldset>
</form>`);
}

/** The form's fields as a policy; none filled in: undefined (the scheduler's policy applies). */
export function policyFromForm(form: URLSearchParams): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {};
  for (const f of RETENTION_FIELDS) {
    const text = (form.get(f) ?? "").trim();
    if (!text) continue;
    const n = Number(text);
    if (!Number.isInteger(n)) throw new HttpError(400, `${LABELS[f]}: '${text}' is not a whole number of days; nothing was changed`);
    policy[f] = n;
  }
  return Object.keys(policy).length ? policy : undefined;
}
