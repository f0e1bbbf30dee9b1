// The SQLite writer thread: applies commit batches on its own connection so the scheduler's event
// loop keeps serving while SQLite writes and syncs. Started by SqliteWriter; one message per batch.
// It says `ready` once its database is open, or `fatal` (and ends) when it cannot open it.
import * as fs from "fs";
import { parentPort, workerData } from "worker_threads";
import { SqliteStore } from "./sqlite-store";
import { PackedBatch, unpackOps } from "./encoded-batch";
import { WRITER_THREAD_NAME, type WriterMessage } from "./sqlite-writer-client";

const { dir, synchronous, busyTimeoutMs } = workerData as { dir: string; synchronous: "full" | "normal"; busyTimeoutMs: number };
const post = (msg: WriterMessage) => parentPort!.postMessage(msg);

// Named so `top -H`, `ps -L` and the benchmark can tell this thread's CPU from the event loop's.
try {
  fs.writeFileSync("/proc/thread-self/comm", WRITER_THREAD_NAME);
} catch {
  // not Linux, or no /proc: the thread keeps the name "node"
}

let store: SqliteStore | undefined;
try {
  // The main thread's store holds the data directory's lock; this connection works under it.
  store = new SqliteStore(dir, { synchronous, busyTimeoutMs, dataDirLock: false, log: (message) => post({ log: message }) });
  post({ ready: true });
} catch (err) {
  post({ fatal: `the SQLite writer could not open ${dir}: ${(err as Error).message}` });
  parentPort!.close();
}

if (store) {
  const s = store;
  parentPort!.on("message", (msg: { id: number; batch: PackedBatch } | "close") => {
    if (msg === "close") {
      s.close();
      parentPort!.close();
      return;
    }
    try {
      const syncMs = s.commitEncoded(unpackOps(msg.batch));
      post({ id: msg.id, syncMs });
    } catch (err) {
      post({ id: msg.id, error: (err as Error).message, code: (err as { code?: string }).code });
    }
  });
}
