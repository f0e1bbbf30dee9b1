// What the dashboard's forms do: each action checks its input, calls the engine once, waits (briefly)
// for the state it leads to so the next page shows it, and answers with where to go next. Input that
// is not valid is refused with a message and nothing is created or changed.
import { InstanceRecord, isTerminal, Status } from "../core/model";
import { HttpError } from "./http";
import { HubAccess, NewOrchestration } from "./hub-access";
import { NewOrchestrationForm } from "./pages/forms";
import { parseTag } from "./pages/list-query";

export const DONE_MESSAGES: Record<string, string> = {
  started: "Started.", suspended: "Suspended.", resumed: "Resumed.", terminated: "Terminated.", raised: "Event raised.",
  restarted: "Restarted.", rewound: "Rewound: it runs again from where it failed.", purged: "Purged.", signaled: "Signal sent.", deleted: "Deleted.",
  saved: "Saved: the policy applies from the next sweep, which starts now.",
  paused: "Paused.", created: "Schedule created.",
};

/** JSON text as given, or undefined when empty; anything else that does not parse is refused. */
export function jsonField(text: string | null, field: string): string | undefined {
  const t = (text ?? "").trim();
  if (!t) return undefined;
  try {
    JSON.parse(t);
  } catch (err) {
    throw new HttpError(400, `${field} is not valid JSON (${(err as Error).message}); nothing was done`);
  }
  return t;
}

export function parseNewOrchestration(form: NewOrchestrationForm): NewOrchestration {
  const name = form.name.trim();
  if (!name) throw new HttpError(400, "Give the orchestration's name; nothing was created");
  const o: NewOrchestration = { name, instanceId: form.instanceId.trim() || undefined, input: jsonField(form.input, "The input") };
  if (form.startAt.trim()) {
    const at = Date.parse(/[zZ]$/.test(form.startAt) ? form.startAt : `${form.startAt}Z`);
    if (Number.isNaN(at)) throw new HttpError(400, "Start at must be a date and time (UTC); nothing was created");
    o.scheduledStartAt = at;
  }
  const tags: Record<string, string> = {};
  for (const line of form.tags.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const { key, value } = parseTag(line, "; nothing was created");
    tags[key] = value;
  }
  if (Object.keys(tags).length) o.tags = tags;
  return o;
}

const S = Status;
type Action = (access: HubAccess, hub: string, id: string, form: URLSearchParams) => Promise<{ done: string; instanceId?: string }>;

/** The instance actions by their path segment. */
export const INSTANCE_ACTIONS: Record<string, Action> = {
  suspend: async (a, hub, id, f) => {
    await a.suspend(hub, id, f.get("reason") || undefined);
    await a.settle(hub, id, (r) => r.status === S.ORCHESTRATION_STATUS_SUSPENDED || isTerminal(r.status));
    return { done: "suspended" };
  },
  resume: async (a, hub, id, f) => {
    await a.resume(hub, id, f.get("reason") || undefined);
    await a.settle(hub, id, (r) => r.status !== S.ORCHESTRATION_STATUS_SUSPENDED);
    return { done: "resumed" };
  },
  terminate: async (a, hub, id, f) => {
    await a.terminate(hub, id, f.get("reason") || undefined);
    await a.settle(hub, id, (r) => isTerminal(r.status));
    return { done: "terminated" };
  },
  "raise-event": async (a, hub, id, f) => {
    const name = (f.get("name") ?? "").trim();
    if (!name) throw new HttpError(400, "Give the event's name; no event was raised");
    await a.raiseEvent(hub, id, name, jsonField(f.get("data"), "The event data"));
    return { done: "raised" };
  },
  restart: async (a, hub, id) => {
    const instanceId = await a.restart(hub, id, false);
    await a.settle(hub, instanceId, (r: InstanceRecord) => r.status !== S.ORCHESTRATION_STATUS_PENDING);
    return { done: "restarted", instanceId };
  },
  rewind: async (a, hub, id, f) => {
    await a.rewind(hub, id, f.get("reason") || undefined);
    await a.settle(hub, id, (r) => r.status !== S.ORCHESTRATION_STATUS_FAILED);
    return { done: "rewound" };
  },
};

/** Bulk terminate or purge; instances whose status does not allow it are skipped. Returns how many were acted on. */
export async function bulkAction(access: HubAccess, hub: string, action: string, ids: string[]): Promise<number> {
  if (action === "purge") return access.purge(hub, await access.finished(hub, ids));
  if (action !== "terminate") throw new HttpError(400, `Unknown bulk action '${action}': use terminate or purge`);
  let n = 0;
  for (const id of ids) {
    const r = await access.instance(hub, id);
    if (!r || isTerminal(r.status)) continue;
    await access.terminate(hub, id, "Terminated from the dashboard (bulk)");
    n++;
  }
  return n;
}
