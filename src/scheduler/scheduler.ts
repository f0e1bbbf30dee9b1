// The scheduler: the set of task hubs over one store and one group committer. It owns what happens
// when a commit fails: the refused changes' hubs are rebuilt from the store (so memory equals disk
// again, with sequence numbers that only grow), and a store that can no longer write stops
// everything: every call is refused with UNAVAILABLE and the fatal listeners (the CLI exits) are told.
import { notStored, SchedulerError } from "../core/errors";
import { EngineStore, HubSnapshot, isAsyncStore, Store } from "../store/store";
import { CommitFailure, GroupCommitter } from "./group-commit";
import { DEFAULT_ENGINE_OPTIONS, EngineOptions } from "./options";
import { RetentionOptions, RetentionPurger } from "./retention-purger";
import { TaskHub } from "./task-hub";
import { Hub } from "./hub";
import { PartitionedHub } from "./partitioned-hub";
import { checkPartitions } from "../core/partition";
import { log } from "../log/log";

export interface SchedulerOptions extends Partial<EngineOptions> {
  /** Hubs that exist from the start (created in the store if missing). */
  hubs?: string[];
  /** Create a hub on its first use instead of answering NOT_FOUND. */
  dynamicHubs?: boolean;
  /** Most task hubs served at once (creating more answers RESOURCE_EXHAUSTED). */
  maxHubs?: number;
  /** Retention: the scheduler's policy, and the purger's clock and pacing (tests set the clock). */
  retention?: Partial<RetentionOptions>;
  /**
   * Partitions of each hub this scheduler creates (default 1; fixed for the hub's life). A hub of
   * more than one runs as a PartitionedHub; SQLite keeps one.
   */
  partitions?: number;
  /**
   * A cluster node: each hub runs only the partitions whose leases this node holds (own/disown on
   * its PartitionedHub), none at first; hubs are not loaded at open.
   */
  leased?: boolean;
}

export const DEFAULT_HUB = "default";
export const DEFAULT_MAX_HUBS = 100;

export class Scheduler {
  readonly options: EngineOptions;
  readonly committer: GroupCommitter;
  readonly maxHubs: number;
  /** Purges finished instances past their retention period, in the background. */
  readonly retention: RetentionPurger;
  private readonly hubs = new Map<string, Hub>();
  /** Partitions of the hubs this scheduler creates. */
  readonly partitions: number;
  private stopInbox?: Promise<() => Promise<void>>;
  private readonly dynamicHubs: boolean;
  /** A cluster node's scheduler (SchedulerOptions.leased). */
  readonly leased: boolean;
  /** A cluster node's view of the store's hubs: those in its last list, and those it deleted itself. */
  private storedBefore = new Set<string>();
  private readonly deletedHere = new Set<string>();
  private failure?: Error;
  private readonly fatalListeners: ((err: Error) => void)[] = [];
  private readonly readinessGates: (() => string | undefined)[] = [];
  private readonly hubCreatedListeners: (() => void)[] = [];

  /**
   * Opens the scheduler on any store: its hubs are created where missing and loaded before it
   * serves. (The constructor does the same at once on a store that answers at once.)
   */
  static async open(store: EngineStore, options: SchedulerOptions = {}): Promise<Scheduler> {
    if (!isAsyncStore(store)) return new Scheduler(store, options);
    const { missing, all } = hubsToServe(await store.listHubs(), options);
    for (const name of missing) await store.createHub(name, checkPartitions(options.partitions ?? 1));
    const snapshots = new Map<string, HubSnapshot>();
    if (options.leased) {
      // Nothing is loaded here: partitions load as their leases are acquired.
      const counts = await leasedStore(store).hubPartitions();
      for (const name of all) snapshots.set(name, { ...EMPTY_SNAPSHOT, partitions: counts.get(name) ?? 1 });
    } else {
      for (const name of all) snapshots.set(name, await store.load(name));
    }
    return new Scheduler(store, options, snapshots);
  }

