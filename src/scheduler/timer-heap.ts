// Due times of future work (timers, scheduled starts, retry delays) in a binary min-heap, with one
// Node timer armed for the earliest. Entries are hints: the owner re-checks state when one fires.
export class TimerHeap<T> {
  private heap: { at: number; item: T }[] = [];
  private timer?: NodeJS.Timeout;
  private armedAt = Infinity;
  private closed = false;

  constructor(private readonly onDue: (items: T[]) => void, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.heap.length;
  }

  add(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
    this.arm();
  }

  /**
   * Drops the entries whose item `keep` rejects (e.g. those of purged instances, whose far-future
   * due times would otherwise stay forever), rebuilds the heap in O(n) and re-arms the Node timer
   * for the new earliest entry. Returns how many entries were dropped.
   */
  compact(keep: (item: T) => boolean): number {
    const before = this.heap.length;
    const h = this.heap.filter((e) => keep(e.item));
    const dropped = before - h.length;
    if (dropped === 0) return 0;
    this.heap = h;
    for (let i = (h.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    // The armed time may belong to a dropped entry: disarm and arm for what is left.
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.arm();
    return dropped;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.heap = [];
  }

  private pop(): { at: number; item: T } {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }

  private arm(): void {
    if (this.closed || this.heap.length === 0) return;
    const at = this.heap[0].at;
    if (at >= this.armedAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    // setTimeout holds at most ~24.8 days; a longer timer re-arms when that one fires.
    const delay = Math.min(Math.max(0, at - this.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    const due: T[] = [];
    while (this.heap.length > 0 && this.heap[0].at <= now) due.push(this.pop().item);
    if (due.length > 0) this.onDue(due);
    this.arm();
  }
}
