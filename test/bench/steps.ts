// The per-step trace: HelloCities5 one at a time (as `latency`) on a scheduler logging each work item
// at debug level as JSON, with SDK workers recording when they receive and complete each one
// (worker-trace.ts), and the client's own moments. One instance runs at a time, so its path is one
// chain: the start call → the first dispatch → (each work item: out to the worker → the worker's run
// → its completion back → the next dispatch, which with speculative dispatch goes out while the
// completion's commit is written and otherwise after it) → the last completion's commit → the
// client's wait returning. The notes give, per instance, the median of each leg's total, and per
// work item kind the median of each leg, the commit among them. Every moment is an epoch
// millisecond to the microsecond, from one machine.
import type { ClientRun, Row, ScenarioContext } from "./scenarios";
import type { Target } from "./targets";
import { WorkerTraceLine, workerMoments } from "./worker-trace";

/** dts serve's flags for this scenario. */
export const STEPS_SERVE_ARGS = ["--log-level", "debug", "--log-format", "json"];

interface Moments {
  kind: string;
  instanceId: string;
  dispatched?: number;
  received?: number;
  committed?: number;
  /** Its group commit's figures: the whole write, and the store's sync to disk within it. */
  group?: { durationMs: number; syncMs?: number };
  worker?: { received?: number; sent?: number; answered?: number };
}

const MOMENT = /work item (dispatched|completion received|completed)\b/;

/**
 * Each work item's moments, by completion token, from the scheduler's JSON log lines. A group
 * commit's line comes just before the completed lines of the work items it carried.
 */
export function workItemMoments(output: string): Map<string, Moments> {
  const items = new Map<string, Moments>();
  let group: Moments["group"];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    let o: { time?: string; at?: number; msg?: string; workItem?: string; instanceId?: string; durationMs?: number; syncMs?: number };
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (o.msg?.startsWith("group commit written") && o.durationMs !== undefined) group = { durationMs: o.durationMs, syncMs: o.syncMs };
    const m = o.msg && o.workItem && o.time ? MOMENT.exec(o.msg) : null;
    if (!m) continue;
    let item = items.get(o.workItem!);
    if (!item) items.set(o.workItem!, (item = { kind: o.msg!.split(" ")[0], instanceId: o.instanceId ?? "" }));
    const at = o.at ?? Date.parse(o.time!);
    if (m[1] === "dispatched") item.dispatched = at;
    else if (m[1] === "completion received") item.received = at;
    else {
      item.committed = at;
      item.group = group;
    }
    if (o.instanceId) item.instanceId = o.instanceId;
  }
  return items;
}

