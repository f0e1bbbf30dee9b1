// The per-step trace: HelloCities5 one at a time (as `latency`) on a scheduler logging each work item
// at debug level as JSON, then from those lines, for every work item: dispatch → completion received
// (the worker's time, with both transport legs), received → committed (the completion's commit), and
// committed → the instance's next dispatch (the scheduler's turnaround). The SDK worker runs in
// another process, so when it received the item is not known here; its share is inside the first.
import type { Row, ScenarioContext } from "./scenarios";
import type { Target } from "./targets";

/** dts serve's flags for this scenario. */
export const STEPS_SERVE_ARGS = ["--log-level", "debug", "--log-format", "json"];

interface Moments {
  kind: string;
  instanceId: string;
  dispatched?: number;
  received?: number;
  committed?: number;
}

const MOMENT = /work item (dispatched|completion received|completed)\b/;

/** Each work item's moments, from the scheduler's JSON log lines. */
export function workItemMoments(output: string): Moments[] {
  const items = new Map<string, Moments>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    let o: { time?: string; msg?: string; workItem?: string; instanceId?: string };
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    const m = o.msg && o.workItem && o.time ? MOMENT.exec(o.msg) : null;
    if (!m) continue;
    let item = items.get(o.workItem!);
    if (!item) items.set(o.workItem!, (item = { kind: o.msg!.split(" ")[0], instanceId: o.instanceId ?? "" }));
    const at = Date.parse(o.time!);
    if (m[1] === "dispatched") item.dispatched = at;
    else if (m[1] === "completion received") item.received = at;
    else item.committed = at;
    if (o.instanceId) item.instanceId = o.instanceId;
  }
  return [...items.values()];
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The three legs' medians (ms) per kind, and of the commit → next dispatch turnaround. */
export function stepBreakdown(items: Moments[]): string {
  const parts: string[] = [];
  for (const kind of ["orchestration", "activity"]) {
    const of = items.filter((i) => i.kind === kind && i.dispatched !== undefined && i.received !== undefined && i.committed !== undefined);
    if (of.length === 0) continue;
    parts.push(`${kind} (${of.length}): dispatch→received ${median(of.map((i) => i.received! - i.dispatched!))} ms, received→committed ${median(of.map((i) => i.committed! - i.received!))} ms`);
  }
  // Committed → the same instance's next dispatch: the engine's own time between steps.
  const byInstance = new Map<string, Moments[]>();
  for (const i of items) if (i.instanceId) byInstance.set(i.instanceId, [...(byInstance.get(i.instanceId) ?? []), i]);
  const gaps: number[] = [];
  for (const list of byInstance.values()) {
    const dispatches = list.flatMap((i) => (i.dispatched !== undefined ? [i.dispatched] : [])).sort((a, b) => a - b);
    for (const i of list) {
      if (i.committed === undefined) continue;
      const next = dispatches.find((d) => d >= i.committed!);
      if (next !== undefined) gaps.push(next - i.committed);
    }
  }
  if (gaps.length > 0) parts.push(`committed→next dispatch ${median(gaps)} ms (${gaps.length})`);
  return `medians, 1 ms log resolution: ${parts.join("; ")}`;
}

/** Runs `latency` on a debug-logging scheduler and adds the per-step medians to its row's notes. */
export async function steps(target: Target, ctx: ScenarioContext, latency: (t: Target, c: ScenarioContext) => Promise<Partial<Row>>): Promise<Partial<Row>> {
  const row = await latency(target, ctx);
  return { ...row, notes: stepBreakdown(workItemMoments(target.schedulerOutput())) };
}
