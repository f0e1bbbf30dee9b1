// Runs commits on the SQLite writer thread (sqlite-writer.ts) and resolves when they are durable.
// The thread opening its database is `ready`; the thread dying or failing to open is fatal: every
// pending and later commit is refused with a StoreFatalError and the fatal listeners are told once.
import * as path from "path";
import { Worker } from "worker_threads";
import { packOps } from "./encoded-batch";
import { StoreFatalError, StoreOp } from "./store";

export interface WriterOptions {
  dir: string;
  synchronous: "full" | "normal";
  busyTimeoutMs: number;
  log: (message: string) => void;
}

/** The writer thread's name on Linux (/proc/<pid>/task/<tid>/comm; the kernel keeps 15 characters). */
export const WRITER_THREAD_NAME = "dts-sql-writer";

/** What the writer thread posts back. */
export type WriterMessage = { ready: true } | { fatal: string } | { log: string } | { id: number; error?: string; code?: string; syncMs?: number };

export class SqliteWriter {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (syncMs?: number) => void; reject: (err: Error) => void }>();
  private readonly fatalListeners: ((err: StoreFatalError) => void)[] = [];
  private nextId = 0;
  private failure?: StoreFatalError;
  private closing = false;

  constructor(options: WriterOptions) {
    const { dir, synchronous, busyTimeoutMs, log } = options;
    this.worker = new Worker(path.join(__dirname, "sqlite-writer.js"), { workerData: { dir, synchronous, busyTimeoutMs } });
    let opened!: () => void;
    let notOpened!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      opened = resolve;
      notOpened = reject;
    });
    this.ready.catch(() => undefined); // also reported through the fatal listeners
    this.worker.on("message", (msg: WriterMessage) => {
      if ("ready" in msg) {
        // Until now the thread kept the process alive, so start-up could wait for it.
        this.worker.unref();
        return opened();
      }
      if ("log" in msg) return log(msg.log);
      if ("fatal" in msg) {
        const err = new StoreFatalError(msg.fatal);
        notOpened(err);
        return this.die(err);
      }
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(Object.assign(new Error(msg.error), { code: msg.code }));
      else p?.resolve(msg.syncMs);
    });
    this.worker.on("error", (err) => {
      const e = new StoreFatalError(`the SQLite writer thread failed: ${err.message}`);
      notOpened(e);
      this.die(e);
    });
    this.worker.on("exit", (code) => {
      const e = new StoreFatalError(`the SQLite writer thread exited (code ${code})`);
      notOpened(e);
      if (!this.closing) this.die(e);
    });
  }

  /** Nothing in flight and able to write: a commit elsewhere now cannot overtake one of the thread's. */
  get idle(): boolean {
    return this.pending.size === 0 && this.failure === undefined;
  }

  onFatal(listener: (err: StoreFatalError) => void): void {
    if (this.failure) listener(this.failure);
    else this.fatalListeners.push(listener);
  }

  /** Resolves, once durable, with the milliseconds the transaction's COMMIT (its sync to disk) took. */
  commit(ops: StoreOp[]): Promise<number | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const batch = packOps(ops); // a throw here rejects this commit and sends nothing
      const id = ++this.nextId;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch }, [batch.events]);
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.failure) return;
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    // Keep the process alive until the thread has finished its last commit and closed the database.
    this.worker.ref();
    this.worker.postMessage("close");
    await exited;
  }

  /** For fault tests: ends the thread as a crash would. */
  crashForTest(): Promise<number> {
    return this.worker.terminate();
  }

  private die(err: StoreFatalError): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const l of this.fatalListeners.splice(0)) l(err);
  }
}
