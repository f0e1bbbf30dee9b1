// Limits on what a client can make the server do without doing its own share: answers (PING and
// SETTINGS ACKs, refused streams) it leaves unread, and streams it opens and resets at once, which
// cost the server a call each while never counting against the limit of open streams ("rapid
// reset", CVE-2023-44487). Pure, with the clock given; a ConnectionError from here ends the
// connection with ENHANCE_YOUR_CALM.
import { performance } from "perf_hooks";
import { ConnectionError, H2Error } from "./frames";

/** Control answers a client may leave unread (its socket backed up) before it is cut off. */
export const MAX_UNREAD_ANSWERS = 1000;
/** Open streams a client may reset in a burst; the allowance then refills at RESETS_PER_SECOND. */
export const RESET_BURST = 1000;
export const RESETS_PER_SECOND = 100;

export class PeerLimits {
  private unreadAnswers = 0;
  private resetAllowance = RESET_BURST;
  private refilledAt: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.refilledAt = now();
  }

  /** A control answer is being queued; `backedUp`: the socket has not taken what was queued before it. */
  answered(backedUp: boolean): void {
    if (!backedUp) this.unreadAnswers = 0;
    else if (++this.unreadAnswers > MAX_UNREAD_ANSWERS) throw new ConnectionError(H2Error.ENHANCE_YOUR_CALM, "too many answers left unread");
  }

  /** The client reset a stream that was still open. */
  reset(): void {
    const now = this.now();
    this.resetAllowance = Math.min(RESET_BURST, this.resetAllowance + ((now - this.refilledAt) * RESETS_PER_SECOND) / 1000);
    this.refilledAt = now;
    if (this.resetAllowance < 1) throw new ConnectionError(H2Error.ENHANCE_YOUR_CALM, `streams reset faster than ${RESETS_PER_SECOND} a second after a burst of ${RESET_BURST}`);
    this.resetAllowance -= 1;
  }
}
