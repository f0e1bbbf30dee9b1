// The dashboard port: every route of the JSON API's table (api/json-api.ts), then every page and
// form action, given requests made at random (seeded, so a failure can be replayed): path
// parameters naming real instances, entities and schedules or junk, bad percent-encoding, the
// query parameters, body and form fields the dashboard reads (collected from its source, so fields
// added later are fuzzed too) with values of every JSON type, bodies that are not JSON or not
// objects, odd content types and hub headers, and valid bodies changed a little. Each API answer is
// a success or a JSON error with a 4xx status and a message; each page a success, a redirect or a
// 4xx page: never a 500, a hang or a crash. After it, the server still runs orchestrations, and
// restarted on its data it serves what it had.
import * as fs from "fs";
import * as path from "path";
import { EntityInstanceId, OrchestrationContext, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { ROUTES } from "../../src/dashboard/api/json-api";
import { ApiRoute } from "../../src/dashboard/api/api-call";
import { INSTANCE_ACTIONS } from "../../src/dashboard/actions";
import { EMPTY_FORM } from "../../src/dashboard/pages/forms";
import { EMPTY_SCHEDULE_FORM } from "../../src/dashboard/pages/schedules";
import { RETENTION_FIELDS } from "../../src/core/retention";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { echoRuns, INTS, restartSummary, Rng, STRINGS } from "../helpers/fuzz";
import { RawClient } from "../helpers/raw";
import { addSampleWork, client, completed, worker } from "../helpers/sdk";
import { stopAll } from "../helpers/teardown";

/* eslint-disable @typescript-eslint/no-explicit-any */

const REQUESTS_PER_ROUTE = Number(process.env.DTS_FUZZ_HTTP ?? 40);
/** The pages and form actions under /hubs/<hub>/ (and the few above), with :parameters. */
const PAGES: { method: "GET" | "POST"; path: string }[] = [
  ...["", "hubs/:hub", "hubs/:hub/orchestrations", "hubs/:hub/orchestrations/:id", "hubs/:hub/orchestrations/:id/history.json", "hubs/:hub/new",
    "hubs/:hub/entities", "hubs/:hub/entities/:id", "hubs/:hub/workers", "hubs/:hub/retention", "hubs/:hub/schedules", "switch", "metrics", "healthz", "readyz",
    "subscriptions/s/schedulers/x/taskhubs/:hub/orchestrations/:id", "assets/:id"].map((path) => ({ method: "GET" as const, path })),
  ...["hubs/:hub/orchestrations", "hubs/:hub/bulk", "hubs/:hub/retention", "hubs/:hub/orchestrations/:id/purge", "hubs/:hub/orchestrations/:id/:action",
    "hubs/:hub/entities/:id/signal", "hubs/:hub/entities/:id/delete", "hubs/:hub/schedules", "hubs/:hub/schedules/:id/:action"].map((path) => ({ method: "POST" as const, path })),
];
const HUB = "fuzz";
const MAIN_HUB = "main";
const HUBS = ["--store", "sqlite", "--hubs", `${MAIN_HUB},${HUB}`];
const PREFIXES = ["/v1/taskhubs", "/api/v1/taskhubs"];

/** Field, query and form names the dashboard reads, found in its source: pick(o, "a", "A"), opt…(v, "name"), searchParams.get("q"), form.get("f"). */
function namesInSource(): { fields: string[]; queries: string[] } {
  const dir = path.resolve(__dirname, "../../../src/dashboard");
  const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
  const fields = new Set<string>();
  const queries = new Set<string>();
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    for (const m of text.matchAll(/pick\(([^)]*)\)/g)) for (const s of m[1].matchAll(/"([A-Za-z]+)"/g)) fields.add(s[1]);
    for (const m of text.matchAll(/opt(?:String|Boolean|Integer|Time|StringMap|Payload)\([^;]*?, "([A-Za-z.]+)"/g)) fields.add(m[1]);
    for (const m of text.matchAll(/(?:searchParams|\bq|\bform|\bf)\.get(?:All)?\("([A-Za-z]+)"\)/g)) queries.add(m[1]);
  }
  return { fields: [...fields].sort(), queries: [...queries].sort() };
}

/** Values of every JSON type, and text the API parses (times, statuses, durations, payloads). */
const TEXTS = [...STRINGS, "2026-12-01T08:30:00Z", "yesterday", "Running", "COMPLETED", "ORCHESTRATION_STATUS_FAILED", "30s", "PT1H", "00:00:30", "*/5 * * * *", "Europe/Oslo", "true", "1e999"];

