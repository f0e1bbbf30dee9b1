// Callers waiting for an instance to reach a state (WaitForInstanceStart/Completion), woken after
// each commit that touched the instance.
import { InstanceRecord } from "../core/model";

type Waiter = { predicate: (r: InstanceRecord) => boolean; resolve: (r: InstanceRecord | undefined) => void };

export class InstanceWaiters {
  private readonly byInstance = new Map<string, Set<Waiter>>();
  private count = 0;

  /** Callers waiting now. */
  get size(): number {
    return this.count;
  }

  /** Resolves with the record once the predicate holds, or undefined after timeoutMs or on cancel. */
  wait(instanceId: string, predicate: (r: InstanceRecord) => boolean, timeoutMs: number, cancelled?: (cb: () => void) => void): Promise<InstanceRecord | undefined> {
    return new Promise((resolve) => {
      let set = this.byInstance.get(instanceId);
      if (!set) this.byInstance.set(instanceId, (set = new Set()));
      let done = false;
      const waiter: Waiter = {
        predicate,
        resolve: (r) => {
          if (done) return;
          done = true;
          this.count--;
          clearTimeout(timer);
          set!.delete(waiter);
          if (set!.size === 0 && this.byInstance.get(instanceId) === set) this.byInstance.delete(instanceId);
          resolve(r);
        },
      };
      const timer = setTimeout(() => waiter.resolve(undefined), timeoutMs);
      set.add(waiter);
      this.count++;
      cancelled?.(() => waiter.resolve(undefined));
    });
  }

  has(instanceId: string): boolean {
    return this.byInstance.has(instanceId);
  }

  /** The instance changed: waiters whose predicate now holds get the record; all get undefined when it is gone. */
  notify(instanceId: string, rec: InstanceRecord | undefined): void {
    const set = this.byInstance.get(instanceId);
    if (!set) return;
    for (const w of [...set]) {
      if (!rec) w.resolve(undefined);
      else if (w.predicate(rec)) w.resolve(rec);
    }
  }

  /** Shutdown: every waiter gets undefined. */
  close(): void {
    for (const set of [...this.byInstance.values()]) for (const w of [...set]) w.resolve(undefined);
    this.byInstance.clear();
  }
}
