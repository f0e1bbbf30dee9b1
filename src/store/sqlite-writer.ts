// The SQLite writer thread: applies commit batches on its own connection so the scheduler's event
// loop keeps serving while SQLite writes and syncs. Started by SqliteWriter; one message per batch.
import { parentPort, workerData } from "worker_threads";
import { SqliteStore } from "./sqlite-store";
import { PackedBatch, unpackOps } from "./encoded-batch";

const { dir, synchronous } = workerData as { dir: string; synchronous: "full" | "normal" };
const store = new SqliteStore(dir, { synchronous });

parentPort!.on("message", (msg: { id: number; batch: PackedBatch } | "close") => {
  if (msg === "close") {
    store.close();
    parentPort!.close();
    return;
  }
  try {
    store.commitEncoded(unpackOps(msg.batch));
    parentPort!.postMessage({ id: msg.id });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
