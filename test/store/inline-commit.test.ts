// Inline commits on the SQLite store (src/store/inline-commit.ts): a small batch on an idle store
// commits on the caller's connection, everything else on the writer thread, in order, and a write
// lock held by another connection never makes the caller's event loop wait.
import Database from "better-sqlite3";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HistoryEvent, InstanceRecord, Status } from "../../src/core/model";
import { INLINE_MAX_LOOP_BUSY, INLINE_MAX_ROWS, INLINE_MAX_SYNC_MS, InlineCommits, LOOP_SAMPLE_MS } from "../../src/store/inline-commit";
import { SQLITE_FILE, SqliteStore } from "../../src/store/sqlite-store";
import { StoreOp } from "../../src/store/store";

const H = "hub";
const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The event loop as an idle one: this test's own loop is as busy as the rest of the suite makes it. */
function idleLoop(): InlineCommits {
  let t = 0;
  return new InlineCommits(() => ({ active: 0, idle: t }), () => (t += LOOP_SAMPLE_MS));
}

function open(options: { busyTimeoutMs?: number } = {}): { store: SqliteStore; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-inline-test-"));
  dirs.push(dir);
  const store = new SqliteStore(dir, { writerThread: true, inlineCommits: idleLoop(), ...options });
  stores.push(store);
  store.createHub(H);
  return { store, dir };
}

function instance(instanceId: string): StoreOp {
  const rec: InstanceRecord = { instanceId, executionId: `e-${instanceId}`, name: "Orch", status: Status.ORCHESTRATION_STATUS_RUNNING, createdAt: 1000, lastUpdatedAt: 1000 };
  return { op: "putInstance", hub: H, instance: rec };
}

function history(instanceId: string, count: number): StoreOp {
  const events: HistoryEvent[] = Array.from({ length: count }, (_, i) => ({ eventId: i, timestamp: { seconds: 1_700_000_000, nanos: 0 }, taskScheduled: { name: `t${i}` } }));
  return { op: "appendHistory", hub: H, instanceId, from: 0, events };
}

const settled = (p: Promise<unknown>) => Promise.race([p.then(() => true, () => true), new Promise((r) => setImmediate(() => r(false)))]);

describe("InlineCommits", () => {
  test("takes a small batch while the writer is idle and syncs are fast", () => {
    const policy = idleLoop();
    const small = [instance("a"), history("a", 3)];
    expect(policy.takes(small, true)).toBe(true);
    expect(policy.takes(small, false)).toBe(false);
    expect(policy.takes([instance("a"), history("a", INLINE_MAX_ROWS)], true)).toBe(false);
  });

  test("slow syncs send every batch to the writer until fast ones bring the average back", () => {
    const policy = idleLoop();
    const small = [instance("a")];
    for (let i = 0; i < 5; i++) policy.synced(INLINE_MAX_SYNC_MS * 10);
    expect(policy.takes(small, true)).toBe(false);
    let fast = 0;
    while (!policy.takes(small, true) && fast < 1000) {
      policy.synced(0.3);
      fast++;
    }
    expect(fast).toBeGreaterThan(1);
    expect(fast).toBeLessThan(1000);
  });

  test("a busy event loop sends every batch to the writer; once it is mostly idle again, small ones go inline", () => {
    const clock = { at: 0, active: 0, idle: 0 };
    const policy = new InlineCommits(() => ({ active: clock.active, idle: clock.idle }), () => clock.at);
    const small = [instance("a")];
    const pass = (ms: number, busyShare: number) => {
      clock.at += ms;
      clock.active += ms * busyShare;
      clock.idle += ms * (1 - busyShare);
    };
    pass(LOOP_SAMPLE_MS, 0.9);
    expect(policy.takes(small, true)).toBe(false);
    // Within the sample period the decision stands.
    pass(LOOP_SAMPLE_MS / 4, 0);
    expect(policy.takes(small, true)).toBe(false);
    pass(LOOP_SAMPLE_MS, INLINE_MAX_LOOP_BUSY / 2);
    expect(policy.takes(small, true)).toBe(true);
    // Time the loop spent in inline commits is not load: it does not turn them off.
    pass(LOOP_SAMPLE_MS, 0.95);
    policy.synced(0.3, LOOP_SAMPLE_MS * 0.9);
    expect(policy.takes(small, true)).toBe(true);
  });
});

describe("SqliteStore with its writer thread", () => {
  test("a small batch on an idle store commits inline, a large one on the writer thread; both are on disk", async () => {
    const { store, dir } = open();
    await store.ready!();
    const toWriter = jest.spyOn(store.writer!, "commit");
    await store.commitAsync!([instance("small"), history("small", 2)]);
    expect(toWriter).not.toHaveBeenCalled();
    await store.commitAsync!([instance("large"), history("large", INLINE_MAX_ROWS + 1)]);
    expect(toWriter).toHaveBeenCalledTimes(1);

    // A batch queued while the writer has one in flight goes behind it, not inline past it.
    const first = store.commitAsync!([instance("first"), history("first", INLINE_MAX_ROWS + 1)]);
    const second = store.commitAsync!([instance("second")]);
    expect(toWriter).toHaveBeenCalledTimes(3);
    await Promise.all([first, second]);

    const other = new Database(path.join(dir, SQLITE_FILE), { readonly: true });
    try {
      const ids = other.prepare("SELECT instanceId FROM instances ORDER BY instanceId").pluck().all();
      expect(ids).toEqual(["first", "large", "second", "small"]);
      expect(store.getHistory(H, "large")).toHaveLength(INLINE_MAX_ROWS + 1);
    } finally {
      other.close();
    }
  });

  test("another connection holding the write lock: the caller does not wait, the writer thread commits once it is free", async () => {
    const { store, dir } = open({ busyTimeoutMs: 10_000 });
    await store.ready!();
    const holder = new Database(path.join(dir, SQLITE_FILE));
    holder.prepare("BEGIN IMMEDIATE").run();
    const toWriter = jest.spyOn(store.writer!, "commit");
    try {
      const committing = store.commitAsync!([instance("held")]);
      expect(toWriter).toHaveBeenCalledTimes(1);
      expect(await settled(committing)).toBe(false);
      holder.prepare("COMMIT").run();
      await committing;
      expect(store.getInstance(H, "held")?.instanceId).toBe("held");
      // The connection waits for locks again as configured: the inline attempt's setting did not stick.
      expect(store["db"].pragma("busy_timeout", { simple: true })).toBe(1000);
    } finally {
      holder.close();
    }
  });
});
