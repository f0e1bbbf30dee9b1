// The per-connection limits on a client's resets and unread answers, on a clock of the test's own.
import { H2Error } from "../../../src/server/h2/frames";
import { MAX_UNREAD_ANSWERS, PeerLimits, RESET_BURST, RESETS_PER_SECOND } from "../../../src/server/h2/peer-limits";

const calm = expect.objectContaining({ code: H2Error.ENHANCE_YOUR_CALM });

test("resets: a burst, then the allowance refills with time, never above the burst", () => {
  let now = 0;
  const limits = new PeerLimits(() => now);
  for (let i = 0; i < RESET_BURST; i++) limits.reset();
  expect(() => limits.reset()).toThrow(calm);
  now += 1000; // one second: RESETS_PER_SECOND more
  for (let i = 0; i < RESETS_PER_SECOND; i++) limits.reset();
  expect(() => limits.reset()).toThrow(calm);
  now += 3_600_000; // an hour of quiet refills the burst and no more
  for (let i = 0; i < RESET_BURST; i++) limits.reset();
  expect(() => limits.reset()).toThrow(calm);
});

test("unread answers count only while the socket stays backed up", () => {
  const limits = new PeerLimits(() => 0);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < MAX_UNREAD_ANSWERS; i++) limits.answered(true);
    limits.answered(false); // the socket took everything: the count starts again
  }
  for (let i = 0; i < MAX_UNREAD_ANSWERS; i++) limits.answered(true);
  expect(() => limits.answered(true)).toThrow(calm);
});
