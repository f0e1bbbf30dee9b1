// One server per data directory (src/store/data-dir-lock.ts): the lock excludes a second holder in
// this process, in a worker thread and in another process; it is gone the moment a holder is killed;
// the store takes it; the data directory and its files are private.
import Database from "better-sqlite3";
import { InstanceRecord, Status } from "../../src/core/model";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import {
  acquireDataDirLock, DataDirInUseError, DataDirLock, HOLDER_FILE, LOCK_FILE, readHolder,
} from "../../src/store/data-dir-lock";
import { SQLITE_FILE, SqliteStore } from "../../src/store/sqlite-store";

const MODULE = path.resolve(__dirname, "../../src/store/data-dir-lock.js");
const tmpDirs: string[] = [];
const locks: DataDirLock[] = [];
const children: ChildProcess[] = [];

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-lock-test-"));
  tmpDirs.push(dir);
  return dir;
}

function acquire(dir: string): DataDirLock {
  const lock = acquireDataDirLock(dir);
  locks.push(lock);
  return lock;
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** What acquiring `dir` throws (it must throw). */
function refusal(dir: string): DataDirInUseError {
  try {
    acquire(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(DataDirInUseError);
    return err as DataDirInUseError;
  }
  throw new Error(`acquired ${dir}, expected a refusal`);
}

afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("acquireDataDirLock", () => {
  test("a second acquire in the same process is refused and names the holder; after release it succeeds", () => {
    const dir = tmpDir();
    const first = acquire(dir);
    expect(first.holder).toMatchObject({ pid: process.pid, host: os.hostname(), argv: process.argv });
    expect(readHolder(dir)).toEqual(first.holder);

    const err = refusal(dir);
    expect(err.holder).toEqual(first.holder);
    expect(err.dir).toBe(dir);
    expect(err.code).toBe("DTS_DATA_DIR_IN_USE");
    const since = first.holder.since.replace(/\.\d+Z$/, "Z");
    expect(err.message).toBe(
      `the data directory ${dir} is in use by another dts server (pid ${process.pid} on host ${os.hostname()}, since ${since}); stop it or use another --data`,
    );
    expect(refusal(dir).message).toBe(err.message); // refusing changes nothing

    first.release();
    first.release(); // idempotent
    expect(fs.existsSync(path.join(dir, HOLDER_FILE))).toBe(false);
    const second = acquire(dir);
    expect(readHolder(dir)).toEqual(second.holder);
  });

  test("without a readable holder description the refusal still comes, without holder details", () => {
    const dir = tmpDir();
    acquire(dir);
    fs.writeFileSync(path.join(dir, HOLDER_FILE), "{not json");
    expect(refusal(dir).message).toBe(`the data directory ${dir} is in use by another dts server; stop it or use another --data`);
    fs.rmSync(path.join(dir, HOLDER_FILE));
    const err = refusal(dir);
    expect(err.holder).toBeUndefined();
    expect(err.message).toMatch(/is in use by another dts server; stop it/);
  });

  test("a worker thread of this process is refused too", async () => {
    const dir = tmpDir();
    const held = acquire(dir);
    const tryInWorker = () => new Promise<{ code?: string; message?: string; ok?: boolean }>((resolve, reject) => {
      const w = new Worker(
        `const { parentPort, workerData } = require("worker_threads");
         const { acquireDataDirLock } = require(workerData.module);
         try { acquireDataDirLock(workerData.dir).release(); parentPort.postMessage({ ok: true }); }
         catch (e) { parentPort.postMessage({ code: e.code, message: e.message }); }`,
        { eval: true, workerData: { module: MODULE, dir } },
      );
      w.once("message", resolve);
      w.once("error", reject);
    });
    const refused = await tryInWorker();
    expect(refused.code).toBe("DTS_DATA_DIR_IN_USE");
    expect(refused.message).toContain(`pid ${process.pid} on host`);
    held.release();
    expect(await tryInWorker()).toEqual({ ok: true });
  });

  test("a holder killed with SIGKILL leaves no stale lock: the next acquire succeeds right after its exit", async () => {
    const dir = tmpDir();
    const child = spawn(process.execPath, ["-e",
      `require(${JSON.stringify(MODULE)}).acquireDataDirLock(process.argv[1]); console.log("held"); setInterval(() => {}, 1 << 30);`, dir,
    ], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("held")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`the holder exited early (${code})`)));
    });

    const err = refusal(dir);
    expect(err.holder?.pid).toBe(child.pid);
    expect(err.message).toContain(`(pid ${child.pid} on host ${os.hostname()}, since `);

    child.kill("SIGKILL");
    await exited;
    const lock = acquire(dir);
    expect(readHolder(dir)).toEqual(lock.holder); // the dead holder's description is replaced
  });

  test("a new directory is created 0700 and the lock files 0600; an existing directory keeps its mode", () => {
    const fresh = path.join(tmpDir(), "a", "b");
    acquire(fresh);
    expect(mode(fresh)).toBe(0o700);
    expect(mode(path.dirname(fresh))).toBe(0o700);
    for (const f of [LOCK_FILE, `${LOCK_FILE}-journal`, HOLDER_FILE]) {
      const file = path.join(fresh, f);
      if (f.endsWith("-journal") && !fs.existsSync(file)) continue; // SQLite's, while the lock is held
      expect([f, mode(file)]).toEqual([f, 0o600]);
    }

    const existing = tmpDir();
    fs.chmodSync(existing, 0o755);
    acquire(existing);
    expect(mode(existing)).toBe(0o755);
  });
});

