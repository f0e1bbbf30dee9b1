// ReadyQueue: one arrival order for workers without filters, and per-name queues for workers with
// filters, each entry handed out once whichever side takes it.
import { workFilter } from "../../src/core/work-filters";
import { ReadyQueue } from "../../src/scheduler/ready-queue";

const only = (name: string, versions?: string[]) => workFilter({ orchestrations: [{ name, versions }] })!.orchestration;

describe("ReadyQueue", () => {
  test("without filters it is a FIFO; put-back entries come first", () => {
    const q = new ReadyQueue<string>();
    q.push("a", "A", undefined);
    q.push("b", "B", undefined);
    q.unshift("z", "Z", undefined);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(["z", "a", "b", undefined]);
  });

  test("a filter takes the oldest entry it accepts and leaves the others in order", () => {
    const q = new ReadyQueue<string>();
    q.push("a1", "A", "1");
    q.push("b1", "B", undefined);
    q.push("a2", "A", "2");
    q.push("b2", "B", undefined);
    expect(q.shiftAccepted(only("A", ["2"]))).toBe("a2");
    expect(q.shiftAccepted(only("A", ["2"]))).toBeUndefined();
    expect(q.shiftAccepted(only("B"))).toBe("b1");
    expect(q.length).toBe(2);
    // An unfiltered reader skips what the filtered one took.
    expect([q.shift(), q.shift(), q.shift()]).toEqual(["a1", "b2", undefined]);
    expect(q.shiftAccepted(only("A"))).toBeUndefined();
  });

  test("entries taken by the unfiltered reader are not handed out again through the index", () => {
    const q = new ReadyQueue<number>();
    for (let i = 0; i < 5; i++) q.push(i, "A", undefined);
    expect(q.shiftAccepted(only("A"))).toBe(0);
    expect([q.shift(), q.shift()]).toEqual([1, 2]);
    q.push(5, "A", undefined);
    expect([q.shiftAccepted(only("A")), q.shiftAccepted(only("A")), q.shiftAccepted(only("A")), q.shiftAccepted(only("A"))]).toEqual([3, 4, 5, undefined]);
    expect(q.shift()).toBeUndefined();
  });

  test("a put-back entry goes first for filtered readers too, and the index can be dropped and rebuilt", () => {
    const q = new ReadyQueue<string>();
    q.push("a1", "A", undefined);
    expect(q.shiftAccepted(only("A"))).toBe("a1");
    q.push("a2", "A", undefined);
    q.unshift("a1", "A", undefined);
    expect(q.shiftAccepted(only("A"))).toBe("a1");
    q.dropIndex();
    q.push("a3", "A", undefined);
    expect(q.shiftAccepted(only("A"))).toBe("a2");
    expect(q.shift()).toBe("a3");
  });

  test("a long backlog read mostly by a filtered worker keeps its order through compaction", () => {
    const q = new ReadyQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i, i % 2 ? "A" : "B", undefined);
    for (let i = 0; i < 2500; i++) expect(q.shiftAccepted(only("A"))).toBe(2 * i + 1);
    expect(q.length).toBe(2500);
    const rest: number[] = [];
    for (let k = q.shift(); k !== undefined; k = q.shift()) rest.push(k);
    expect(rest).toEqual(Array.from({ length: 2500 }, (_, i) => 2 * i));
  });
});
