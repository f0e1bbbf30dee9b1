// The layering rule, checked on the sources: every relative import goes down the layers, no module
// imports itself back through others, core/ stays pure, and no module outgrows one reader. An upward
// import, a cycle or an over-long file fails the build here.
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const root = path.resolve(__dirname, "../../..");

/** Each layer and the layers it may import (besides itself). Lowest first. */
const LAYERS: Record<string, string[]> = {
  // The process's log: below everything that logs (scheduler, server, store, host), importing nothing.
  "src/log": [],
  "src/proto": [],
  "src/core": ["src/proto"],
  "src/store": ["src/log", "src/core", "src/proto"],
  "src/scheduler": ["src/log", "src/store", "src/core", "src/proto"],
  "src/auth": ["src/core"],
  "src/server": ["src/log", "src/auth", "src/scheduler", "src/store", "src/core", "src/proto"],
  "src/dashboard": ["src/log", "src/auth", "src/scheduler", "src/store", "src/core", "src/proto"],
  // Tracing: an edge like server and dashboard, implementing the engine's observer (scheduler/observer.ts)
  // with OpenTelemetry; the engine never imports it, only the CLI wires it in.
  "src/telemetry": ["src/log", "src/scheduler", "src/core", "src/proto"],
  "src/provider": ["src/core", "src/proto"],
  scale: ["src/provider", "src/core", "src/proto"],
  "src/host": ["src/log", "scale", "src/provider", "src/core", "src/proto"],
  "src/durable-cli": ["src/host", "scale", "src/provider", "src/core", "src/proto"],
  src: ["src/log", "src/telemetry", "src/durable-cli", "src/host", "scale", "src/provider", "src/dashboard", "src/server", "src/auth", "src/scheduler", "src/store", "src/core", "src/proto"],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "gen" && entry.name !== "node_modules") out.push(...sources(rel));
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      out.push(rel);
    }
  }
  return out;
}

/** The layer a file belongs to: the longest layer path that contains it. */
function layerOf(file: string): string {
  const candidates = Object.keys(LAYERS).filter((l) => file.startsWith(l + "/"));
  return candidates.sort((a, b) => b.length - a.length)[0];
}

/** Relative imports of `file`, resolved to source files (index.ts for a directory). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(path.join(root, file), "utf8"), true, false);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => {
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (fs.existsSync(path.join(root, base + ".ts"))) return base + ".ts";
      if (fs.existsSync(path.join(root, base, "index.ts"))) return base + "/index.ts";
      return base; // generated code (proto/gen) or a .js file: not part of the graph
    });
}

const files = [...sources("src"), ...sources("scale")];
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));

describe("layers", () => {
  it("every import goes down the layers", () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== from && !LAYERS[from].includes(to)) upward.push(`${file} imports ${target} (${from} may import only ${LAYERS[from].join(", ") || "itself"})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === "open") cycles.push([...stack.slice(stack.indexOf(t)), t].join(" -> "));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it("no module grows past what one reader can hold (about 400 lines; generated code aside)", () => {
    const MAX_LINES = 420;
    const long = files
      .map((f) => ({ f, lines: fs.readFileSync(path.join(root, f), "utf8").split("\n").length }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ f, lines }) => `${f}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it("core takes no I/O, clock or randomness modules", () => {
    const impure = /^(fs|path|os|crypto|net|http|https|child_process|worker_threads|node:.*)$/;
    const found = sources("src/core").flatMap((f) =>
      ts.preProcessFile(fs.readFileSync(path.join(root, f), "utf8"), true, false).importedFiles
        .map((i) => i.fileName).filter((spec) => impure.test(spec)).map((spec) => `${f} imports ${spec}`));
    expect(found).toEqual([]);
  });
});
