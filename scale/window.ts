// The last N metrics samples a scale monitor votes on, oldest first.
import { HubMetrics } from "./metrics";

export class SampleWindow {
  private readonly items: HubMetrics[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`the sample window must hold at least 1 sample (got ${size})`);
  }

  add(m: HubMetrics): void {
    this.items.push(m);
    if (this.items.length > this.size) this.items.shift();
  }

  /** Forgets every sample (after a failed read: the load may have changed while we could not see it). */
  clear(): void {
    this.items.length = 0;
  }

  samples(): readonly HubMetrics[] {
    return this.items;
  }
}
