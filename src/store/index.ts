// Entry point of the persistence layer: pick a store by kind.
import { MemoryStore } from "./memory-store";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store";
import { describePostgresUrl } from "./postgres-url";
import { PostgresStore } from "./postgres-store";
import { EngineStore, Store } from "./store";

export * from "./store";
export { MemoryStore } from "./memory-store";
export { SqliteStore, SQLITE_FILE } from "./sqlite-store";
export type { SqliteStoreOptions } from "./sqlite-store";
export { decodeContinuationToken, encodeContinuationToken } from "./continuation";
export type { Cursor } from "./continuation";

export { PostgresStore } from "./postgres-store";
export { describePostgresUrl } from "./postgres-url";

export type StoreKind = EngineStore["kind"];

/**
 * Connects to PostgreSQL and brings its schema up to date; rejects with a message naming the fix
 * when the URL is missing or wrong or the server cannot be reached.
 */
export async function openPostgresStore(url: string | undefined): Promise<PostgresStore> {
  const where = describePostgresUrl(url);
  try {
    return await PostgresStore.open(url!);
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new Error(`cannot use the PostgreSQL database at ${where} (${e.code ? `${e.code}: ` : ""}${e.message}): check --postgres-url, that the server runs and accepts this user, and that the database exists`);
  }
}

/** Opens a store that answers at once; `dir` (created if missing) and `options` apply to the SQLite store only. */
export function openStore(kind: Store["kind"], dir: string, options?: SqliteStoreOptions): Store {
  switch (kind) {
    case "memory":
      return new MemoryStore();
    case "sqlite":
      return new SqliteStore(dir, options);
    default:
      throw new Error(`unknown store kind ${JSON.stringify(kind)}`);
  }
}