  /** `snapshots`: every hub's state, read ahead (Scheduler.open), required from a store that answers through promises. */
  constructor(readonly store: EngineStore, options: SchedulerOptions = {}, snapshots?: Map<string, HubSnapshot>) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...stripUndefined(options) };
    this.dynamicHubs = !!options.dynamicHubs;
    this.leased = !!options.leased;
    this.partitions = checkPartitions(options.partitions ?? 1);
    if (this.partitions > 1 && store.kind === "sqlite") throw new Error(`the SQLite store keeps a task hub in one partition; ${this.partitions} partitions need --store postgres`);
    this.maxHubs = options.maxHubs ?? DEFAULT_MAX_HUBS;
    this.committer = new GroupCommitter(store, (f) => this.commitFailed(f), this.options.observer);
    if (!snapshots) {
      if (isAsyncStore(store)) throw new Error("a store that answers through promises is opened with Scheduler.open");
      const { missing, all } = hubsToServe(store.listHubs(), options);
      for (const name of missing) store.createHub(name, this.partitions);
      snapshots = new Map([...all].map((name) => [name, store.load(name)]));
    }
    for (const [name, snapshot] of snapshots) this.open(name, snapshot);
    if (!isAsyncStore(store)) store.onFatal?.((err) => this.fail(err));
    // Other processes write to partitions' inboxes: PostgreSQL tells which (in-process senders tell the receiver themselves).
    if (isAsyncStore(store) && store.onInbox && (this.leased || this.partitions > 1 || [...this.hubs.values()].some((h) => h instanceof PartitionedHub))) {
      this.stopInbox = store.onInbox((hub, part) => this.hubs.get(hub)?.inboxWritten?.(part));
      this.stopInbox.catch((err: Error) => log.error(`dts: cannot LISTEN for messages between partitions (${err.message}); partitions read their inboxes every few seconds instead`));
    }
    this.retention = new RetentionPurger(() => (this.failure ? [] : [...this.hubs.values()]), this.committer, stripUndefined(options.retention ?? {}));
    this.retention.start();
  }

  /** Why the scheduler stopped serving, if it did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /**
   * Why this node should not be sent traffic now (undefined: it should): it cannot write, a hub is
   * being reloaded from the store, or a readiness condition added with `gateReadiness` does not hold.
   */
  notReady(): string | undefined {
    if (this.failure) return `cannot write to its store: ${this.failure.message}`;
    for (const [name, hub] of this.hubs) if (hub.loading) return `task hub '${name}' is being reloaded from the store`;
    for (const gate of this.readinessGates) {
      const reason = gate();
      if (reason) return reason;
    }
    return undefined;
  }

  /** Calls the listener whenever this scheduler creates a hub (a cluster node shares its partitions out at once). */
  onHubCreated(listener: () => void): void {
    this.hubCreatedListeners.push(listener);
  }

  /** Adds a condition for readiness (a cluster node's membership): the gate returns why not, or undefined. */
  gateReadiness(gate: () => string | undefined): void {
    this.readinessGates.push(gate);
  }

  /** Calls the listener once if the store can no longer write (the server should exit). */
  onFatal(listener: (err: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.fatalListeners.push(listener);
  }

  /** The hub a request names (no name: `default`); NOT_FOUND unless it exists or hubs are dynamic. */
  hub(name: string | undefined): Hub {
    this.checkHealthy();
    const key = normalize(name || DEFAULT_HUB);
    const hub = this.hubs.get(key);
    if (hub?.loading) throw new SchedulerError("UNAVAILABLE", `Task hub '${key}' is being reloaded from the store after a failed write; try again shortly`);
    if (hub) return hub;
    if (this.dynamicHubs) return this.create(key);
    throw new SchedulerError("NOT_FOUND", `Task hub not found: ${name || DEFAULT_HUB}`);
  }

  hubNames(): string[] {
    return [...this.hubs.keys()];
  }

  /** A cluster node's hub, by its normalized name (undefined when not served or not leased). */
  partitioned(name: string): PartitionedHub | undefined {
    const hub = this.hubs.get(name);
    return hub instanceof PartitionedHub ? hub : undefined;
  }

  /**
   * A cluster node brings its hubs in line with the store's: hubs other nodes created are opened
   * (owning no partition yet), hubs they deleted are closed.
   */
  adoptHubs(stored: Map<string, number>): void {
    if (!this.leased || this.failure) return;
    // A hub deleted here stays deleted though a list read before its delete committed still shows it.
    for (const name of this.deletedHere) if (!stored.has(name)) this.deletedHere.delete(name);
    for (const [name, partitions] of stored) {
      if (!this.hubs.has(name) && !this.deletedHere.has(name) && this.hubs.size < this.maxHubs) this.open(name, undefined, partitions);
    }
    // Only a hub the store listed before and lists no more was deleted elsewhere (one created here may not be committed yet).
    for (const [name, hub] of this.hubs) {
      if (stored.has(name) || !this.storedBefore.has(name)) continue;
      this.hubs.delete(name);
      hub.close(`Task hub '${name}' was deleted`);
    }
    this.storedBefore = new Set(stored.keys());
  }

  /**
   * Creates a hub (recreate: deletes it and its data first); resolves once durable. The store ops go
   * through the committer, so they are ordered with the hub's own writes: nothing written for the
   * old hub can land after the delete, nor anything for the new hub before its create.
   */
  async createHub(name: string, recreate = false): Promise<void> {
    this.checkHealthy();
    const key = normalize(name);
    const existing = this.hubs.get(key);
    if (existing && !recreate) return;
    const ops: ({ op: "createHub"; hub: string; partitions?: number } | { op: "deleteHub"; hub: string })[] = [];
    if (existing) {
      this.hubs.delete(key);
      existing.close(`Task hub '${key}' was deleted and created again; reconnect`);
      ops.push({ op: "deleteHub", hub: key });
    }
    this.create(key, ops);
    await this.commitOps(ops);
    for (const l of this.hubCreatedListeners) l();
  }

  /** Deletes the hub and all its data after everything already queued for it; ends its workers' streams. */
  async deleteHub(name: string): Promise<void> {
    this.checkHealthy();
    const key = normalize(name);
    const hub = this.hubs.get(key);
    if (!hub) throw new SchedulerError("NOT_FOUND", `Task hub not found: ${name}`);
    this.hubs.delete(key);
    if (this.leased) this.deletedHere.add(key);
    hub.close(`Task hub '${key}' was deleted`);
    await this.commitOps([{ op: "deleteHub", hub: key }]);
  }

  async close(): Promise<void> {
    await this.retention.stop();
    await (await this.stopInbox?.catch(() => undefined))?.();
    await this.committer.flush();
    for (const hub of this.hubs.values()) hub.close("The scheduler is shutting down");
    await this.store.close();
  }

  /** A new, empty hub in memory, with its store create queued (into `ops` when given, else at once). */
  private create(key: string, ops?: { op: "createHub" | "deleteHub"; hub: string; partitions?: number }[]): Hub {
    if (this.hubs.size >= this.maxHubs) {
      throw new SchedulerError("RESOURCE_EXHAUSTED", `This scheduler already serves ${this.hubs.size} task hubs, its limit (--max-hubs ${this.maxHubs}); delete a hub or raise the limit`);
    }
    const create = { op: "createHub" as const, hub: key, ...(this.partitions > 1 ? { partitions: this.partitions } : {}) };
    const created = () => this.hubCreatedListeners.forEach((l) => l());
    if (ops) ops.push(create);
    else this.committer.commit([create], created);
    return this.open(key, undefined, this.partitions);
  }

  private commitOps(ops: { op: "createHub" | "deleteHub"; hub: string; partitions?: number }[]): Promise<void> {
    return new Promise((resolve, reject) => this.committer.commit(ops, resolve, (err) => reject(notStored(err))));
  }

  /** `partitions`: a new hub's; a stored hub's snapshot says its own. */
  private open(name: string, snapshot?: HubSnapshot, partitions = snapshot?.partitions ?? 1): Hub {
    const hub = this.leased
      ? new PartitionedHub(name, partitions, this.store, this.committer, this.options)
      : partitions > 1
        ? PartitionedHub.whole(name, partitions, this.store, this.committer, this.options, snapshot)
        : new TaskHub(name, this.store, this.committer, this.options, snapshot);
    this.hubs.set(name, hub);
    return hub;
  }

  private checkHealthy(): void {
    if (this.failure) throw new SchedulerError("UNAVAILABLE", `The scheduler cannot write to its store and has stopped serving: ${this.failure.message}`);
  }

  /** A group commit failed: the refused changes' hubs go back to what the store holds. */
  private commitFailed(f: CommitFailure): void {
    if (f.fatal) return this.fail(f.error);
    const names = [...f.hubs];
    log.error(`dts: a commit failed (${f.error.message}); ${f.refused} change(s) were refused and not applied; reloading task hub(s) ${names.join(", ")} from the store`, { hubs: names });
    const failed = (err: Error) => this.fail(new Error(`reloading from the store after a failed commit failed too: ${err.message}`));
    const store = this.store;
    if (!isAsyncStore(store)) {
      try {
        this.reconcile(names, new Set(store.listHubs()), (name) => store.load(name));
      } catch (err) {
        failed(err as Error);
      }
      return;
    }
    // Each hub refuses calls from now until its state is read again.
    const reloads = names.map((name) => this.hubs.get(name)?.reload());
    Promise.all(reloads)
      .then(() => store.listHubs())
      .then(async (stored) => {
        const snapshots = new Map<string, HubSnapshot>();
        for (const name of names) if (!this.hubs.has(name) && stored.includes(name)) snapshots.set(name, await store.load(name));
        this.reconcile(names, new Set(stored), (name) => snapshots.get(name)!, true);
      })
      .catch(failed);
  }

  /** After a failed commit: each hub reloaded (unless `reloaded`), created or dropped as the store now says. */
  private reconcile(names: string[], stored: Set<string>, load: (name: string) => HubSnapshot, reloaded = false): void {
    for (const name of names) {
      const hub = this.hubs.get(name);
      if (hub && stored.has(name)) {
        if (!reloaded) void hub.reload();
      } else if (hub) {
        // Its creation was refused: it does not exist.
        this.hubs.delete(name);
        hub.close(`Task hub '${name}' could not be created; try again`);
      } else if (stored.has(name)) {
        // Its deletion was refused: it is still there.
        this.open(name, load(name));
      }
    }
  }

  /** The store cannot write any more: refuse everything from now on and tell the listeners. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    log.error(`dts: fatal: ${err.message}; the scheduler stops serving`);
    this.committer.stop(err);
    for (const hub of this.hubs.values()) hub.close(`The scheduler cannot write to its store: ${err.message}`);
    for (const l of this.fatalListeners.splice(0)) l(err);
  }
}

const EMPTY_SNAPSHOT: HubSnapshot = { instances: [], messages: [], activities: [], schedules: [], maxSeq: 0 };

/** A store a cluster node runs on: one that lists hubs with their partition counts (PostgreSQL). */
function leasedStore(store: Exclude<EngineStore, Store>): { hubPartitions(): Promise<Map<string, number>> } {
  if (!store.hubPartitions) throw new Error(`a cluster node needs a store that can be shared (postgres), not ${store.kind}`);
  return store as { hubPartitions(): Promise<Map<string, number>> };
}

/** The hubs a scheduler serves (those stored and those configured), and the configured ones it must create. */
function hubsToServe(stored: string[], options: SchedulerOptions): { missing: string[]; all: Set<string> } {
  const maxHubs = options.maxHubs ?? DEFAULT_MAX_HUBS;
  const configured = [...new Set((options.hubs && options.hubs.length > 0 ? options.hubs : [DEFAULT_HUB]).map(normalize))];
  const all = new Set([...stored, ...configured]);
  if (all.size > maxHubs) {
    throw new SchedulerError("RESOURCE_EXHAUSTED", `The data holds ${stored.length} task hubs and ${configured.length} are configured; at most ${maxHubs} are served (--max-hubs): raise the limit or delete hubs`);
  }
  return { missing: configured.filter((name) => !stored.includes(name)), all };
}

/** Hub names are case-insensitive, like the managed service's. */
function normalize(name: string): string {
  return name.trim().toLowerCase();
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
