// A connection's output: bytes queued during one turn of the event loop leave in one socket write,
// so a peer wakes once for what one turn produced (frames answering what it sent, work items,
// answers resolved a few promise hops later). Writing a turn's first bytes at once instead doubled
// the scheduler's writes at idle (19.7 → 37.6 per HelloCities5) and was slower (README, "Idle
// latency of warm processes").
import { Duplex } from "stream";

export class TurnWriter {
  private out: Buffer[] = [];
  private flushScheduled = false;
  /** Waiting for the next flush to reach the socket (afterWrite). */
  private written: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly socket: Duplex) {}

  /** Queues bytes for this turn's write; nothing once stopped (the connection is gone). */
  write(bytes: Buffer): void {
    if (this.stopped) return;
    this.out.push(bytes);
    this.schedule();
  }

  /** `done` runs once what is queued now has been taken by the socket (at 'drain' when it is backed up). */
  afterWrite(done: () => void): void {
    this.written.push(done);
    this.schedule();
  }

  /** The socket has not taken what was written before: its buffer is over the high-water mark. */
  get backedUp(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Later writes are dropped (what is queued still goes out at the next flush). */
  stop(): void {
    this.stopped = true;
  }

  /** Writes what is queued now, not at the end of the turn. */
  flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (this.out.length > 0 && !socket.destroyed) {
      socket.write(this.out.length === 1 ? this.out[0] : Buffer.concat(this.out));
    }
    this.out = [];
    if (this.written.length === 0) return;
    const written = this.written;
    this.written = [];
    const done = () => {
      for (const f of written) f();
    };
    // A socket over its buffer takes the bytes only at 'drain': that wait is the backpressure its writers feel.
    if (socket.writableNeedDrain && !socket.destroyed) socket.once("drain", done);
    else done();
  }

  private schedule(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
