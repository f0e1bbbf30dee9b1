// The instances a hub holds outside memory (finished ones, or none of that id), as the engine's
// synchronous logic reads them. A store that answers at once (memory, SQLite) is read directly. A
// store behind a network connection (PostgreSQL) is read ahead: an operation first awaits fetch()
// for the ids it will touch, then runs its synchronous logic against a small cache. The engine is
// its hubs' only writer, so it keeps the cache true itself: every instance that leaves memory or is
// written while cold goes into the cache as it now is, and a fetch never overwrites such an entry.
import { HistoryEvent, InstanceRecord } from "../core/model";
import { AsyncStore, EngineStore, isAsyncStore, Store } from "../store/store";

export interface ColdRecords {
  /** Reads must be fetched ahead (the store answers through promises). */
  readonly ahead: boolean;
  /** The cold instance as the engine last wrote it; undefined when there is none. */
  instance(id: string): InstanceRecord | undefined;
  /** Its history (empty when there is no such instance). */
  history(id: string): HistoryEvent[];
  /** Makes instance() (and with `history`, history()) answer for these ids; undefined when nothing needs awaiting. */
  fetch(ids: Iterable<string>, history: boolean): Promise<void> | undefined;
  /** The instance (and history) as committed, straight from the store. */
  committed(id: string): InstanceRecord | undefined | Promise<InstanceRecord | undefined>;
  committedHistory(id: string): HistoryEvent[] | Promise<HistoryEvent[]>;
  /**
   * The instance is now as given, outside memory (left memory once durable, imported, or gone:
   * undefined); a history left out is read from the store when needed. `durable` false pins the
   * entry until unpin() (the store still holds the old state).
   */
  wrote(id: string, rec: InstanceRecord | undefined, history: HistoryEvent[] | undefined, durable: boolean): void;
  unpin(id: string): void;
  clear(): void;
}

export function coldRecords(hub: string, store: EngineStore, capacity = 10_000): ColdRecords {
  return isAsyncStore(store) ? new ColdCache(hub, store, capacity) : new StoreReads(hub, store);
}

/** A synchronous store is its own cold records. */
class StoreReads implements ColdRecords {
  readonly ahead = false;
  constructor(private readonly hub: string, private readonly store: Store) {}
  instance(id: string) { return this.store.getInstance(this.hub, id); }
  history(id: string) { return this.store.getHistory(this.hub, id); }
  fetch() { return undefined; }
  committed(id: string) { return this.store.getInstance(this.hub, id); }
  committedHistory(id: string) { return this.store.getHistory(this.hub, id); }
  wrote() {}
  unpin() {}
  clear() {}
}

interface Entry {
  rec: InstanceRecord | undefined;
  history?: HistoryEvent[];
  /** Written by a change not yet durable: the store still holds the old state, so it must not be dropped. */
  pins: number;
}

/** Thrown when the engine reads a cold instance it did not fetch first: a bug, not a user error. */
export class ColdReadError extends Error {}

class ColdCache implements ColdRecords {
  readonly ahead = true;
  /** In insertion order, oldest first (a Map keeps it), for dropping the oldest when full. */
  private readonly entries = new Map<string, Entry>();
  /** Ids being fetched, and whether the engine wrote them meanwhile (the fetched state is then old). */
  private readonly fetching = new Map<string, { stale: boolean }>();

  constructor(private readonly hub: string, private readonly store: AsyncStore, private readonly capacity: number) {}

  instance(id: string): InstanceRecord | undefined {
    return this.entry(id).rec;
  }

  history(id: string): HistoryEvent[] {
    const e = this.entry(id);
    if (!e.rec) return [];
    if (!e.history) throw new ColdReadError(`the history of instance '${id}' was read before it was fetched`);
    return e.history;
  }

  fetch(ids: Iterable<string>, history: boolean): Promise<void> | undefined {
    const missing = [...new Set(ids)].filter((id) => {
      const e = this.entries.get(id);
      return !e || (history && e.rec && !e.history);
    });
    return missing.length === 0 ? undefined : Promise.all(missing.map((id) => this.fetchOne(id, history))).then(() => undefined);
  }

  committed(id: string): Promise<InstanceRecord | undefined> {
    return this.store.getInstance(this.hub, id);
  }

  committedHistory(id: string): Promise<HistoryEvent[]> {
    return this.store.getHistory(this.hub, id);
  }

  wrote(id: string, rec: InstanceRecord | undefined, history: HistoryEvent[] | undefined, durable: boolean): void {
    const f = this.fetching.get(id);
    if (f) f.stale = true;
    const pins = (this.entries.get(id)?.pins ?? 0) + (durable ? 0 : 1);
    this.entries.delete(id);
    this.entries.set(id, { rec, history, pins });
    this.trim();
  }

  unpin(id: string): void {
    const e = this.entries.get(id);
    if (e && e.pins > 0) e.pins--;
  }

  clear(): void {
    this.entries.clear();
    for (const f of this.fetching.values()) f.stale = true;
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new ColdReadError(`instance '${id}' was read before it was fetched`);
    return e;
  }

  /** Reads the instance from the store; again when the engine wrote it meanwhile (its own entry then stands). */
  private async fetchOne(id: string, history: boolean): Promise<void> {
    for (;;) {
      const mark = { stale: false };
      this.fetching.set(id, mark);
      try {
        const rec = await this.store.getInstance(this.hub, id);
        const events = history && rec ? await this.store.getHistory(this.hub, id) : undefined;
        if (!mark.stale) {
          this.entries.set(id, { rec, history: events, pins: 0 });
          this.trim();
          return;
        }
      } finally {
        if (this.fetching.get(id) === mark) this.fetching.delete(id);
      }
      const e = this.entries.get(id);
      if (e && (!history || !e.rec || e.history)) return;
    }
  }

  /** Drops the oldest durable entries beyond the capacity (they can be fetched again). */
  private trim(): void {
    if (this.entries.size <= this.capacity) return;
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.capacity) return;
      if (e.pins === 0) this.entries.delete(id);
    }
  }
}
