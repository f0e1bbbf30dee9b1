// Unit tests of the partition function: pinned values (rows on disk depend on them), entity id
// spellings, spread, and the seqs each partition may use.
import { checkPartitions, fnv1a, nextSeq, partitionOf } from "../../src/core/partition";

describe("fnv1a", () => {
  test("matches the published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  test("hashes UTF-8 bytes, not UTF-16 code units", () => {
    expect(fnv1a("héllo")).toBe(1252296000);
    expect(fnv1a("héllo")).not.toBe(fnv1a("hello"));
  });
});

describe("partitionOf", () => {
  test("pinned values: the partition of an id never changes", () => {
    expect(partitionOf("instance-1", 16)).toBe(4);
    expect(partitionOf("foobar", 16)).toBe(8);
    expect(partitionOf("a", 16)).toBe(12);
    expect(partitionOf("@counter@k", 16)).toBe(8);
  });

  test("one partition: everything is partition 0", () => {
    expect(partitionOf("anything", 1)).toBe(0);
    expect(partitionOf("@x@y", 1)).toBe(0);
  });

  test("every spelling of an entity id lands in one partition", () => {
    for (const p of [2, 4, 16, 64]) {
      expect(partitionOf("@Counter@k", p)).toBe(partitionOf("@counter@k", p));
      expect(partitionOf("@COUNTER@Key", p)).toBe(partitionOf("@counter@Key", p));
    }
  });

  test("a malformed entity id still has a partition", () => {
    expect(partitionOf("@nokey", 16)).toBe(fnv1a("@nokey") % 16);
  });

  test("ids spread over the partitions", () => {
    for (const partitions of [4, 16]) {
      const counts = new Array<number>(partitions).fill(0);
      const n = 16_000;
      for (let i = 0; i < n; i++) counts[partitionOf(`order-${i}`, partitions)]++;
      const mean = n / partitions;
      for (const c of counts) {
        expect(c).toBeGreaterThan(mean * 0.8);
        expect(c).toBeLessThan(mean * 1.2);
      }
    }
  });
});

describe("nextSeq", () => {
  test("one partition counts up by one", () => {
    expect(nextSeq(0, 0, 1)).toBe(1);
    expect(nextSeq(41, 0, 1)).toBe(42);
  });

  test("each partition uses only seqs congruent to its index, always above the last", () => {
    const P = 4;
    const used = new Set<number>();
    for (let part = 0; part < P; part++) {
      let seq = 10;
      for (let i = 0; i < 50; i++) {
        const next = nextSeq(seq, part, P);
        expect(next).toBeGreaterThan(seq);
        expect(next % P).toBe(part);
        expect(next - seq).toBeLessThanOrEqual(P);
        expect(used.has(next)).toBe(false);
        used.add(next);
        seq = next;
      }
    }
  });
});

describe("checkPartitions", () => {
  test("accepts 1..1024 and names the range otherwise", () => {
    expect(checkPartitions(1)).toBe(1);
    expect(checkPartitions(16)).toBe(16);
    for (const bad of [0, -1, 1.5, 1025, NaN]) expect(() => checkPartitions(bad)).toThrow(/partitions must be a whole number from 1 to 1024/);
  });
});
