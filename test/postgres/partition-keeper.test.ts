// Partition keepers as cluster nodes on one real PostgreSQL database, with short leases: they split
// a hub's partitions fairly, a joining node gets its share handed over, a crashed node's partitions
// are taken once its leases lapse, and a stopping node hands over at once. Throughout, no partition
// is held by two nodes at once and every acquisition is at a higher epoch (KeeperCluster watches).
import { LeaseLostError, PartitionRef } from "../../src/core/leases";
import { InstanceRecord } from "../../src/core/model";
import { PartitionKeeper } from "../../src/scheduler/partition-keeper";
import { PostgresLeases } from "../../src/store/postgres-leases";
import { PostgresStore } from "../../src/store/postgres-store";
import { KeeperCluster } from "../helpers/cluster-keepers";
import { deadPort } from "../helpers/dts-process";
import { pollUntil, within } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

let postgres: PostgresServer;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());

const HUBS = [{ hub: "orders", partitions: 16 }];
let cluster: KeeperCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function newCluster(leaseMs: number): Promise<KeeperCluster> {
  const url = await postgres.createDatabase(`keepers_${++databases}`);
  await (await PostgresStore.open(url)).close(); // migrates
  return (cluster = new KeeperCluster(url, HUBS, leaseMs));
}

const instance = (instanceId: string): InstanceRecord => ({ instanceId, executionId: "e", name: "N", status: 0, createdAt: 1, lastUpdatedAt: 1 });
const sorted = (shares: Record<string, number>) => Object.values(shares).sort((a, b) => b - a);

test("two keepers split 16 partitions 8/8; a third joining gets 5 handed over, none held twice, epochs only growing; owner maps agree", async () => {
  const c = await newCluster(2_000);
  const a = await c.start("a");
  expect(a.keeper.heldPartitions()).toHaveLength(16);
  await c.start("b");
  await pollUntil(async () => c.shares(), (s) => s.a === 8 && s.b === 8, "an 8/8 split");
  const before = c.holders();
  const epochBefore = new Map(c.nodes.flatMap((n) => n.keeper.heldPartitions()).map((x) => [x.part, x.epoch]));
  const third = await c.start("c");
  const shares = await pollUntil(async () => c.shares(), (s) => sorted(s).join() === "6,5,5", "a 6/5/5 split");
  expect(shares.c).toBe(5);
  // Only c's 5 changed hands, each handed over (released) by its former holder and taken at the next epoch.
  const after = c.holders();
  const moved = [...after].filter(([key, node]) => before.get(key) !== node);
  expect(moved.map(([, node]) => node)).toEqual(["c", "c", "c", "c", "c"]);
  expect(third.acquired.map((x) => x.epoch - epochBefore.get(x.part)!)).toEqual([1, 1, 1, 1, 1]);
  expect(c.nodes.flatMap((n) => n.lost.map((l) => l.reason))).toEqual(expect.arrayContaining(["handover"]));
  expect(c.nodes.flatMap((n) => n.lost)).toHaveLength(16 - 8 + 5); // a handed 8 to b, then a and b 5 to c
  // Every node's routing view names the holder of every partition, with its address and epoch.
  await pollUntil(
    async () => c.nodes.every((n) => [...c.holders()].every(([key, holder]) => n.keeper.ownerOf("orders", Number(key.split("/")[1]))?.nodeId === holder)),
    (agree) => agree,
    "every node's owner map to name the holders",
  );
  expect(a.keeper.ownerOf("orders", third.acquired[0].part)).toEqual({ nodeId: "c", address: "c:8080", epoch: third.acquired[0].epoch });
  expect(a.keeper.liveNodes()).toEqual([{ nodeId: "a", address: "a:8080" }, { nodeId: "b", address: "b:8080" }, { nodeId: "c", address: "c:8080" }]);
  expect(c.violations).toEqual([]);
});

test("a keeper that stops renewing (a crash, or a pause): the others take its partitions once its leases lapse, at the next epoch, and its writes are refused", async () => {
  const c = await newCluster(1_500);
  const store = await PostgresStore.open(c.url);
  try {
    await store.createHub("orders");
    await c.start("a");
    await c.start("b");
    const frozen = await c.start("c");
    await pollUntil(async () => c.shares(), (s) => sorted(s).join() === "6,5,5", "a 6/5/5 split");
    const its = frozen.keeper.heldPartitions();
    await store.commit([{ op: "putInstance", hub: "orders", instance: instance("while-held") }], [its[0]]);
    await frozen.keeper.stop({ release: false }); // no more rounds, nothing released: its leases just lapse
    await pollUntil(async () => c.shares(), (s) => s.a + s.b === 16 && sorted({ a: s.a, b: s.b }).join() === "8,8", "an 8/8 split of a and b");
    const retaken = c.nodes.slice(0, 2).flatMap((n) => n.acquired).filter((x) => its.some((p) => p.part === x.part && x.epoch === p.epoch + 1));
    expect(retaken).toHaveLength(its.length);
    // The frozen node waking up with a write it prepared under its lease: refused, nothing written.
    await expect(store.commit([{ op: "putInstance", hub: "orders", instance: instance("after-takeover") }], [its[0]])).rejects.toThrow(LeaseLostError);
    expect(await store.getInstance("orders", "after-takeover")).toBeUndefined();
    expect(c.violations).toEqual([]);
  } finally {
    await store.close();
  }
});

