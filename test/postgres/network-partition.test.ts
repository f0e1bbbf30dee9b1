// A network partition inside the machine: node a reaches PostgreSQL through a TCP proxy (its lease
// keeper and its store both), node b directly. Cutting the proxy, a gives its partitions up by its
// own deadline though it cannot reach the database, b takes them over; restored, a's writes under
// its old leases are refused (the fence), and a joins again, taking partitions at higher epochs.
import { LeaseLostError } from "../../src/core/leases";
import { InstanceRecord } from "../../src/core/model";
import { PostgresStore } from "../../src/store/postgres-store";
import { KeeperCluster } from "../helpers/cluster-keepers";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";
import { startTcpProxy, TcpProxy } from "../helpers/tcp-proxy";

let postgres: PostgresServer;
let proxy: TcpProxy;
let cluster: KeeperCluster;
const stores: PostgresStore[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await cluster?.close();
  for (const s of stores) await s.close();
  await proxy?.close();
  await postgres?.stop();
});

const instance = (instanceId: string): InstanceRecord => ({ instanceId, executionId: "e", name: "N", status: 0, createdAt: 1, lastUpdatedAt: 1 });

// Reset: connections break and new ones are refused, so every statement fails at once. Silent:
// nothing answers, so statements fail only by the lease table's own timeouts (a third of the lease).
test.each([["reset", false], ["silent", true]])("cut off from the database (%s), a node gives its leases up by its deadline; restored, its old writes are refused and it rejoins at higher epochs", async (mode, silent) => {
  const url = await postgres.createDatabase(`partitioned_${mode}`);
  await cluster?.close();
  await proxy?.close();
  proxy = await startTcpProxy(Number(new URL(url).port));
  const direct = await PostgresStore.open(url);
  stores.push(direct);
  await direct.createHub("h");
  const viaProxy = await PostgresStore.open(proxy.via(url), { connectTimeoutMs: 1_000 });
  stores.push(viaProxy);
  cluster = new KeeperCluster(url, [{ hub: "h", partitions: 4 }], 1_500);
  const a = await cluster.start("a", { url: proxy.via(url) });
  const b = await cluster.start("b");
  await pollUntil(async () => cluster.shares(), (s) => s.a === 2 && s.b === 2, "a 2/2 split");
  const [old] = a.keeper.heldPartitions();
  await viaProxy.commit([{ op: "putInstance", hub: "h", instance: instance("before-cut") }], [a.keeper.claim("h", old.part)]);

  const handedOver = a.lost.length; // the two b got when it joined
  proxy.cut({ silent });
  // a cannot reach the database, so nothing tells it the leases lapse: its own deadline does.
  const lost = await pollUntil(async () => a.lost.slice(handedOver), (l) => l.length === 2, "a to give its two leases up");
  expect(lost.map((l) => l.reason)).toEqual(["deadline", "deadline"]);
  expect(() => a.keeper.claim("h", old.part)).toThrow(LeaseLostError);
  expect(a.keeper.ownerOf("h", old.part)?.nodeId).not.toBe("a");
  await pollUntil(async () => b.keeper.heldPartitions().length, (n) => n === 4, "b to take all four partitions");
  const successor = b.keeper.heldPartitions().find((p) => p.part === old.part)!;
  expect(successor.epoch).toBeGreaterThan(old.epoch);

  proxy.restore();
  // A write a made under its old lease, arriving now, is refused and leaves nothing.
  await expect(viaProxy.commit([{ op: "putInstance", hub: "h", instance: instance("stale-write") }], [old])).rejects.toThrow(LeaseLostError);
  expect(await direct.getInstance("h", "stale-write")).toBeUndefined();
  // a beats again and gets its share back, handed over by b, at epochs above any it held.
  await pollUntil(async () => cluster.shares(), (s) => s.a === 2 && s.b === 2, "a 2/2 split again");
  const rejoined = a.keeper.heldPartitions();
  for (const p of rejoined) expect(p.epoch).toBeGreaterThan(old.epoch);
  await viaProxy.commit([{ op: "putInstance", hub: "h", instance: instance("after-rejoin") }], [a.keeper.claim("h", rejoined[0].part)]);
  expect(await direct.getInstance("h", "after-rejoin")).toBeDefined();
  expect(cluster.violations).toEqual([]);
});
