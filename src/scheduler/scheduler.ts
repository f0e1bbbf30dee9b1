// The scheduler: the set of task hubs over one store and one group committer.
import { SchedulerError } from "../core/errors";
import { Store } from "../store/store";
import { GroupCommitter } from "./group-commit";
import { DEFAULT_ENGINE_OPTIONS, EngineOptions } from "./options";
import { TaskHub } from "./task-hub";

export interface SchedulerOptions extends Partial<EngineOptions> {
  /** Hubs that exist from the start (created in the store if missing). */
  hubs?: string[];
  /** Create a hub on its first use instead of answering NOT_FOUND. */
  dynamicHubs?: boolean;
}

export const DEFAULT_HUB = "default";

export class Scheduler {
  readonly options: EngineOptions;
  readonly committer: GroupCommitter;
  private readonly hubs = new Map<string, TaskHub>();
  private readonly dynamicHubs: boolean;

  constructor(readonly store: Store, options: SchedulerOptions = {}) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...stripUndefined(options) };
    this.dynamicHubs = !!options.dynamicHubs;
    this.committer = new GroupCommitter(store, (err) => {
      console.error(`dts: a commit failed (${err.message}); reloading hub state from the store`);
      for (const hub of this.hubs.values()) hub.reload();
    });
    for (const name of options.hubs && options.hubs.length > 0 ? options.hubs : [DEFAULT_HUB]) store.createHub(normalize(name));
    for (const name of store.listHubs()) this.open(name);
  }

  /** The hub a request names (no name: `default`); NOT_FOUND unless it exists or hubs are dynamic. */
  hub(name: string | undefined): TaskHub {
    const key = normalize(name || DEFAULT_HUB);
    const hub = this.hubs.get(key);
    if (hub) return hub;
    if (this.dynamicHubs) return this.createHub(key);
    throw new SchedulerError("NOT_FOUND", `Task hub not found: ${name || DEFAULT_HUB}`);
  }

  hubNames(): string[] {
    return [...this.hubs.keys()];
  }

  createHub(name: string, recreate = false): TaskHub {
    const key = normalize(name);
    const existing = this.hubs.get(key);
    if (existing) {
      if (!recreate) return existing;
      // Recreate: the old hub's data goes; its queued writes are dropped with it.
      this.hubs.delete(key);
      existing.close();
      this.store.deleteHub(key);
    }
    this.store.createHub(key);
    return this.open(key);
  }

  /** Deletes the hub and all its data, once everything already queued for it is written. */
  async deleteHub(name: string): Promise<void> {
    const key = normalize(name);
    const hub = this.hubs.get(key);
    if (!hub) throw new SchedulerError("NOT_FOUND", `Task hub not found: ${name}`);
    this.hubs.delete(key);
    hub.close();
    await this.committer.flush();
    this.store.deleteHub(key);
  }

  async close(): Promise<void> {
    await this.committer.flush();
    for (const hub of this.hubs.values()) hub.close();
    await this.store.close();
  }

  private open(name: string): TaskHub {
    const hub = new TaskHub(name, this.store, this.committer, this.options);
    this.hubs.set(name, hub);
    return hub;
  }
}

/** Hub names are case-insensitive, like the managed service's. */
function normalize(name: string): string {
  return name.trim().toLowerCase();
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
