import { unrefTimer, type Clock } from '../actors/clock';

/**
 * The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days): a longer one overflows and fires at once,
 * which would close a socket whose token has a month left the moment it opened.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending credential expiry; stop() clears its timer (the socket closed first). */
export interface CredentialExpiry {
  stop(): void;
}

/**
 * Calls `onExpired` once when `clock.now()` reaches `expiresAt` (at once if it already has). The timer comes from the
 * gateway's clock, so tests drive it, as the heartbeat's; it is unref'd, so an open socket's token keeps no process
 * alive. A delay past MAX_TIMER_MS is waited out in steps, looking at the clock again after each.
 */
export function watchCredentialExpiry(clock: Clock, expiresAt: number, onExpired: () => void): CredentialExpiry {
  let timer: unknown;
  let stopped = false;
  function arm(): void {
    timer = undefined;
    if (stopped) return;
    const left = expiresAt - clock.now();
    if (left <= 0) {
      stopped = true;
      onExpired();
      return;
    }
    timer = unrefTimer(clock.setTimeout(arm, Math.min(left, MAX_TIMER_MS)));
  }
  arm();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
