// Runs commits on the SQLite writer thread (sqlite-writer.ts) and resolves when they are durable.
import * as path from "path";
import { Worker } from "worker_threads";
import { packOps } from "./encoded-batch";
import { StoreOp } from "./store";

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private failure?: Error;

  constructor(dir: string, synchronous: "full" | "normal") {
    this.worker = new Worker(path.join(__dirname, "sqlite-writer.js"), { workerData: { dir, synchronous } });
    this.worker.on("message", (msg: { id: number; error?: string }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(msg.error));
      else p?.resolve();
    });
    this.worker.on("error", (err) => this.failAll(err));
    this.worker.on("exit", (code) => this.failAll(new Error(`the SQLite writer thread exited (code ${code})`)));
    this.worker.unref();
  }

  commit(ops: StoreOp[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const batch = packOps(ops); // a throw here rejects this commit and sends nothing
      const id = ++this.nextId;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch }, [batch.events]);
    });
  }

  async close(): Promise<void> {
    this.worker.postMessage("close");
    await new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
