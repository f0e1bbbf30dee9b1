// Preloaded into the benchmark's scheduler (node --expose-gc -r gc-on-signal.js dts serve ...): on
// SIGUSR2 it runs a full garbage collection and prints the process's memory use as one line,
// `bench-gc {...}`, so the memory scenario can read the RSS and heap after a forced idle period.
// It changes nothing else in the scheduler.
process.on("SIGUSR2", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`bench-gc ${JSON.stringify({ gc: !!gc, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
});
