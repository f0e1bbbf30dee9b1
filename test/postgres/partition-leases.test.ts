// The lease table on a real PostgreSQL server: membership by heartbeat, acquiring (exactly one of
// racing nodes wins, epochs only grow), renewing, releasing and leaving, and the owner map.
import { FenceClaim } from "../../src/core/leases";
import { PostgresLeases } from "../../src/store/postgres-leases";
import { PostgresStore } from "../../src/store/postgres-store";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

let postgres: PostgresServer;
let url: string;
const opened: PostgresLeases[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase("leases");
  await (await PostgresStore.open(url)).close(); // migrates
}, 120_000);
afterAll(async () => {
  await Promise.all(opened.map((l) => l.close()));
  await postgres?.stop();
});

function leases(leaseMs = 60_000): PostgresLeases {
  // The statement and connect timeouts default to a third of the lease: 100 ms for a 300 ms lease,
  // which a busy machine can exceed just connecting. These tests are about the leases' expiry.
  const l = PostgresLeases.open(url, { leaseMs, connectTimeoutMs: 10_000, queryTimeoutMs: 10_000 });
  opened.push(l);
  return l;
}

const parts = (hub: string, n: number) => Array.from({ length: n }, (_, part) => ({ hub, part }));

test("heartbeats make nodes live; leaving ones are not, until they beat again", async () => {
  const t = leases();
  await t.heartbeat({ nodeId: "n1", address: "host1:8080" });
  await t.heartbeat({ nodeId: "n2", address: "host2:8080" });
  await t.heartbeat({ nodeId: "n2", address: "host2:9090" });
  expect(await t.liveNodes()).toEqual(expect.arrayContaining([{ nodeId: "n1", address: "host1:8080" }, { nodeId: "n2", address: "host2:9090" }]));
  await t.leave("n2");
  expect((await t.liveNodes()).map((n) => n.nodeId)).not.toContain("n2");
  await t.heartbeat({ nodeId: "n2", address: "host2:9090" });
  expect((await t.liveNodes()).map((n) => n.nodeId)).toContain("n2");
});

test("a partition is acquired once; released, the next owner gets the next epoch; the owner map names holder and address", async () => {
  const t = leases();
  await t.heartbeat({ nodeId: "a", address: "a:1" });
  await t.heartbeat({ nodeId: "b", address: "b:1" });
  expect(await t.acquire("a", parts("h1", 2))).toEqual([{ hub: "h1", part: 0, epoch: 1 }, { hub: "h1", part: 1, epoch: 1 }]);
  expect(await t.acquire("b", parts("h1", 2))).toEqual([]);
  expect(await t.owners([{ hub: "h1", partitions: 2 }])).toEqual([
    { hub: "h1", part: 0, nodeId: "a", address: "a:1", epoch: 1 },
    { hub: "h1", part: 1, nodeId: "a", address: "a:1", epoch: 1 },
  ]);
  await t.release("a", [{ hub: "h1", part: 1 }]);
  expect(await t.owners([{ hub: "h1", partitions: 2 }])).toEqual([{ hub: "h1", part: 0, nodeId: "a", address: "a:1", epoch: 1 }]);
  expect(await t.acquire("b", parts("h1", 2))).toEqual([{ hub: "h1", part: 1, epoch: 2 }]);
  // a's renewal keeps part 0 and reports part 1 lost (b holds it now).
  expect(await t.renew("a", [{ hub: "h1", part: 0, epoch: 1 }, { hub: "h1", part: 1, epoch: 1 }])).toEqual([{ hub: "h1", part: 1, epoch: 1 }]);
  // Releasing what another node holds changes nothing.
  await t.release("a", [{ hub: "h1", part: 1 }]);
  expect((await t.owners([{ hub: "h1", partitions: 2 }]))[1]).toMatchObject({ nodeId: "b", epoch: 2 });
});

test("a lease not renewed expires by the database's clock and is taken at the next epoch; its old holder's renewal is refused", async () => {
  const short = leases(300);
  await short.heartbeat({ nodeId: "slow", address: "s:1" });
  const [held] = await short.acquire("slow", [{ hub: "h2", part: 0 }]);
  expect(held.epoch).toBe(1);
  const other = leases(300);
  // Refused while the lease lasts, taken once the database's clock passes its expiry.
  const taken = await pollUntil(() => other.acquire("quick", [{ hub: "h2", part: 0 }]), (got) => got.length === 1, "the expired lease to be taken");
  expect(taken).toEqual([{ hub: "h2", part: 0, epoch: 2 }]);
  expect(await short.renew("slow", [held])).toEqual([held]);
});

test("a leaving node's leases are free at once; leave() releases them all", async () => {
  const t = leases();
  await t.heartbeat({ nodeId: "x", address: "x:1" });
  await t.acquire("x", parts("h3", 3));
  await t.leave("x");
  expect(await t.owners([{ hub: "h3", partitions: 3 }])).toEqual([]);
  expect((await t.acquire("y", parts("h3", 3))).map((c) => c.epoch)).toEqual([2, 2, 2]);
});

test("nodes racing for the same partitions: each partition has exactly one winner, every round, at an epoch one higher", async () => {
  const racers = Array.from({ length: 6 }, () => leases());
  const hub = "race";
  const all = parts(hub, 16);
  for (let round = 1; round <= 5; round++) {
    // Every racer asks for all 16 (in different orders) at once.
    const results = await Promise.all(racers.map((t, i) => t.acquire(`r${i}`, i % 2 ? [...all].reverse() : all)));
    const winners = new Map<number, FenceClaim[]>();
    for (const got of results) for (const c of got) winners.set(c.part, [...(winners.get(c.part) ?? []), c]);
    expect([...winners.keys()].sort((a, b) => a - b)).toEqual(all.map((p) => p.part));
    for (const [, claims] of winners) expect(claims).toEqual([{ hub, part: claims[0].part, epoch: round }]);
    // Everyone releases (the winners' releases free them; the others' change nothing).
    await Promise.all(racers.map((t, i) => t.release(`r${i}`, all)));
  }
});
