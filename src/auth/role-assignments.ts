// The role assignments file (`--role-assignments`): a JSON array of { principal, role, scope }, read at
// start and again whenever it changes. A file that no longer parses keeps the last good assignments
// in force (an editor's half-written save must not lock everyone out) and the log says why.
import * as fs from "fs";
import * as path from "path";
import { Role, roleNamed, ROLES } from "./roles";

export interface RoleAssignment {
  /** A token's `oid` (else `sub`), or an app's `appid`/`azp`. */
  principal: string;
  role: Role;
  /** A task hub's name, or "*" for the whole scheduler. */
  scope: string;
}

export class RoleAssignmentsError extends Error {}

/** Parses the file's text; every error names the entry and what to write instead. */
export function parseRoleAssignments(text: string, source: string): RoleAssignment[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RoleAssignmentsError(`${source} is not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new RoleAssignmentsError(`${source} must hold a JSON array of { "principal", "role", "scope" } objects`);
  return data.map((entry, i) => {
    const where = `${source} entry ${i}`;
    if (typeof entry !== "object" || entry === null) throw new RoleAssignmentsError(`${where} is not an object`);
    const { principal, role, scope } = entry as Record<string, unknown>;
    if (typeof principal !== "string" || principal.trim() === "") throw new RoleAssignmentsError(`${where} needs "principal": the token's oid (or sub), or an app's appid/azp`);
    const named = typeof role === "string" ? roleNamed(role) : undefined;
    if (!named) throw new RoleAssignmentsError(`${where} has role ${JSON.stringify(role)}; use one of ${ROLES.map((r) => `"${r}"`).join(", ")}`);
    if (typeof scope !== "string" || scope.trim() === "") throw new RoleAssignmentsError(`${where} needs "scope": a task hub's name, or "*" for every hub`);
    return { principal: principal.trim(), role: named, scope: scope.trim() };
  });
}

/**
 * The assignments in a file, kept current. The directory is watched, not the file, so a save that
 * replaces the file (rename over it, as editors and Kubernetes ConfigMaps do) is seen too.
 */
export class RoleAssignmentsFile {
  private assignments: RoleAssignment[];
  private watcher?: fs.FSWatcher;
  private debounce?: NodeJS.Timeout;
  private lastText: string;

  /** Reads the file now; a missing or bad file at start is an error (there is no last good one). */
  constructor(readonly file: string, private readonly log: (line: string) => void = (l) => console.log(l)) {
    this.lastText = fs.readFileSync(file, "utf8");
    this.assignments = parseRoleAssignments(this.lastText, file);
  }

  current(): readonly RoleAssignment[] {
    return this.assignments;
  }

  watch(): void {
    const name = path.basename(this.file);
    this.watcher = fs.watch(path.dirname(this.file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      // One save is often several events (truncate, write, rename): read once they settle.
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 50);
    });
    this.watcher.unref();
  }

  /** Reads the file again; keeps the last good assignments if it cannot. */
  reload(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      this.log(`dts: role assignments not reloaded: cannot read ${this.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); keeping the last good ones (${this.assignments.length})`);
      return;
    }
    if (text === this.lastText) return;
    try {
      this.assignments = parseRoleAssignments(text, this.file);
      this.lastText = text;
      this.log(`dts: role assignments reloaded from ${this.file} (${this.assignments.length})`);
    } catch (err) {
      this.log(`dts: role assignments not reloaded: ${(err as Error).message}; keeping the last good ones (${this.assignments.length})`);
    }
  }

  close(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
  }
}
