// SQLITE_BUSY means another connection (a backup tool, a second process) holds the write lock. SQLite
// already waits busy_timeout per attempt; this retries the whole operation until a bound, logging
// when it starts waiting and when it gets through, then gives up with an error that says why.
export const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

/** SQLite's own wait per attempt (busy_timeout): a fraction of the bound, so waits are retried and logged. */
export function busyWaitPerAttempt(boundMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(boundMs / 5)));
}

export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** Runs fn, retrying while the database is busy for at most boundMs; other errors pass through at once. */
export function retryWhileBusy<T>(what: string, boundMs: number, log: (message: string) => void, fn: () => T): T {
  const start = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const result = fn();
      if (attempt > 1) log(`${what} went through after ${Date.now() - start} ms (${attempt} attempts)`);
      return result;
    } catch (err) {
      if (!isBusy(err)) throw err;
      const waited = Date.now() - start;
      if (waited >= boundMs) {
        const e = new Error(`${what} gave up after ${waited} ms: the database is locked by another connection (${(err as Error).message})`);
        (e as { code?: string }).code = (err as { code?: string }).code;
        throw e;
      }
      if (attempt === 1) log(`${what} is waiting: the database is locked by another connection; retrying for up to ${Math.round(boundMs / 1000)} s`);
      sleep(Math.min(50 * attempt, 500, boundMs - waited));
    }
  }
}

const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread (the writer thread, or start-up before anything is served). */
function sleep(ms: number): void {
  Atomics.wait(cell, 0, 0, Math.max(1, ms));
}
