// Preloaded into a `dts serve` process (node --require) by tests that need a minute to pass without
// waiting one: each SIGUSR2 moves the process's Date.now() 61 seconds ahead and prints the offset.
// Only Date.now moves; `new Date()` (which token expiry checks use) keeps real time.
const realNow = Date.now.bind(Date);
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;
process.on("SIGUSR2", () => {
  offsetMs += 61_000;
  process.stdout.write(`test clock: +${offsetMs / 1000} s\n`);
});
