// Polling for states no call can await (entity state, a scheduler noticing a closed stream).

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` (with short pauses) until `done` holds; fails naming `what` and the last value. */
export async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

/** Polls a yes/no probe until it says yes (for conditions that, once true, stay true). */
export async function untilTrue(probe: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void> {
  await pollUntil(async () => probe(), (yes) => yes, what, timeoutMs);
}

/** Resolves as `p` does, or fails naming `what` once timeoutMs pass first: an awaited event that never comes fails fast. */
export async function within<T>(p: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs fn(0) .. fn(count - 1), `width` at a time: a steady stream of requests rather than one burst. */
export async function inParallel(count: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await fn(next++);
  }));
}
