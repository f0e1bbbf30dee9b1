// Fencing commits on partition leases (PostgresStore with claims): a write goes through only while
// the partitions it claims are held at the claimed epochs, on each of the store's commit paths, and
// a takeover waits for a fenced commit in flight instead of slipping under it.
import { Client } from "pg";
import { FenceClaim, LeaseLostError } from "../../src/core/leases";
import { InstanceRecord } from "../../src/core/model";
import { fenceStatement } from "../../src/store/postgres-fence";
import { PostgresLeases } from "../../src/store/postgres-leases";
import { PostgresStore } from "../../src/store/postgres-store";
import { StoreOp } from "../../src/store/store";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

let postgres: PostgresServer;
let url: string;
let store: PostgresStore;
let leases: PostgresLeases;
beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase("fencing");
  store = await PostgresStore.open(url);
  leases = PostgresLeases.open(url, { leaseMs: 60_000 });
}, 120_000);
afterAll(async () => {
  await store?.close();
  await leases?.close();
  await postgres?.stop();
});

const instance = (instanceId: string): InstanceRecord => ({ instanceId, executionId: "e", name: "N", status: 0, createdAt: 1, lastUpdatedAt: 1 });

/** The three ways the store commits: one folded statement, folded statements in a transaction, op by op. */
const PATHS: [string, (hub: string, id: string) => StoreOp[]][] = [
  ["one statement", (hub, id) => [{ op: "putInstance", hub, instance: instance(id) }]],
  ["a folded transaction", (hub, id) => [{ op: "deleteInstance", hub, instanceId: "nobody" }, { op: "putInstance", hub, instance: instance(id) }]],
  ["op by op", (hub, id) => [{ op: "setRetention", hub, policy: { days: 3 } }, { op: "putInstance", hub, instance: instance(id) }]],
];

/** Node a holds partition 0 of `hub` at epoch 1, then b takes it over at epoch 2. */
async function movedLease(hub: string): Promise<{ old: FenceClaim; current: FenceClaim }> {
  await store.createHub(hub);
  const [old] = await leases.acquire("a", [{ hub, part: 0 }]);
  await leases.release("a", [old]);
  const [current] = await leases.acquire("b", [{ hub, part: 0 }]);
  return { old, current };
}

test.each(PATHS)("%s: the holder's commit goes through; the former holder's is refused with LeaseLostError and writes nothing", async (path, ops) => {
  const hub = path.replace(/ /g, "-");
  const { old, current } = await movedLease(hub);
  expect([old.epoch, current.epoch]).toEqual([1, 2]);
  const refused = store.commit(ops(hub, "from-old-owner"), [old]);
  await expect(refused).rejects.toThrow(LeaseLostError);
  await expect(refused).rejects.toThrow(`This node no longer holds partition 0 of task hub '${hub}'; the change was not stored and nothing of it was applied; try again`);
  await expect(refused).rejects.toMatchObject({ code: "UNAVAILABLE", lost: [{ hub, part: 0 }] });
  expect(await store.getInstance(hub, "from-old-owner")).toBeUndefined();
  await store.commit(ops(hub, "from-owner"), [current]);
  expect((await store.getInstance(hub, "from-owner"))?.name).toBe("N");
});

/** A short lease's statement and connect timeouts default to a third of it, which a busy machine can exceed; these tests are about expiry. */
const SLOW_MACHINE = { connectTimeoutMs: 10_000, queryTimeoutMs: 10_000 };

test("setFence: every commit claims what the function names; an expired lease is refused too", async () => {
  const hub = "fenced";
  await store.createHub(hub);
  const short = PostgresLeases.open(url, { leaseMs: 200, ...SLOW_MACHINE });
  try {
    const [claim] = await short.acquire("a", [{ hub, part: 3 }]);
    const seen: StoreOp[][] = [];
    store.setFence((ops) => {
      seen.push([...ops]);
      return [claim];
    });
    // Lapses by the database's clock: refused once the lease is past its expiry, though nobody took it.
    const refused = await pollUntil(
      () => store.commitAsync([{ op: "putInstance", hub, instance: instance("late") }]).then(() => undefined, (err: Error) => err),
      (err) => err !== undefined,
      "the commit to be refused once the lease expired",
    );
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect(seen[0]).toEqual([{ op: "putInstance", hub, instance: instance("late") }]);
    // Before it lapsed a commit or more may have gone through; after the refusal nothing does.
    await expect(store.commit([{ op: "putInstance", hub, instance: instance("later") }])).rejects.toThrow(LeaseLostError);
    expect(await store.getInstance(hub, "later")).toBeUndefined();
  } finally {
    store.setFence(undefined);
    await short.close();
  }
  // Unfenced again: commits need no lease.
  await store.commit([{ op: "putInstance", hub, instance: instance("unfenced") }]);
  expect(await store.getInstance(hub, "unfenced")).toBeDefined();
});

test("a claim on a partition never leased, or on several where one moved, is refused whole", async () => {
  const hub = "several";
  await store.createHub(hub);
  const [p0, p1] = await leases.acquire("a", [{ hub, part: 0 }, { hub, part: 1 }]);
  await expect(store.commit([{ op: "putInstance", hub, instance: instance("x") }], [{ hub, part: 9, epoch: 1 }])).rejects.toMatchObject({ lost: [{ hub, part: 9 }] });
  await leases.release("a", [p1]);
  await expect(store.commit([{ op: "putInstance", hub, instance: instance("x") }], [p0, p1])).rejects.toMatchObject({ lost: [{ hub, part: 1 }] });
  expect(await store.getInstance(hub, "x")).toBeUndefined();
});

test("a takeover waits for a fenced commit in flight, then gets the next epoch", async () => {
  const hub = "inflight";
  const short = PostgresLeases.open(url, { leaseMs: 300, ...SLOW_MACHINE });
  const tx = new Client({ connectionString: url });
  await tx.connect();
  try {
    const [claim] = await short.acquire("a", [{ hub, part: 0 }]);
    // A commit's transaction that has passed its fence check (the lease row locked FOR SHARE) and not yet committed.
    await tx.query("BEGIN");
    const check = fenceStatement([claim]);
    expect((await tx.query(check.text, check.values)).rows[0].fence_lost).toBeNull();
    // The lease lapses meanwhile; b's takeover must wait on the row lock.
    let settled = false;
    const takeover = pollUntil(() => short.acquire("b", [{ hub, part: 0 }]), (got) => got.length === 1, "the takeover").finally(() => (settled = true));
    await pollUntil(
      async () => (await tx.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO partition_leases%'")).rows[0].n,
      (n) => n > 0,
      "the takeover to wait for the row lock",
    );
    expect(settled).toBe(false);
    await tx.query("COMMIT");
    expect(await takeover).toEqual([{ hub, part: 0, epoch: claim.epoch + 1 }]);
  } finally {
    await tx.end();
    await short.close();
  }
});