function randomJson(rng: Rng, names: string[], real: Record<string, string[]>, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([...INTS, 0.5, -1e300, 1e21, Number.MAX_SAFE_INTEGER + 2]);
    case 3:
    case 4:
      return rng.pick(TEXTS);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, names, real, depth + 1));
    default:
      return randomObject(rng, names, real, depth + 1);
  }
}

/** A value of the kind a field of this name takes, so that some requests get past the checks. */
function plausible(name: string, rng: Rng, real: Record<string, string[]>): unknown {
  const n = name.toLowerCase();
  if (/ids$/.test(n)) return Array.from({ length: 1 + rng.int(3) }, () => rng.pick(real.id));
  if (/id$/.test(n)) return rng.chance(0.7) ? rng.pick(real.id) : `new-${rng.int(1000)}`;
  if (/name$/.test(n)) return rng.pick(["Hello", "waitForApproval", "Approval", "Unknown", "é日本"]);
  if (/(at|from|to|time|timestamp)$/.test(n)) return new Date(Date.now() + rng.pick([-86_400_000, -1000, 0, 5000, 3_600_000])).toISOString();
  if (/^(restart|fetch|start)/.test(n) || /late$/.test(n)) return rng.chance(0.5);
  if (/statuses$/.test(n)) return [rng.pick(["Running", "Completed", "Failed", "Terminated", "Pending", "Suspended"])];
  if (/status$/.test(n)) return rng.pick(["Running", "Completed", "Failed"]);
  if (n === "interval") return rng.pick(["1h", "30s", 60, "00:10:00"]);
  if (n === "cron") return rng.pick(["*/5 * * * *", "0 9 * * 1-5"]);
  if (n === "timezone") return rng.pick(["UTC", "Europe/Oslo"]);
  if (n === "catchup") return rng.pick(["skip", "once", "all"]);
  if (n === "tags") return { team: rng.pick(["billing", "é"]) };
  if (/count|index$/.test(n)) return rng.pick([0, 1, 10]);
  if (/input|output/.test(n)) return rng.pick(['"Oslo"', '{"a":[1,2]}', "null", 42]);
  return rng.pick(["a reason", "v1", ""]);
}

/**
 * An object with some of the API's field names (a dotted one nested: eventRaised.name), their
 * values random or, in a third of the objects, of the kind each field takes.
 */
function randomObject(rng: Rng, names: string[], real: Record<string, string[]>, depth = 0): Record<string, unknown> {
  const out: Record<string, any> = {};
  const fitting = rng.chance(1 / 3);
  for (let n = 1 + rng.int(5); n > 0; n--) {
    const keys = rng.chance(0.9) ? rng.pick(names).split(".") : [rng.pick(STRINGS).slice(0, 40)];
    let at = out;
    for (const k of keys.slice(0, -1)) at = at[k] = typeof at[k] === "object" && at[k] ? at[k] : {};
    const last = keys[keys.length - 1];
    at[last] = fitting && rng.chance(0.9) ? plausible(last, rng, real) : randomJson(rng, names, real, depth);
  }
  return out;
}

/**
 * A valid body for routes that take one, which the fuzz then changes a little (a field set to
 * another value, removed, or added), so that requests reach the checks past the first. Import
 * bodies are the hub's own export, taken before the fuzz (`archive`).
 */
function examples(archive: string[]): Record<string, () => unknown> {
  let made = 0;
  return {
    "POST orchestrations": () => ({ name: "Hello", instanceId: `made-${++made}`, input: '"Oslo"' }),
    "POST schedules": () => ({ scheduleId: "sch-2", orchestrationName: "Hello", interval: "1h", input: '"Bergen"' }),
    "PUT retention": () => ({ days: 30, completedDays: 7, failedDays: 0 }),
    "POST orchestrations/addhistoryevents": () => ({ events: { "fz-0": { eventRaised: { name: "Approval", input: "true" } }, "fz-1": { executionSuspended: { reason: "fuzz" } } } }),
    "POST orchestrations/:id/history": () => ({ eventRaised: { name: "Approval", input: "false" } }),
    "POST orchestrations/forceterminate": () => ({ instanceIds: ["fz-1"], reason: "fuzz" }),
    "POST orchestrations/purge": () => ({ instanceIds: ["fz-2"] }),
    "DELETE orchestrations/purge": () => ({ instanceIds: ["made-1"] }),
    "POST orchestrations/query": () => ({ filter: { runtimeStatus: ["Running"] }, pagination: { count: 10 } }),
    "POST entities/query": () => ({ instanceIdStartsWith: "@counter@", includeState: true }),
    "DELETE entities/delete": () => ({ instanceIds: ["@counter@a"] }),
    "POST orchestrations/:id/restart": () => ({ restartWithNewInstanceId: false }),
    "POST import": () => archive.map((line) => JSON.parse(line)),
  };
}

