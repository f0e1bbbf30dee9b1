// A Store that forwards to a real one and injects faults at the store boundary: commits that fail
// (as a full disk or an I/O error would), and commits that take longer (a slow disk). Everything
// else, and every commit it lets through, is the real store's own behaviour.
import { HistoryEvent, InstanceRecord } from "../../src/core/model";
import { HubSnapshot, InstanceFilter, InstanceListing, InstancePage, Store, StoreFatalError, StoreOp } from "../../src/store";

export class FaultyStore implements Store {
  /** The next this-many commits fail without reaching the store. */
  failNext = 0;
  /** Each commit waits this long before it reaches the store. */
  delayMs = 0;
  /** A failing commit takes this long to fail (a disk timing out), so changes queue up behind it. */
  failAfterMs = 0;
  readonly injected = { failed: 0, delayed: 0 };
  readonly commitAsync?: (ops: StoreOp[]) => Promise<number | void>;
  readonly ready?: () => Promise<void>;
  readonly onFatal?: (listener: (err: StoreFatalError) => void) => void;

  constructor(readonly inner: Store) {
    const commitAsync = inner.commitAsync;
    if (commitAsync) this.commitAsync = (ops) => this.before().then(() => commitAsync.call(inner, ops));
    if (inner.ready) this.ready = () => inner.ready!();
    if (inner.onFatal) this.onFatal = (listener) => inner.onFatal!(listener);
  }

  get kind() {
    return this.inner.kind;
  }

  commit(ops: StoreOp[]): void {
    if (this.failNext > 0) throw this.fault();
    this.inner.commit(ops);
  }

  listHubs(): string[] { return this.inner.listHubs(); }
  createHub(hub: string, partitions?: number): void { this.inner.createHub(hub, partitions); }
  deleteHub(hub: string): void { this.inner.deleteHub(hub); }
  load(hub: string, part?: number): HubSnapshot { return this.inner.load(hub, part); }
  readInbox(hub: string, part: number, limit: number) { return this.inner.readInbox(hub, part, limit); }
  getInstance(hub: string, id: string): InstanceRecord | undefined { return this.inner.getInstance(hub, id); }
  getHistory(hub: string, id: string): HistoryEvent[] { return this.inner.getHistory(hub, id); }
  queryInstances(hub: string, f: InstanceFilter, size: number, token?: string): InstancePage { return this.inner.queryInstances(hub, f, size, token); }
  listInstanceIds(hub: string, f: InstanceFilter, size: number, after?: string) { return this.inner.listInstanceIds(hub, f, size, after); }
  listInstances(hub: string, f: InstanceFilter, listing: InstanceListing) { return this.inner.listInstances(hub, f, listing); }
  countByStatus(hub: string, f: InstanceFilter) { return this.inner.countByStatus(hub, f); }
  findInstanceIds(hub: string, f: InstanceFilter, limit: number): string[] { return this.inner.findInstanceIds(hub, f, limit); }
  close(): void | Promise<void> { return this.inner.close(); }

  private async before(): Promise<void> {
    if (this.failNext > 0 && this.failAfterMs > 0) {
      this.failNext--;
      await new Promise((resolve) => setTimeout(resolve, this.failAfterMs));
      this.failNext++;
      throw this.fault();
    }
    if (this.delayMs > 0) {
      this.injected.delayed++;
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    }
    if (this.failNext > 0) throw this.fault();
  }

  private fault(): Error {
    this.failNext--;
    this.injected.failed++;
    return Object.assign(new Error("injected fault: disk I/O error"), { code: "SQLITE_IOERR" });
  }
}
