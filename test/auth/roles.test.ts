// The role table: one entry per RPC, the README's table the same as the code's, and the assignments
// file's rules.
import * as fs from "fs";
import * as path from "path";
import { CONTRIBUTOR, includes, PERMISSIONS, READER, roleNamed, WORKER } from "../../src/auth/roles";
import { parseRoleAssignments } from "../../src/auth/role-assignments";

const README = fs.readFileSync(path.resolve(__dirname, "../../../README.md"), "utf8");
const SIDECAR = "TaskHubSidecarService";
const BACKEND = "durabletask.protos.backend.v1.BackendService";

test("the README's role table is the code's", () => {
  const rows = new Map<string, [string[], string[]]>();
  for (const m of README.matchAll(/^\| (Durable Task [^|]+?) \|([^|]*)\|([^|]*)\|$/gm)) {
    const names = (cell: string) => cell.split(",").map((n) => n.trim()).filter(Boolean).sort();
    rows.set(m[1], [names(m[2]), names(m[3])]);
  }
  const expected = (role: string, scope: "hub" | "scheduler") => [SIDECAR, BACKEND].map((service) =>
    Object.entries(PERMISSIONS[service]).filter(([, p]) => p.role === role && p.scope === scope).map(([name]) => name).sort());
  expect(rows.get(READER)).toEqual(expected(READER, "hub"));
  expect(rows.get(WORKER)).toEqual(expected(WORKER, "hub"));
  expect(rows.get(CONTRIBUTOR)).toEqual(expected(CONTRIBUTOR, "hub"));
  expect(rows.get(`${CONTRIBUTOR} on \`"*"\``)).toEqual(expected(CONTRIBUTOR, "scheduler"));
});

test("roles nest: Reader within Worker within Contributor; names as the managed service spells them, any case", () => {
  expect([includes(CONTRIBUTOR, WORKER), includes(WORKER, READER), includes(READER, WORKER), includes(WORKER, CONTRIBUTOR)]).toEqual([true, true, false, false]);
  expect(roleNamed(" durable task worker ")).toBe(WORKER);
  expect(roleNamed("Worker")).toBeUndefined();
});

test("the assignments file: every mistake names the entry and the fix", () => {
  expect(parseRoleAssignments(`[{"principal":"a","role":"Durable Task Data Reader","scope":"*"}]`, "f.json"))
    .toEqual([{ principal: "a", role: READER, scope: "*" }]);
  const cases: [string, RegExp][] = [
    ["{", /f\.json is not JSON/],
    [`{"principal":"a"}`, /must hold a JSON array/],
    [`[{"role":"Durable Task Worker","scope":"*"}]`, /entry 0 needs "principal"/],
    [`[{"principal":"a","role":"Owner","scope":"*"}]`, /entry 0 has role "Owner"; use one of "Durable Task Data Reader", "Durable Task Worker", "Durable Task Data Contributor"/],
    [`[{"principal":"a","role":"Durable Task Worker"}]`, /entry 0 needs "scope"/],
  ];
  for (const [text, message] of cases) expect(() => parseRoleAssignments(text, "f.json")).toThrow(message);
});
