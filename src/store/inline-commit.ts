// When a SQLite commit runs on the caller's connection instead of the writer thread's. The writer
// thread keeps the event loop serving while SQLite writes and syncs, which a loaded scheduler needs.
// But on an idle one the hop there and back (a copy of the batch, two thread wake-ups) costs about a
// third of a small commit, and the event loop has nothing else to do meanwhile. So a small batch
// commits inline while the event loop is mostly idle, the writer has nothing in flight (commits stay
// in order) and the disk's recent syncs are fast (a slow disk would stall the event loop).
import { EventLoopUtilization, performance } from "perf_hooks";
import { StoreOp } from "./store";

/** Ops plus the events they carry: a batch above this goes to the writer thread. */
export const INLINE_MAX_ROWS = 64;
/** While the disk's recent syncs average above this, every batch goes to the writer thread. */
export const INLINE_MAX_SYNC_MS = 2;
/** While the event loop was busier than this share of the time (inline commits not counted), every batch goes to the writer thread. */
export const INLINE_MAX_LOOP_BUSY = 0.7;
/** How often the event loop's busy share is measured (over the time since the last measurement). */
export const LOOP_SAMPLE_MS = 20;

/** The event loop's cumulative busy and idle time (performance.eventLoopUtilization's shape). */
export type LoopClock = () => Pick<EventLoopUtilization, "active" | "idle">;

export class InlineCommits {
  /** Recent syncs' milliseconds, a moving average over about the last ten commits either way. */
  private syncMs = 0;
  private last: ReturnType<LoopClock>;
  private lastAt: number;
  private loopIdle = true;
  /** Milliseconds spent in inline commits since the last measurement: the event loop's own work excludes them. */
  private inlineMs = 0;

  constructor(private readonly loop: LoopClock = () => performance.eventLoopUtilization(), private readonly now = () => performance.now()) {
    this.last = loop();
    this.lastAt = now();
  }

  takes(ops: readonly StoreOp[], writerIdle: boolean): boolean {
    return writerIdle && this.syncMs <= INLINE_MAX_SYNC_MS && this.idleLoop() && rows(ops) <= INLINE_MAX_ROWS;
  }

  /** A commit's sync time, inline or on the writer thread; for an inline one, the whole time it took. */
  synced(syncMs: number, inlineMs = 0): void {
    this.syncMs += (syncMs - this.syncMs) * 0.1;
    this.inlineMs += inlineMs;
  }

  private idleLoop(): boolean {
    const at = this.now();
    if (at - this.lastAt >= LOOP_SAMPLE_MS) {
      const u = this.loop();
      const active = u.active - this.last.active;
      const total = active + u.idle - this.last.idle;
      this.loopIdle = total <= 0 || (active - this.inlineMs) / total <= INLINE_MAX_LOOP_BUSY;
      this.last = u;
      this.lastAt = at;
      this.inlineMs = 0;
    }
    return this.loopIdle;
  }
}

function rows(ops: readonly StoreOp[]): number {
  let n = ops.length;
  for (const op of ops) {
    if (op.op === "appendHistory" || op.op === "replaceHistory") n += op.events.length;
    if (n > INLINE_MAX_ROWS) break;
  }
  return n;
}
