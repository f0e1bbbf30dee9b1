// POST …/orchestrations/{id}/history and …/addhistoryevents: the clients act on an instance by
// sending the history event the action leads to (executionSuspended, eventRaised, …). Each is
// checked here, then done through the engine's own operation for it.
import { HttpError, statusOf } from "../http";
import { HubAccess } from "../hub-access";
import { isObject, Json, JsonObject, optPayload, optString } from "./request-body";

export type HistoryAction =
  | { kind: "executionSuspended" | "executionResumed" | "executionTerminated" | "executionRewound"; reason?: string }
  | { kind: "eventRaised"; name: string; input?: string };

const KINDS = ["executionSuspended", "executionResumed", "executionTerminated", "executionRewound", "eventRaised"] as const;

function reasonOf(o: JsonObject, kind: string): string | undefined {
  // The Go CLI sends "reason"; the protobuf events carry it as "input" (terminate) — accept both.
  const r = o.reason ?? o.input;
  if (r === undefined || r === null) return undefined;
  return optString(r, `${kind}.reason`) || undefined;
}

export function parseHistoryAction(body: Json | undefined): HistoryAction {
  if (!isObject(body)) throw new HttpError(400, `The body must be one history event, e.g. {"executionSuspended": {"reason": "…"}} or {"eventRaised": {"name": "Approval", "input": "true"}}`);
  const present = KINDS.filter((k) => body[k] !== undefined && body[k] !== null);
  if (present.length !== 1) {
    const unknown = Object.keys(body).filter((k) => !(KINDS as readonly string[]).includes(k) && k !== "eventId" && k !== "timestamp");
    throw new HttpError(400, present.length > 1
      ? `Send one history event per request, not ${present.join(" and ")}`
      : `Unsupported history event${unknown.length ? ` '${unknown.join("', '")}'` : ""}: send one of ${KINDS.join(", ")}`);
  }
  const kind = present[0];
  const fields = body[kind];
  if (!isObject(fields)) throw new HttpError(400, `${kind} must be an object`);
  if (kind === "eventRaised") {
    const name = optString(fields.name, "eventRaised.name")?.trim();
    if (!name) throw new HttpError(400, "eventRaised.name (the event's name) must not be empty; nothing was sent");
    return { kind, name, input: optPayload(fields.input, "eventRaised.input") };
  }
  return { kind, reason: reasonOf(fields, kind) };
}

export function applyHistoryAction(access: HubAccess, hub: string, id: string, a: HistoryAction): Promise<void> {
  switch (a.kind) {
    case "executionSuspended": return access.suspend(hub, id, a.reason);
    case "executionResumed": return access.resume(hub, id, a.reason);
    case "executionTerminated": return access.terminate(hub, id, a.reason);
    case "executionRewound": return access.rewind(hub, id, a.reason);
    case "eventRaised": return access.raiseEvent(hub, id, a.name, a.input);
  }
}

/** {"events": {"<id>": <event>, …}}: each applied on its own; resolves with the ids that were refused. */
export async function applyHistoryActions(access: HubAccess, hub: string, body: Json | undefined): Promise<string[]> {
  const events = isObject(body) ? body.events : undefined;
  if (!isObject(events) || Object.keys(events).length === 0) {
    throw new HttpError(400, `Send {"events": {"<instanceId>": {"executionSuspended": {"reason": "…"}}, …}} with at least one instance`);
  }
  // Every event is checked before any is applied, so a bad one changes nothing.
  const actions = Object.entries(events).map(([id, e]) => [id, parseHistoryAction(e)] as const);
  const refused: string[] = [];
  for (const [id, a] of actions) {
    try {
      await applyHistoryAction(access, hub, id, a);
    } catch (err) {
      if (statusOf(err) >= 500) throw err;
      refused.push(id);
    }
  }
  return refused;
}
