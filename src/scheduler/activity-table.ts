// The activity tasks of a hub by seq, indexed by instance so an ending execution finds its own
// tasks without scanning every task of the hub (that scan sat on the completion path).
import { ActivityRecord } from "../core/model";

export class ActivityTable {
  private readonly bySeq = new Map<number, ActivityRecord>();
  private readonly byInstance = new Map<string, Set<number>>();

  get size(): number {
    return this.bySeq.size;
  }

  get(seq: number): ActivityRecord | undefined {
    return this.bySeq.get(seq);
  }

  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  values(): IterableIterator<ActivityRecord> {
    return this.bySeq.values();
  }

  set(seq: number, a: ActivityRecord): void {
    this.bySeq.set(seq, a);
    let seqs = this.byInstance.get(a.instanceId);
    if (!seqs) this.byInstance.set(a.instanceId, (seqs = new Set()));
    seqs.add(seq);
  }

  delete(seq: number): void {
    const a = this.bySeq.get(seq);
    if (!a) return;
    this.bySeq.delete(seq);
    const seqs = this.byInstance.get(a.instanceId);
    seqs?.delete(seq);
    if (seqs?.size === 0) this.byInstance.delete(a.instanceId);
  }

  /** The tasks of one instance (a copy: callers delete while iterating). */
  ofInstance(instanceId: string): ActivityRecord[] {
    const seqs = this.byInstance.get(instanceId);
    return seqs ? [...seqs].map((s) => this.bySeq.get(s)!) : [];
  }

  clear(): void {
    this.bySeq.clear();
    this.byInstance.clear();
  }
}