/** Adds the worker's moments to the scheduler's, by completion token. */
function joinWorker(items: Map<string, Moments>, lines: WorkerTraceLine[]): void {
  for (const l of lines) {
    const item = items.get(l.token);
    if (item) (item.worker ??= {})[l.moment] = l.at;
  }
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const ms = (x: number | undefined) => (x === undefined ? "?" : x.toFixed(1));

type Leg = [name: string, from: (i: Moments) => number | undefined, to: (i: Moments) => number | undefined];

/** A work item's legs to the scheduler and back, in order; with the worker's moments split in three. */
function throughLegs(withWorker: boolean): Leg[] {
  return withWorker
    ? [["out", (i) => i.dispatched, (i) => i.worker?.received], ["worker", (i) => i.worker?.received, (i) => i.worker?.sent], ["back", (i) => i.worker?.sent, (i) => i.received]]
    : [["dispatch→received", (i) => i.dispatched, (i) => i.received]];
}

const COMMIT: Leg = ["commit", (i) => i.received, (i) => i.committed];

const span = (leg: Leg, i: Moments) => {
  const [, from, to] = leg;
  const a = from(i), b = to(i);
  return a === undefined || b === undefined ? undefined : b - a;
};

/** Per instance, the legs' totals along its chain: they add up to its end-to-end time. */
function instanceTotals(run: ClientRun, items: Moments[], through: Leg[]): Map<string, number> | undefined {
  const chain = items.filter((i) => i.dispatched !== undefined && i.committed !== undefined).sort((a, b) => a.dispatched! - b.dispatched!);
  if (chain.length === 0) return undefined;
  const totals = new Map<string, number>();
  const add = (name: string, x: number | undefined) => x !== undefined && totals.set(name, (totals.get(name) ?? 0) + x);
  add("start call→first dispatch", chain[0].dispatched! - run.calledAt);
  for (const [n, item] of chain.entries()) {
    for (const leg of through) add(`${item.kind} ${leg[0]}`, span(leg, item));
    const next = chain[n + 1];
    if (next) add(`${item.kind} received→next dispatch`, next.dispatched! - item.received!);
    else add("last commit", span(COMMIT, item));
  }
  add("last commit→client", run.completedAt - chain[chain.length - 1].committed!);
  add("total", run.completedAt - run.calledAt);
  return totals;
}

/** The notes: per instance the median of each leg's total, then per work item kind each leg's median. */
export function stepBreakdown(items: Map<string, Moments>, runs: ClientRun[]): string {
  const all = [...items.values()];
  const withWorker = all.some((i) => i.worker?.received !== undefined);
  const through = throughLegs(withWorker);
  const legs = [...through, COMMIT];
  const byInstance = new Map<string, Moments[]>();
  for (const i of all) byInstance.set(i.instanceId, [...(byInstance.get(i.instanceId) ?? []), i]);
  const totals = runs.flatMap((r) => instanceTotals(r, byInstance.get(r.instanceId) ?? [], through) ?? []);
  const names = [...new Set(totals.flatMap((t) => [...t.keys()]))];
  const perInstance = names.map((n) => `${n} ${ms(median(totals.map((t) => t.get(n) ?? 0)))}`);
  const startAck = median(runs.map((r) => r.startedAt - r.calledAt));
  const perItem: string[] = [];
  for (const kind of ["orchestration", "activity"]) {
    const of = all.filter((i) => i.kind === kind && i.committed !== undefined);
    if (of.length === 0) continue;
    const answered = withWorker ? `, commit→worker has the answer ${ms(median(of.flatMap((i) => (i.worker?.answered ? [i.worker.answered - i.committed!] : []))))}` : "";
    const groups = of.flatMap((i) => (i.group ? [i.group] : []));
    const syncs = groups.flatMap((g) => (g.syncMs === undefined ? [] : [g.syncMs]));
    const group = groups.length === 0 ? "" : ` (its group's write ${ms(median(groups.map((g) => g.durationMs)))}${syncs.length ? `, the disk sync ${ms(median(syncs))}` : ""})`;
    const legText = legs.map((l) => `${l[0]} ${ms(median(of.flatMap((i) => span(l, i) ?? [])))}${l[0] === "commit" ? group : ""}`);
    perItem.push(`${kind} (${of.length}): ${legText.join(", ")}${answered}`);
  }
  return `medians, ms; per instance (${totals.length}), each leg's sum: ${perInstance.join(", ")}; start acknowledged ${ms(startAck)} after the call` +
    `; per work item: ${perItem.join("; ")}`;
}

/** Runs `latency` on a debug-logging scheduler (and tracing workers) and adds the legs' medians to its row's notes. */
export async function steps(target: Target, ctx: ScenarioContext, latency: (t: Target, c: ScenarioContext, record: (run: ClientRun) => void) => Promise<Partial<Row>>): Promise<Partial<Row>> {
  const runs: ClientRun[] = [];
  const row = await latency(target, ctx, (run) => runs.push(run));
  const items = workItemMoments(target.schedulerOutput());
  joinWorker(items, workerMoments(target.workerTrace()));
  return { ...row, notes: stepBreakdown(items, runs) };
}
