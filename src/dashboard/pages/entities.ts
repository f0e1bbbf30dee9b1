// Entities: the list (name, key, last modified, lock holder, backlog) and one entity with its state,
// a form to signal an operation, and delete.
import { prettyJson, seg, time } from "../format";
import { Caller } from "../caller";
import { EntityView, HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";
import { instancePath } from "./orchestrations";

export function entityPath(hub: string, id: string): string {
  return hubPath(hub, `/entities/${seg(id)}`);
}

function nameAndKey(id: string): { name: string; key: string } {
  const m = /^@([^@]*)@(.*)$/s.exec(id);
  return m ? { name: m[1], key: m[2] } : { name: id, key: "" };
}

function lockCell(hub: string, e: EntityView): Html {
  return e.data.lockedBy ? html`<a href="${instancePath(hub, e.data.lockedBy)}">${e.data.lockedBy}</a>` : html`<span class="muted">–</span>`;
}

export function entitiesPage(access: HubAccess, viewer: Caller, hub: string, prefix: string, after: string | undefined): Html {
  const { entities, last } = access.entities(hub, prefix ? `@${prefix}` : undefined, after, 100);
  return page({ title: `Entities in ${hub}`, hub, hubs: access.hubNames(), viewer, section: "entities" }, html`
<h1>Entities <span class="muted">in ${hub}</span></h1>
<form class="filters card" method="get" action="${hubPath(hub, "/entities")}">
<label class="field"><span>Entity name starts with</span><input type="search" name="prefix" value="${prefix}"></label>
<button type="submit" class="primary">Apply</button>
</form>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Last modified</th><th scope="col">Locked by</th><th scope="col">Backlog</th></tr></thead>
<tbody>${entities.length ? entities.map((e) => {
    const { name, key } = nameAndKey(e.rec.instanceId);
    return html`<tr><td><a href="${entityPath(hub, e.rec.instanceId)}">${name}</a></td><td class="id">${key}</td><td>${time(e.rec.lastUpdatedAt)}</td><td>${lockCell(hub, e)}</td><td>${e.backlog}</td></tr>`;
  }) : html`<tr><td colspan="5" class="muted">No entity.</td></tr>`}</tbody></table></div>
${last ? html`<p class="pager"><a href="${hubPath(hub, "/entities")}?${new URLSearchParams({ prefix, after: last }).toString()}" rel="next">Next</a></p>` : ""}`);
}

export function entityPage(access: HubAccess, viewer: Caller, hub: string, e: EntityView, notice?: string, error?: string): Html {
  const { name, key } = nameAndKey(e.rec.instanceId);
  const base = entityPath(hub, e.rec.instanceId);
  return page({ title: e.rec.instanceId, hub, hubs: access.hubNames(), viewer, section: "entities", notice, error }, html`
<p><a href="${hubPath(hub, "/entities")}">← Entities</a></p>
<h1>${name} <span class="muted">@ ${key}</span></h1>
<div class="card"><dl class="props">
<dt>Entity ID</dt><dd class="mono">${e.rec.instanceId}</dd>
<dt>Last modified</dt><dd>${time(e.rec.lastUpdatedAt)}</dd>
<dt>Locked by</dt><dd>${lockCell(hub, e)}</dd>
<dt>Backlog</dt><dd>${e.backlog} operation(s) queued</dd>
</dl></div>
<div class="payload card"><h2>State</h2>${e.data.state === undefined ? html`<p class="muted">No state</p>` : html`<button type="button" class="copy" data-copy="state">Copy</button><pre id="state">${prettyJson(e.data.state)}</pre>`}</div>
${viewer.may("write", hub) ? html`<section class="actions card" aria-label="Actions">
<form method="post" action="${base}/signal"><label>Operation <input type="text" name="operation" required></label><label>Input (JSON) <input type="text" name="input"></label><button type="submit">Signal</button></form>
<form method="post" action="${base}/delete" data-confirm="Delete ${e.rec.instanceId} and its state?"><button type="submit" class="danger">Delete</button></form>
</section>` : ""}`);
}