/** The example changed in one to three places, each a field set to another value, removed, or added. */
function mutate(value: unknown, rng: Rng, names: string[], real: Record<string, string[]>): unknown {
  for (let n = 1 + rng.int(3); n > 0; n--) {
    // A random path down the value to an object (or array) to change one entry of.
    let at: any = value;
    for (let depth = 0; depth < 6 && typeof at === "object" && at !== null; depth++) {
      const keys = Object.keys(at);
      if (!keys.length || rng.chance(0.3)) break;
      const next = at[rng.pick(keys)];
      if (typeof next !== "object" || next === null) break;
      at = next;
    }
    if (typeof at !== "object" || at === null) return randomJson(rng, names, real);
    const keys = Object.keys(at);
    const key = keys.length && rng.chance(0.8) ? rng.pick(keys) : rng.pick(names).split(".").pop()!;
    if (rng.chance(0.2)) delete at[key];
    else at[key] = rng.chance(0.5) ? plausible(key, rng, real) : randomJson(rng, names, real);
  }
  return value;
}

/** A path segment: encoded as clients do, or left as bytes that do not decode. */
function segment(value: string, rng: Rng): string {
  if (rng.chance(0.05)) return rng.pick(["%", "%zz", "%ED%A0%80", "%C0%AF", "%00"]);
  try {
    return encodeURIComponent(value);
  } catch {
    return "%ED%A0%80"; // a lone surrogate, as its UTF-8 bytes would be
  }
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function randomRequest(route: ApiRoute, rng: Rng, base: string, names: { fields: string[]; queries: string[] }, real: Record<string, string[]>, example?: () => unknown): FuzzRequest {
  const parts = route.path.split("/").map((p) => {
    if (!p.startsWith(":")) return rng.chance(0.03) ? p.toUpperCase() : p;
    const known = real[p.slice(1)] ?? real.id;
    return segment(rng.chance(0.6) ? rng.pick(known) : rng.pick(STRINGS), rng);
  });
  const query = new URLSearchParams();
  for (let n = rng.int(4); n > 0; n--) query.append(rng.pick(names.queries), String(rng.chance(0.7) ? rng.pick(TEXTS) : randomJson(rng, names.fields, real)));
  const headers: Record<string, string> = {};
  // Header values fetch can send (no NUL, Latin-1 only).
  const hub = rng.chance(0.9) ? HUB : rng.pick(["", "nope", MAIN_HUB, ` ${HUB} `, "x".repeat(300)]);
  if (hub || rng.chance(0.5)) headers["x-taskhub"] = hub;
  let body: string | undefined;
  if (route.method !== "GET") {
    const shape = rng.int(10);
    if (example && shape < 5) {
      const value = rng.chance(0.1) ? example() : mutate(example(), rng, names.fields, real);
      // Import takes NDJSON: one archived instance per line.
      body = route.path === "import" && Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join("\n") : JSON.stringify(value);
    } else if (shape < 7) body = JSON.stringify(randomObject(rng, names.fields, real));
    else if (shape === 7) body = JSON.stringify(Array.from({ length: rng.int(4) }, () => rng.pick([...real.id, ...STRINGS])));
    else if (shape === 8) body = rng.pick(["{", "", "null", "[]", "1e999", '{"a":"\\u0000"}', "x".repeat(5000), '{"input":' + '['.repeat(2000) + "]".repeat(2000) + "}"]);
    headers["content-type"] = rng.chance(0.85) ? "application/json" : rng.pick(["text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json", "application/x-ndjson"]);
  }
  const q = query.toString();
  return { method: route.method, url: `${base}${rng.pick(PREFIXES)}/${parts.join("/")}${q ? `?${q}` : ""}`, headers, body };
}

/** A page or form action: its :parameters filled, query and form fields at random, from this origin or another. */
function randomPageRequest(page: { method: string; path: string }, rng: Rng, names: { fields: string[]; queries: string[] }, real: Record<string, string[]>): FuzzRequest {
  const actions = [...Object.keys(INSTANCE_ACTIONS), "pause", "resume", "delete", "purge", "nope"];
  const parts = page.path.split("/").filter(Boolean).map((p) => {
    if (p === ":hub") return segment(rng.chance(0.9) ? HUB : rng.pick(["nope", MAIN_HUB, "é", "%"]), rng);
    if (p === ":action") return segment(rng.chance(0.9) ? rng.pick(actions) : rng.pick(STRINGS), rng);
    if (p === ":id") return segment(rng.chance(0.6) ? rng.pick(real.id) : rng.pick(STRINGS), rng);
    return p;
  });
  const query = new URLSearchParams();
  for (let n = rng.int(4); n > 0; n--) query.append(rng.pick(names.queries), String(rng.chance(0.7) ? rng.pick(TEXTS) : randomJson(rng, names.fields, real)));
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (page.method === "POST") {
    const fields = [...names.queries, ...Object.keys(EMPTY_FORM), ...Object.keys(EMPTY_SCHEDULE_FORM), ...RETENTION_FIELDS, "confirm"];
    const form = new URLSearchParams();
    for (let n = rng.int(6); n > 0; n--) {
      const name = rng.pick(fields);
      const value = rng.chance(0.5) ? plausible(name, rng, real) : rng.chance(0.5) ? rng.pick(TEXTS) : randomJson(rng, names.fields, real);
      form.append(name, typeof value === "string" ? value : JSON.stringify(value));
    }
    if (rng.chance(0.3)) form.set("confirm", "yes");
    body = form.toString();
    headers["content-type"] = rng.chance(0.9) ? "application/x-www-form-urlencoded" : rng.pick(["application/json", "text/plain", "multipart/form-data"]);
    // Browsers send their origin; tools send none; another site's is refused.
    const origin = rng.int(10);
    if (origin < 6) headers.origin = BASE();
    else if (origin === 6) headers.origin = "http://evil.example";
  }
  const q = query.toString();
  return { method: page.method, url: `${BASE()}/${parts.join("/")}${q ? `?${q}` : ""}`, headers, body };
}

/**
 * What no request may get: a server error or no answer in time; from the JSON API, an error that is
 * not JSON with a message either. Pages answer errors as HTML, and redirects are answers.
 */
async function send(r: FuzzRequest, api: boolean): Promise<{ status: number; problem?: string }> {
  let res: Response;
  try {
    res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body, redirect: "manual", signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    return { status: 0, problem: `no answer: ${(err as Error).message}` };
  }
  const text = await res.text();
  if (res.status >= 500) return { status: res.status, problem: `${res.status} ${text.slice(0, 200)}` };
  if (res.status < 400 || !api) return { status: res.status };
  let error: unknown;
  try {
    error = JSON.parse(text).error;
  } catch {
    return { status: res.status, problem: `${res.status} with a body that is not JSON: ${text.slice(0, 200)}` };
  }
  if (typeof error !== "string" || !error) return { status: res.status, problem: `${res.status} without an error message: ${text.slice(0, 200)}` };
  return { status: res.status };
}

/** Routes and actions that remove what others would meet go last: deletes, purges, bulk actions. */
const rank = (r: { method: string; path: string }) => (r.method === "DELETE" || /purge|delete|bulk/.test(r.path) ? 1 : 0);

/** Sends each route `REQUESTS_PER_ROUTE` requests made by `make` from a seed; returns the failures and counts statuses. */
async function fuzz(label: string, routes: { method: string; path: string }[], api: boolean, make: (route: { method: string; path: string }, rng: Rng) => FuzzRequest): Promise<string[]> {
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (const route of [...routes].sort((a, b) => rank(a) - rank(b))) {
    for (let i = 0; i < REQUESTS_PER_ROUTE; i++) {
      const seed = (i + 1) * 7919 + route.path.length * 31 + route.method.length;
      const request = make(route, new Rng(seed));
      const answer = await send(request, api);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.problem) failures.push(`${route.method} ${route.path} (seed ${seed}): ${request.method} ${request.url.slice(0, 200)} ${request.body?.slice(0, 200) ?? ""} -> ${answer.problem}`);
    }
  }
  process.stderr.write(`${label}: ${routes.length} routes × ${REQUESTS_PER_ROUTE}; statuses ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s} ${n}`).join(", ")}\n`);
  return failures;
}

let dts: DtsProcess;
const workers: TaskHubGrpcWorker[] = [];
const clients: TaskHubGrpcClient[] = [];
const raws: RawClient[] = [];
const BASE = () => `http://localhost:${dts.dashboardPort}`;
/** Ids that exist (by parameter name), the hub's export before the fuzz, and the names the dashboard reads. */
let real: Record<string, string[]>;
let archive: string[];
let names: { fields: string[]; queries: string[] };

