// Entry point of the persistence layer: pick a store by kind.
import { MemoryStore } from "./memory-store";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store";
import { Store } from "./store";

export * from "./store";
export { MemoryStore } from "./memory-store";
export { SqliteStore, SQLITE_FILE } from "./sqlite-store";
export type { SqliteStoreOptions } from "./sqlite-store";
export { decodeContinuationToken, encodeContinuationToken } from "./continuation";
export type { Cursor } from "./continuation";

export type StoreKind = Store["kind"];

/** Opens a store; `dir` (created if missing) and `options` apply to the SQLite store only. */
export function openStore(kind: StoreKind, dir: string, options?: SqliteStoreOptions): Store {
  switch (kind) {
    case "memory":
      return new MemoryStore();
    case "sqlite":
      return new SqliteStore(dir, options);
    default:
      throw new Error(`unknown store kind ${JSON.stringify(kind)}`);
  }
}
