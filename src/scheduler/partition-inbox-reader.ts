// A partition's reader of its inbox: one pass at a time reads the oldest rows, fetches what they
// read outside memory, applies them in one change that deletes them, and waits for that commit
// before reading again (so a row is never applied twice in memory either). Told to pull after
// another partition's commit, and every 5 s as a backstop (a lost wake-up, a LISTEN connection being reopened).
import { log } from "../log/log";
import { EngineStore, InboxEntry, isAsyncStore } from "../store/store";
import { Change } from "./change";
import { HubCommit } from "./hub-commit";
import { HubState } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";
import { applyInboxEntry, coldNeeds } from "./partition-inbox";

/** Rows applied per change. */
const INBOX_BATCH = 256;
const POLL_MS = 5000;

export class PartitionInbox {
  private running = false;
  private again = false;
  private readonly timer?: NodeJS.Timeout;

  constructor(
    private readonly state: HubState,
    private readonly lifecycle: InstanceLifecycle,
    private readonly store: EngineStore,
    private readonly commit: HubCommit,
    private readonly loading: () => boolean,
  ) {
    // In one process every sender tells the receiver after its commit; only a store other processes
    // write to (PostgreSQL: other nodes, a LISTEN connection being reopened) needs the backstop.
    if (isAsyncStore(store)) {
      this.timer = setInterval(() => this.pull(), POLL_MS);
      this.timer.unref();
    }
  }

  /** Starts a pass, or asks the running one to read once more when it is done. */
  pull(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.drain()
      .catch((err: Error) => {
        // A refused commit reloads the partition; its rows are still in the store for the next pass.
        if (this.commit.closed === undefined) log.error(`dts: task hub '${this.state.name}' partition ${this.state.link.part} could not apply its inbox (${err.message}); trying again`, { hub: this.state.name });
      })
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.pull();
        }
      });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private stopped(): boolean {
    return this.commit.closed !== undefined || this.loading();
  }

  private async drain(): Promise<void> {
    const { name, link } = this.state;
    for (;;) {
      if (this.stopped()) return;
      const rows: InboxEntry[] = isAsyncStore(this.store) ? await this.store.readInbox(name, link.part, INBOX_BATCH) : this.store.readInbox(name, link.part, INBOX_BATCH);
      if (rows.length === 0 || this.stopped()) return;
      await this.fetchCold(rows);
      if (this.stopped()) return;
      const change = new Change();
      for (const row of rows) applyInboxEntry(this.state, this.lifecycle, row, change);
      change.ops.push({ op: "deleteInbox", hub: name, part: link.part, ids: rows.map((r) => r.id) });
      await this.commit.run(change);
      if (rows.length < INBOX_BATCH) return;
    }
  }

  private async fetchCold(rows: InboxEntry[]): Promise<void> {
    const plain: string[] = [];
    const withHistory: string[] = [];
    for (const row of rows) {
      const need = coldNeeds(row);
      if (need) (need.history ? withHistory : plain).push(need.id);
    }
    await this.state.fetchCold(plain);
    await this.state.fetchCold(withHistory, true);
  }
}