beforeAll(async () => {
  dts = await startDts(HUBS);
  // Something for the requests to meet: instances running and finished, an entity, a schedule.
  const w = worker(dts.address, HUB);
  addSampleWork(w);
  w.addNamedOrchestrator("Hello", async function* (ctx: OrchestrationContext, city: string): AsyncGenerator<any, any, any> {
    return yield ctx.callActivity("sayHello", city);
  });
  await w.start();
  workers.push(w);
  const c = client(dts.address, HUB);
  clients.push(c);
  for (const id of ["fz-0", "fz-1"]) await c.scheduleNewOrchestration("waitForApproval", undefined, id);
  await c.scheduleNewOrchestration("Hello", "Oslo", "fz-2");
  expect((await completed(c, "fz-2")).runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  await c.signalEntity(new EntityInstanceId("counter", "a"), "add", 1);
  const schedule = await fetch(`${BASE()}/v1/taskhubs/schedules`, {
    method: "POST", headers: { "x-taskhub": HUB, "content-type": "application/json" },
    body: JSON.stringify({ scheduleId: "sch-1", orchestrationName: "Hello", interval: "1h" }),
  });
  expect(schedule.status).toBeLessThan(300);
  const fz2: any = await (await fetch(`${BASE()}/v1/taskhubs/orchestrations/fz-2`, { headers: { "x-taskhub": HUB } })).json();
  real = {
    id: ["fz-0", "fz-1", "fz-2", "@counter@a", "sch-1", "Hello"],
    executionId: [String(fz2.executionId ?? fz2.ExecutionId ?? "")].filter(Boolean),
  };
  archive = (await (await fetch(`${BASE()}/v1/taskhubs/export`, { headers: { "x-taskhub": HUB } })).text()).split("\n").filter((l) => l.trim());
  expect(archive.length).toBeGreaterThan(0);
  names = namesInSource();
  // The scrape finds what the dashboard reads; if it found little, the fuzz would be weak without saying so.
  expect(names.fields.length).toBeGreaterThan(20);
  expect(names.queries.length).toBeGreaterThan(8);
}, 60_000);

afterAll(() => stopAll({ raws, workers, clients, servers: [dts] }));

/** Lines of the server's log that report a failure the dashboard did not expect. */
const unexpectedErrors = () => dts.output().split("\n").filter((l) => /dashboard( API)?: |unexpected error/.test(l));

test(`every JSON API route answers ${REQUESTS_PER_ROUTE} random requests with a success or a JSON error a client can act on`, async () => {
  const bodies = examples(archive);
  const failures = await fuzz("api-fuzz", ROUTES, true, (route, rng) => randomRequest(route as ApiRoute, rng, BASE(), names, real, bodies[`${route.method} ${route.path}`]));
  expect(failures.slice(0, 20)).toEqual([]);
  expect(unexpectedErrors()).toEqual([]);
  expect(dts.proc.exitCode).toBeNull();
}, 180_000);

test(`every page and form action answers ${REQUESTS_PER_ROUTE} random requests with a page, a redirect or a 4xx`, async () => {
  const failures = await fuzz("page-fuzz", PAGES, false, (page, rng) => randomPageRequest(page, rng, names, real));
  expect(failures.slice(0, 20)).toEqual([]);
  expect(unexpectedErrors()).toEqual([]);
  expect(dts.proc.exitCode).toBeNull();
}, 180_000);

test("after them, the server still runs orchestrations, and restarted on its data it serves what it had", async () => {
  const { w, c } = await echoRuns(dts.address, MAIN_HUB);
  workers.push(w);
  clients.push(c);

  const raw = (address: string) => {
    const r = new RawClient(address, HUB);
    raws.push(r);
    return r;
  };
  const before = await raw(dts.address).instances();
  // Stop the SDK's workers first: their streams would otherwise outlive the server.
  await Promise.all(workers.splice(0).map((x) => x.stop()));
  expect(await dts.stop()).toBe(0);
  dts = await startDts(HUBS, { dataDir: dts.dataDir });
  const again = raw(dts.address);
  const after = await again.instances();
  // A schedule may start instances while the server restarts; none that were there may be lost or changed.
  const stillThere = new Set(restartSummary(after));
  expect(restartSummary(before).filter((s) => !stillThere.has(s))).toEqual([]);
  // And each, imported or changed by the fuzz, reads whole: its state and its history.
  await again.readWhole(after.map((s) => s.instanceId));
}, 120_000);
