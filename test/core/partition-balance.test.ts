// Balancing partitions among nodes: each node decides alone from the owner map; these tests run the
// nodes' plans against a shared map (an acquire of a partition someone holds fails, as the lease
// table's) until nothing changes, and check the shares are fair, nothing is taken from a live
// holder, and few partitions move.
import { HubPartitions, partitionKey } from "../../src/core/leases";
import { balance } from "../../src/core/partition-balance";

type Owners = Map<string, string>;

/** Rounds of every node's plan, in node order, until a whole round changes nothing; answers how many partitions changed hands. */
function settle(nodes: string[], hubs: HubPartitions[], owners: Owners): { moves: number; rounds: number } {
  let moves = 0;
  for (let round = 1; round <= 20; round++) {
    let changed = false;
    for (const me of nodes) {
      const plan = balance({ me, nodes, hubs, owners });
      for (const p of plan.release) {
        expect(owners.get(partitionKey(p.hub, p.part))).toBe(me);
        owners.delete(partitionKey(p.hub, p.part));
        changed = true;
      }
      for (const p of plan.acquire) {
        const key = partitionKey(p.hub, p.part);
        expect(owners.has(key)).toBe(false); // only free partitions are reached for
        owners.set(key, me);
        moves++;
        changed = true;
      }
    }
    if (!changed) return { moves, rounds: round };
  }
  throw new Error(`no steady state after 20 rounds: ${JSON.stringify([...owners])}`);
}

function counts(owners: Owners, hub: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, node] of owners) if (key.startsWith(`${hub}/`)) out[node] = (out[node] ?? 0) + 1;
  return out;
}

test("one node takes every partition of every hub", () => {
  const owners: Owners = new Map();
  const plan = balance({ me: "a", nodes: [], hubs: [{ hub: "h", partitions: 4 }, { hub: "g", partitions: 2 }], owners });
  expect(plan.release).toEqual([]);
  expect(plan.acquire).toEqual([{ hub: "g", part: 0 }, { hub: "g", part: 1 }, { hub: "h", part: 0 }, { hub: "h", part: 1 }, { hub: "h", part: 2 }, { hub: "h", part: 3 }]);
});

test.each([[2, [8, 8]], [3, [6, 5, 5]], [5, [4, 3, 3, 3, 3]], [20, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]]])(
  "%i nodes starting together split 16 partitions fairly: %j",
  (n, shares) => {
    const nodes = Array.from({ length: n }, (_, i) => `node-${String(i).padStart(2, "0")}`);
    const owners: Owners = new Map();
    settle(nodes, [{ hub: "h", partitions: 16 }], owners);
    expect(owners.size).toBe(16);
    expect(Object.values(counts(owners, "h")).concat(Array(n - Object.keys(counts(owners, "h")).length).fill(0)).sort((a, b) => b - a)).toEqual(shares);
  },
);

test("a node joining gets its share from what the others hand over: the fewest moves, none taken", () => {
  const hubs = [{ hub: "h", partitions: 16 }];
  const owners: Owners = new Map();
  settle(["a", "b"], hubs, owners);
  const before = new Map(owners);
  const { moves } = settle(["a", "b", "c"], hubs, owners);
  // c needs 5: exactly 5 partitions changed hands, all to c, and a and b kept the rest.
  expect(moves).toBe(5);
  expect(counts(owners, "h")).toEqual({ a: expect.any(Number), b: expect.any(Number), c: 5 });
  for (const [key, node] of owners) if (node !== "c") expect(before.get(key)).toBe(node);
});

test("a node leaving: its partitions are free and the others share them out", () => {
  const hubs = [{ hub: "h", partitions: 16 }];
  const owners: Owners = new Map();
  settle(["a", "b", "c"], hubs, owners);
  for (const [key, node] of owners) if (node === "b") owners.delete(key);
  const kept = new Map(owners);
  settle(["a", "c"], hubs, owners);
  expect(counts(owners, "h")).toEqual({ a: 8, c: 8 });
  for (const [key, node] of kept) expect(owners.get(key)).toBe(node);
});

test("a steady fair split stays put", () => {
  const hubs = [{ hub: "h", partitions: 16 }];
  const owners: Owners = new Map();
  settle(["a", "b", "c"], hubs, owners);
  for (const me of ["a", "b", "c"]) expect(balance({ me, nodes: ["a", "b", "c"], hubs, owners })).toEqual({ acquire: [], release: [] });
});

test("the extra partitions of several hubs go to different nodes", () => {
  const hubs = ["h1", "h2", "h3"].map((hub) => ({ hub, partitions: 4 }));
  const owners: Owners = new Map();
  settle(["a", "b", "c"], hubs, owners);
  const total: Record<string, number> = {};
  for (const node of owners.values()) total[node] = (total[node] ?? 0) + 1;
  expect(total).toEqual({ a: 4, b: 4, c: 4 });
});

test("partitions held by a node not among the live ones are left alone (the lease table frees them when they expire)", () => {
  const owners: Owners = new Map([[partitionKey("h", 0), "ghost"], [partitionKey("h", 1), "ghost"]]);
  const plan = balance({ me: "a", nodes: ["a"], hubs: [{ hub: "h", partitions: 4 }], owners });
  expect(plan).toEqual({ acquire: [{ hub: "h", part: 2 }, { hub: "h", part: 3 }], release: [] });
});

test("a node over its share releases only its surplus, the highest partitions", () => {
  const owners: Owners = new Map(Array.from({ length: 8 }, (_, part) => [partitionKey("h", part), "a"]));
  const plan = balance({ me: "a", nodes: ["a", "b", "c", "d"], hubs: [{ hub: "h", partitions: 8 }], owners });
  expect(plan).toEqual({ acquire: [], release: [{ hub: "h", part: 2 }, { hub: "h", part: 3 }, { hub: "h", part: 4 }, { hub: "h", part: 5 }, { hub: "h", part: 6 }, { hub: "h", part: 7 }] });
});
