// The engine's layers, read from the source's imports: core/ is pure and below everything, store/
// below the scheduler, no import circles among them, and no module grows past the size one reader
// can hold (about 400 lines).
import * as fs from "fs";
import * as path from "path";

const SRC = path.join(__dirname, "..", "..", "..", "src");
const ENGINE = ["core", "store", "scheduler"];
/** What each engine folder may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: ["proto"],
  store: ["core", "proto"],
  scheduler: ["core", "store", "proto"],
};
const MAX_LINES = 400;

function sources(folder: string): string[] {
  return fs.readdirSync(path.join(SRC, folder)).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, folder, f));
}

/** The project files a source file imports (type-only imports too: they tie modules as much). */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) {
    const target = path.join(path.dirname(file), m[1]);
    const found = [`${target}.ts`, path.join(target, "index.ts")].find((f) => fs.existsSync(f));
    if (found) out.push(found);
  }
  return out;
}

const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];
const files = ENGINE.flatMap(sources);
const graph = new Map(files.map((f) => [f, imports(f)]));

test("each engine folder imports only the layers below it", () => {
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const t of targets) {
      const [from, to] = [folderOf(file), folderOf(t)];
      if (from !== to && !ALLOWED[from].includes(to)) upward.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, t)}`);
    }
  }
  expect(upward).toEqual([]);
});

test("no import circles in core/, store/ and scheduler/", () => {
  const circles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      circles.push(trail.slice(trail.indexOf(file)).concat(file).map((f) => path.relative(SRC, f)).join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const t of graph.get(file) ?? []) if (graph.has(t)) visit(t, [...trail, file]);
    state.set(file, "done");
  };
  for (const f of files) visit(f, []);
  expect(circles).toEqual([]);
});

test(`no engine module is over ${MAX_LINES} lines`, () => {
  const long = files.map((f) => ({ file: path.relative(SRC, f), lines: fs.readFileSync(f, "utf8").split("\n").length })).filter((x) => x.lines > MAX_LINES);
  expect(long).toEqual([]);
});