test("start() rejects when the database cannot be reached", async () => {
  const dead = PostgresLeases.open(`postgres://nobody@127.0.0.1:${await deadPort()}/none`, { leaseMs: 3_000 });
  try {
    await expect(new PartitionKeeper(dead, { nodeId: "n", address: "n:1", hubs: () => HUBS }).start()).rejects.toThrow(/ECONNREFUSED/);
  } finally {
    await dead.close();
  }
});

test("stop() hands every partition over at once, without waiting for the lease (60 s here) to lapse", async () => {
  const c = await newCluster(60_000);
  // Rounds every 200 ms, so handovers need no 20 s.
  // beforeRelease runs after `lost` and while the leases are still b's in the database (its writes in flight could finish).
  const seenBeforeRelease: string[][] = [];
  const beforeRelease = async (parts: PartitionRef[]) => {
    const owners = await stays.leases.owners(HUBS);
    seenBeforeRelease.push(parts.map((p) => `${owners.find((o) => o.part === p.part)?.nodeId}/${leaving.keeper.held(p.hub, p.part) ?? "not held"}`));
  };
  const stays = await c.start("a", { renewMs: 200 });
  const leaving = await c.start("b", { renewMs: 200, beforeRelease });
  await pollUntil(async () => c.shares(), (s) => s.a === 8 && s.b === 8, "an 8/8 split");
  await leaving.keeper.stop();
  expect(leaving.lost.filter((l) => l.reason === "stopped")).toHaveLength(8);
  expect(seenBeforeRelease).toEqual([Array(8).fill("b/not held")]);
  await within(pollUntil(async () => stays.keeper.heldPartitions().length, (n) => n === 16, "a to hold all 16"), "a to take b's partitions", 10_000);
  expect(c.violations).toEqual([]);
});

test("a hub added is shared out at the next round; a hub removed (or shrunk) is handed back; claims name what is not held", async () => {
  const c = await newCluster(60_000);
  const only = await c.start("a", { renewMs: 200 });
  HUBS.push({ hub: "added", partitions: 2 });
  try {
    await pollUntil(async () => only.keeper.held("added", 1), (epoch) => epoch === 1, "the added hub's partitions to be taken");
    expect(only.keeper.claims([{ hub: "added", part: 0 }, { hub: "orders", part: 3 }])).toEqual([{ hub: "added", part: 0, epoch: 1 }, { hub: "orders", part: 3, epoch: 1 }]);
    HUBS[1] = { hub: "added", partitions: 1 };
    await pollUntil(async () => only.lost, (l) => l.length === 1, "the partition past the hub's size to be handed back");
    expect(only.lost).toEqual([{ hub: "added", part: 1, reason: "handover" }]);
    HUBS.pop();
    await pollUntil(async () => only.lost, (l) => l.length === 2, "the removed hub's partition to be handed back");
    expect(() => only.keeper.claims([{ hub: "added", part: 0 }, { hub: "orders", part: 3 }, { hub: "added", part: 1 }])).toThrow(
      "This node no longer holds partition 0 of task hub 'added', partition 1 of task hub 'added'; the change was not stored and nothing of it was applied; try again",
    );
    // Released in the database too: another node takes them at once, at the next epoch.
    const other = PostgresLeases.open(c.url, { leaseMs: 60_000 });
    try {
      expect(await other.acquire("b", [{ hub: "added", part: 0 }, { hub: "added", part: 1 }])).toEqual([{ hub: "added", part: 0, epoch: 2 }, { hub: "added", part: 1, epoch: 2 }]);
    } finally {
      await other.close();
    }
  } finally {
    HUBS.splice(1);
  }
});

test("settings that cannot keep a lease are refused: the renewal interval plus margin must be under the lease", () => {
  const leases = PostgresLeases.open("postgres://nobody@127.0.0.1:1/none", { leaseMs: 1_000 });
  try {
    expect(() => new PartitionKeeper(leases, { nodeId: "n", address: "n:1", hubs: () => [], renewMs: 950 })).toThrow(
      "the renewal interval (950 ms) plus the safety margin (100 ms) must be shorter than the lease (1000 ms)",
    );
    expect(() => new PartitionKeeper(leases, { nodeId: "n", address: "n:1", hubs: () => [], renewMs: 0 })).toThrow("the renewal interval (0 ms) must be at least 1 ms");
  } finally {
    void leases.close();
  }
});
