// The retention scenarios: HelloCities5 on a scheduler whose store holds N instances that finished
// 60 days ago. `purge`: the default policy (30 days) purges them in the background during the
// phase; `kept`: the same data with retention off (--retention-days 0), the figure to compare with.
import * as fs from "fs";
import { DAY_MS } from "../../src/core/retention";
import { seedFinished } from "../helpers/finished-instances";
import type { Row, ScenarioContext } from "./scenarios";
import { newDataDir, Target } from "./targets";

const templates = new Map<number, { dir: string; completedAt: number }>();

/** A data directory holding n instances finished 60 days ago: written once per n, copied for each scenario. */
export function oldInstancesDataDir(n: number): string {
  let t = templates.get(n);
  if (!t) {
    const completedAt = Date.now() - 60 * DAY_MS;
    const dir = newDataDir();
    const started = Date.now();
    process.stderr.write(`  writing ${n} instances that finished 60 days ago into a SQLite data directory\n`);
    seedFinished(dir, "default", n, completedAt);
    process.stderr.write(`  written in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    t = { dir, completedAt };
    templates.set(n, t);
  }
  const copy = newDataDir();
  fs.cpSync(t.dir, copy, { recursive: true });
  return copy;
}

/** The scheduler's serve flags for a retention scenario. */
export function retentionServeArgs(purging: boolean): string[] {
  return purging ? [] : ["--retention-days", "0"];
}

/** How many of the old instances are still stored, through the dashboard's JSON API. */
async function oldLeft(target: Target): Promise<number> {
  const cutoff = new Date(Date.now() - 30 * DAY_MS).toISOString();
  const res = await fetch(`http://localhost:${target.dashboardPort}/api/v1/taskhubs/orchestrations/query`, {
    method: "POST", headers: { "x-taskhub": "default", "content-type": "application/json" },
    body: JSON.stringify({ filter: { completedAt: { end: cutoff } }, pagination: { startIndex: 0, count: 1 } }),
  });
  if (!res.ok) throw new Error(`counting the old instances: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { totalCount: number }).totalCount;
}

/** Runs the HelloCities5 scenario, and says how many old instances were purged meanwhile. */
export async function helloBesideOldInstances(target: Target, ctx: ScenarioContext, purging: boolean, hello: (t: Target, c: ScenarioContext) => Promise<Partial<Row>>): Promise<Partial<Row>> {
  if (target.dashboardPort === undefined) throw new Error("the retention scenarios count through the dashboard, which is off");
  const n = ctx.sizes[purging ? "purge" : "kept"];
  const before = await oldLeft(target);
  const row = await hello(target, ctx);
  const after = await oldLeft(target);
  const notes = purging
    ? `${ctx.sizes.hello} HelloCities5 while the scheduler purged ${before - after} of ${n} expired instances (${n - before} before the phase, ${after} left after it)`
    : `${ctx.sizes.hello} HelloCities5 beside ${n} instances finished 60 days ago, retention off (${after} kept)`;
  return { ...row, notes };
}