describe("SqliteStore and the data directory lock", () => {
  test("a second store on the same directory is refused until the first is closed (writer thread too)", async () => {
    const dir = tmpDir();
    const first = new SqliteStore(dir, { writerThread: true });
    try {
      first.createHub("h");
      const instance: InstanceRecord = { instanceId: "a", executionId: "e", name: "Orch", status: Status.ORCHESTRATION_STATUS_RUNNING, createdAt: 1, lastUpdatedAt: 1 };
      await first.commitAsync!([{ op: "putInstance", hub: "h", instance }]); // the writer thread opened beside the holder
      expect(() => new SqliteStore(dir)).toThrow(DataDirInUseError);
      expect(() => new SqliteStore(dir)).toThrow(`pid ${process.pid} on host`);
    } finally {
      await first.close();
    }
    const second = new SqliteStore(dir);
    try {
      expect(second.listHubs()).toEqual(["h"]);
      expect(second.getInstance("h", "a")?.name).toBe("Orch");
      // dataDirLock: false (what the writer thread's store uses) opens beside the holder.
      const unlocked = new SqliteStore(dir, { dataDirLock: false });
      unlocked.close();
      expect(() => new SqliteStore(dir)).toThrow(DataDirInUseError);
    } finally {
      second.close();
    }
  });

  test("a store that fails to open releases the lock", () => {
    const dir = tmpDir();
    new SqliteStore(dir).close();
    const raw = new Database(path.join(dir, SQLITE_FILE));
    raw.pragma("user_version = 99");
    raw.close();
    expect(() => new SqliteStore(dir)).toThrow(/newer/);
    acquire(dir);
  });

  test("the data directory is created 0700, the database and its -wal and -shm 0600", () => {
    const dir = path.join(tmpDir(), "data");
    const store = new SqliteStore(dir);
    try {
      store.createHub("h");
      expect(mode(dir)).toBe(0o700);
      for (const f of [SQLITE_FILE, `${SQLITE_FILE}-wal`, `${SQLITE_FILE}-shm`, LOCK_FILE, HOLDER_FILE]) {
        expect([f, mode(path.join(dir, f))]).toEqual([f, 0o600]);
      }
    } finally {
      store.close();
    }
  });
});
