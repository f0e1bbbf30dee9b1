// One server per data directory. Node has no flock, so the lock is SQLite's own: a small database
// file <dir>/dts.lock in rollback-journal mode, held in a BEGIN EXCLUSIVE transaction for the life of
// the store. SQLite's unix VFS takes POSIX advisory locks, which the OS drops when the process dies
// (kill -9 leaves no stale lock), and it tracks locks per file across all connections of a process,
// so a second connection in the same process (or a worker thread) gets SQLITE_BUSY as well.
// The holder describes itself in <dir>/dts.lock.json so the next server can name it in its error.
//
// Never open dts.lock with fs while a lock may be held in this process: closing any descriptor of a
// file drops every POSIX lock the process has on it. createPrivateFile only opens a file it creates.
import Database from "better-sqlite3";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const LOCK_FILE = "dts.lock";
export const HOLDER_FILE = "dts.lock.json";

/** Who holds a data directory (the contents of dts.lock.json). */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  argv: string[];
}

export interface DataDirLock {
  readonly dir: string;
  readonly holder: LockHolder;
  /** Releases the lock; idempotent. */
  release(): void;
}

/** Thrown when another server (or another store in this process) holds the data directory. */
export class DataDirInUseError extends Error {
  readonly code = "DTS_DATA_DIR_IN_USE";

  constructor(readonly dir: string, readonly holder?: LockHolder) {
    const who = holder ? ` (pid ${holder.pid} on host ${holder.host}, since ${holder.since.replace(/\.\d+Z$/, "Z")})` : "";
    super(`the data directory ${dir} is in use by another dts server${who}; stop it or use another --data`);
    this.name = "DataDirInUseError";
  }
}

/** Creates `dir` (and missing parents) with mode 0700; an existing directory's mode is left alone. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Creates an empty file with mode 0600 if it does not exist (never opens an existing one). */
export function createPrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Takes the exclusive lock on a data directory (created 0700 if missing) or throws DataDirInUseError. */
export function acquireDataDirLock(dirPath: string): DataDirLock {
  const dir = path.resolve(dirPath);
  ensurePrivateDir(dir);
  const lockFile = path.join(dir, LOCK_FILE);
  createPrivateFile(lockFile); // SQLite gives its -journal the same mode
  const db = new Database(lockFile);
  try {
    db.pragma("busy_timeout = 0");
    // A fresh file is in the default DELETE journal mode and nothing is ever written to it.
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") throw new DataDirInUseError(dir, readHolder(dir));
    throw err;
  }
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), argv: process.argv };
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Remove the description before unlocking, so it can never be the next holder's that goes.
    try {
      fs.rmSync(path.join(dir, HOLDER_FILE), { force: true });
    } finally {
      db.close(); // ends the transaction: the lock is released
    }
  };
  try {
    writeHolder(dir, holder);
  } catch (err) {
    release();
    throw err;
  }
  return { dir, holder, release };
}

function writeHolder(dir: string, holder: LockHolder): void {
  // Written aside and renamed, so a reader sees the old description or the new one, never half of one.
  const tmp = path.join(dir, `${HOLDER_FILE}.${process.pid}.tmp`);
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, JSON.stringify(holder, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  fs.renameSync(tmp, path.join(dir, HOLDER_FILE));
}

/** The holder's description, or undefined if it is missing or unreadable. */
export function readHolder(dir: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(path.join(dir, HOLDER_FILE), "utf8")) as Partial<LockHolder>;
    if (typeof h.pid !== "number" || typeof h.host !== "string" || typeof h.since !== "string") return undefined;
    return { pid: h.pid, host: h.host, since: h.since, argv: Array.isArray(h.argv) ? h.argv.map(String) : [] };
  } catch {
    return undefined;
  }
}
