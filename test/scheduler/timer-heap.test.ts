// TimerHeap: due-time ordering, firing, and compact() (dropping entries of, e.g., purged instances).
// Deterministic: jest's fake timers drive both setTimeout and the clock the heap is given (the
// mocked Date.now, starting at 0), so each timer fires exactly when its due time comes.
import { TimerHeap } from "../../src/scheduler/timer-heap";

let fired: string[][] = [];
const clock = () => Date.now();

function heap(): TimerHeap<string> {
  return new TimerHeap<string>((items) => fired.push(items), clock);
}

const advance = (ms: number) => jest.advanceTimersByTime(ms);

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
  fired = [];
});
afterEach(() => jest.useRealTimers());

describe("TimerHeap", () => {
  test("fires entries in due-time order once due", () => {
    const h = heap();
    for (const [at, item] of [[30, "c"], [10, "a"], [20, "b"], [10, "a2"]] as const) h.add(at, item);
    advance(9);
    expect(fired).toEqual([]);
    advance(1);
    expect(fired.flat().sort()).toEqual(["a", "a2"]);
    advance(20);
    expect(fired.slice(1)).toEqual([["b"], ["c"]]);
    expect(h.size).toBe(0);
    h.close();
  });

  test("compact drops rejected entries, keeps the rest in order and returns the count", () => {
    const h = heap();
    // 200 entries, due at scrambled times 1..200; drop the odd items.
    const times = Array.from({ length: 200 }, (_, i) => ((i * 71) % 200) + 1);
    for (const at of times) h.add(at, `t${at}`);
    expect(h.compact((item) => Number(item.slice(1)) % 2 === 0)).toBe(100);
    expect(h.size).toBe(100);
    advance(200);
    expect(fired.flat()).toEqual(Array.from({ length: 100 }, (_, i) => `t${2 * (i + 1)}`));
    expect(h.size).toBe(0);
    h.close();
  });

  test("compact that keeps everything drops nothing and leaves firing alone", () => {
    const h = heap();
    h.add(5, "a");
    h.add(7, "b");
    expect(h.compact(() => true)).toBe(0);
    expect(h.size).toBe(2);
    advance(7);
    expect(fired.flat()).toEqual(["a", "b"]);
    h.close();
  });

  test("compact re-arms for the new earliest entry when the armed one is dropped", () => {
    const h = heap();
    h.add(10, "purged");
    h.add(50, "kept");
    h.add(100_000_000_000, "far-future-purged");
    expect(h.compact((item) => !item.includes("purged"))).toBe(2);
    expect(h.size).toBe(1);
    // Nothing fires at the dropped entry's time, and exactly one timer is pending (no leak).
    advance(10);
    expect(fired).toEqual([]);
    expect(jest.getTimerCount()).toBe(1);
    advance(40);
    expect(fired).toEqual([["kept"]]);
    expect(jest.getTimerCount()).toBe(0);
    h.close();
  });

  test("compact to empty disarms the timer; later adds arm again", () => {
    const h = heap();
    h.add(100_000_000_000, "far");
    h.add(20, "soon");
    expect(jest.getTimerCount()).toBe(1);
    expect(h.compact(() => false)).toBe(2);
    expect(h.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    h.add(clock() + 5, "new");
    expect(jest.getTimerCount()).toBe(1);
    advance(5);
    expect(fired).toEqual([["new"]]);
    h.close();
  });

  test("entries added after compact interleave correctly with the kept ones", () => {
    const h = heap();
    for (let at = 10; at <= 100; at += 10) h.add(at, `x${at}`);
    expect(h.compact((item) => item !== "x10" && item !== "x20")).toBe(2);
    h.add(15, "y15");
    h.add(35, "y35");
    advance(100);
    expect(fired.flat()).toEqual(["y15", "x30", "y35", "x40", "x50", "x60", "x70", "x80", "x90", "x100"]);
    h.close();
  });

  test("compact after close is a no-op", () => {
    const h = heap();
    h.add(10, "a");
    h.close();
    expect(h.compact(() => false)).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
