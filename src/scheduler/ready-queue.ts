// A ready queue of one kind of work that can also be read by name and version, for workers with
// work-item filters. Every entry is in one FIFO in arrival order; while some connected worker has a
// filter, entries are also indexed by name and version, so a filtered worker looks only at the
// queues of what it accepts instead of scanning the backlog. An entry taken through one side is
// marked and skipped (and dropped) when the other side reaches it.
import { filterKey, NameFilter } from "../core/work-filters";
import { Fifo } from "./fifo";

interface Entry<K> {
  key: K;
  /** As given; compared through filterKey, and only while the index exists (plain dispatch never needs it). */
  name: string;
  version: string | undefined;
  /** Arrival order; entries put back in front get ever smaller numbers. */
  order: number;
  taken: boolean;
}

type VersionQueues<K> = Map<string, Fifo<Entry<K>>>;

export class ReadyQueue<K> {
  private all = new Fifo<Entry<K>>();
  /** name → version → entries; only while filtered workers are connected. */
  private index?: Map<string, VersionQueues<K>>;
  /** Entries in `all` already taken through the index. */
  private takenInAll = 0;
  private last = 0;
  private first = 0;

  get length(): number {
    return this.all.length - this.takenInAll;
  }

  push(key: K, name: string, version: string | undefined): void {
    this.add({ key, name, version, order: ++this.last, taken: false }, false);
  }

  /** Puts an entry back first in line (work dispatched before). */
  unshift(key: K, name: string, version: string | undefined): void {
    this.add({ key, name, version, order: --this.first, taken: false }, true);
  }

  /** The oldest entry, for a worker without a filter. */
  shift(): K | undefined {
    for (;;) {
      const e = this.all.shift();
      if (!e) return undefined;
      if (e.taken) {
        this.takenInAll--;
        continue;
      }
      e.taken = true;
      // It was the oldest: in its name-and-version queue every entry before it is taken too.
      if (this.index) this.dropTakenHeads(e);
      return e.key;
    }
  }

  /** The oldest entry `filter` accepts; entries it does not accept stay where they are. */
  shiftAccepted(filter: NameFilter): K | undefined {
    const index = (this.index ??= this.buildIndex());
    let best: Fifo<Entry<K>> | undefined;
    let bestOrder = Infinity;
    for (const [name, versions] of filter) {
      const byVersion = index.get(name);
      if (!byVersion) continue;
      const queues = versions ? [...versions].map((v) => byVersion.get(v)) : byVersion.values();
      for (const q of queues) {
        const head = q && this.liveHead(q);
        if (head && head.order < bestOrder) {
          best = q;
          bestOrder = head.order;
        }
      }
    }
    const e = best?.shift();
    if (!e) return undefined;
    e.taken = true;
    this.takenInAll++;
    this.compactAll();
    return e.key;
  }

  /** No connected worker has a filter any more: the index goes (it is rebuilt when one connects). */
  dropIndex(): void {
    if (!this.index) return;
    this.index = undefined;
    this.compactAll(true);
  }

  clear(): void {
    this.all.clear();
    this.index = undefined;
    this.takenInAll = 0;
  }

  private add(e: Entry<K>, front: boolean): void {
    if (front) this.all.unshift(e);
    else this.all.push(e);
    if (!this.index) return;
    const q = this.queueOf(this.index, e);
    if (front) q.unshift(e);
    else q.push(e);
  }

  private queueOf(index: Map<string, VersionQueues<K>>, e: Entry<K>): Fifo<Entry<K>> {
    const name = filterKey(e.name);
    const version = filterKey(e.version);
    let byVersion = index.get(name);
    if (!byVersion) index.set(name, (byVersion = new Map()));
    let q = byVersion.get(version);
    if (!q) byVersion.set(version, (q = new Fifo()));
    return q;
  }

  private buildIndex(): Map<string, VersionQueues<K>> {
    const index = new Map<string, VersionQueues<K>>();
    for (let e = this.all.peekAt(0), i = 0; e; e = this.all.peekAt(++i)) if (!e.taken) this.queueOf(index, e).push(e);
    return index;
  }

  /** The first entry of `q` not yet taken, dropping taken ones before it; empty queues leave the index. */
  private liveHead(q: Fifo<Entry<K>>): Entry<K> | undefined {
    for (let e = q.peekAt(0); e; e = q.peekAt(0)) {
      if (!e.taken) return e;
      q.shift();
    }
    return undefined;
  }

  private dropTakenHeads(e: Entry<K>): void {
    const name = filterKey(e.name);
    const version = filterKey(e.version);
    const byVersion = this.index!.get(name);
    const q = byVersion?.get(version);
    if (!q || this.liveHead(q)) return;
    byVersion!.delete(version);
    if (byVersion!.size === 0) this.index!.delete(name);
  }

  /** Rebuilds `all` without its taken entries once they are most of it (no unfiltered worker is reading it). */
  private compactAll(force = false): void {
    if (this.takenInAll === 0 || (!force && (this.takenInAll < 1024 || this.takenInAll * 2 < this.all.length))) return;
    const live = new Fifo<Entry<K>>();
    for (let e = this.all.peekAt(0), i = 0; e; e = this.all.peekAt(++i)) if (!e.taken) live.push(e);
    this.all = live;
    this.takenInAll = 0;
  }
}
