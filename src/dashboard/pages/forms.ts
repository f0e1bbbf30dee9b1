// Pages with a form: a new orchestration, and the confirmation a destructive action asks for.
import { Caller } from "../caller";
import { HubAccess } from "../hub-access";
import { html, Html } from "../html";
import { hubPath, page } from "../layout";

export interface NewOrchestrationForm {
  name: string;
  instanceId: string;
  input: string;
  startAt: string;
  tags: string;
}

export const EMPTY_FORM: NewOrchestrationForm = { name: "", instanceId: "", input: "", startAt: "", tags: "" };

export function newOrchestrationPage(access: HubAccess, viewer: Caller, hub: string, form: NewOrchestrationForm, error?: string): Html {
  return page({ title: `New orchestration in ${hub}`, hub, hubs: access.hubNames(), viewer, section: "new", error }, html`
<h1>New orchestration <span class="muted">in ${hub}</span></h1>
<form class="card" method="post" action="${hubPath(hub, "/orchestrations")}">
<fieldset${viewer.may("write", hub) ? "" : html` disabled`}>
<p><label class="field"><span>Orchestration name (required)</span><input type="text" name="name" value="${form.name}" required></label></p>
<p><label class="field"><span>Instance ID (optional; a new id when empty)</span><input type="text" name="instanceId" value="${form.instanceId}"></label></p>
<p><label class="field"><span>Input (JSON, optional)</span><textarea name="input">${form.input}</textarea></label></p>
<p><label class="field"><span>Start at (UTC, optional)</span><input type="datetime-local" name="startAt" value="${form.startAt}" step="1"></label></p>
<p><label class="field"><span>Tags (one key=value per line, optional)</span><textarea name="tags">${form.tags}</textarea></label></p>
<button type="submit" class="primary">Start</button>
</fieldset>
</form>`);
}

/** Asks before a destructive action; the form posts the same fields again with confirm=yes. */
export function confirmPage(access: HubAccess, viewer: Caller, hub: string, question: string, action: string, fields: [string, string][]): Html {
  return page({ title: "Confirm", hub, hubs: access.hubNames(), viewer, section: "orchestrations" }, html`
<h1>Confirm</h1>
<form class="card" method="post" action="${action}">
<p>${question}</p>
${fields.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger">Yes, go ahead</button>
<a class="button" href="${hubPath(hub, "/orchestrations")}">Cancel</a>
</form>`);
}
