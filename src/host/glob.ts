// Expands package.json `main` the way the Node worker does: a file name or a glob ("dist/src/functions/*.js",
// "src/**/*.js", "{index.js,functions/*.js}"). Node 20 has no fs.glob, and this is all we need of one.
import * as fs from "fs";
import * as path from "path";

const MAGIC = /[*?[\]{}]/;

/** Expands {a,b} alternatives (nested ones too) into separate patterns. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0) {
        const inner = pattern.slice(start + 1, i);
        const parts: string[] = [];
        let d = 0;
        let from = 0;
        for (let j = 0; j < inner.length; j++) {
          if (inner[j] === "{") d++;
          else if (inner[j] === "}") d--;
          else if (inner[j] === "," && d === 0) {
            parts.push(inner.slice(from, j));
            from = j + 1;
          }
        }
        parts.push(inner.slice(from));
        const head = pattern.slice(0, start);
        const tail = pattern.slice(i + 1);
        return parts.flatMap((p) => expandBraces(head + p + tail));
      }
    }
  }
  return [pattern];
}

function segmentRegex(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += "[" + segment.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function readDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isDir(dir: string, e: fs.Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return fs.statSync(path.join(dir, e.name)).isDirectory();
  } catch {
    return false;
  }
}

function walk(dir: string, segments: string[], out: Set<string>): void {
  if (segments.length === 0) {
    if (fs.existsSync(dir) && fs.statSync(dir).isFile()) out.add(dir);
    return;
  }
  const [seg, ...rest] = segments;
  if (seg === "**") {
    walk(dir, rest, out); // zero directories
    for (const e of readDir(dir)) {
      // `**` never descends into node_modules or hidden directories: an app's glob means its own files.
      if (isDir(dir, e) && e.name !== "node_modules" && !e.name.startsWith(".")) walk(path.join(dir, e.name), segments, out);
    }
    return;
  }
  if (!MAGIC.test(seg)) {
    walk(path.join(dir, seg), rest, out);
    return;
  }
  const re = segmentRegex(seg);
  for (const e of readDir(dir)) {
    if (e.name.startsWith(".") && !seg.startsWith(".")) continue;
    if (re.test(e.name)) walk(path.join(dir, e.name), rest, out);
  }
}

/** Absolute paths of the files matching `pattern` (relative to `baseDir`, or absolute), sorted. */
export function globFiles(baseDir: string, pattern: string): string[] {
  const out = new Set<string>();
  for (const p of expandBraces(pattern.replace(/\\/g, "/"))) {
    const absolute = path.isAbsolute(p);
    const segments = p.split("/").filter((s) => s !== "" && s !== ".");
    walk(absolute ? path.parse(p).root : baseDir, segments, out);
  }
  return [...out].sort();
}
