/**
 * Whether this process was paused (SIGSTOP, a frozen VM, an event loop blocked for seconds) since some moment, read
 * off the lateness of the claim keeper's own timers: a timer that runs, or is cancelled, more than the tolerance after
 * its due time, or one that is that overdue right now and has not run yet (a waking process reads its sockets and
 * runs its timers in an order of its own: a post, a store's answer or the store client's own timeout may come first).
 * The claim keeper's tolerance is a third of the claim TTL (at least PAUSE_TOLERANCE_MS): a pause long enough for
 * another server to take a claim over leaves a renewal timer about two thirds of the TTL late, while a garbage
 * collection or a loaded machine's stall of a second or two must not count (after a pause only an answer counts).
 *
 * Why the keeper needs it (claim-keeper.ts): a renewal that fails keeps the claims counted on through a storage
 * outage, but a renewal that fails because the process slept through its answer (the store client's timeout firing on
 * waking) says nothing about who holds the claims now. Only an answer can, after a pause.
 */
export const PAUSE_TOLERANCE_MS = 1000;

export class PauseEvidence {
  /** When (clock ms) a late timer last showed a pause; undefined while none has. */
  private seenAt: number | undefined;
  /** The watched timers armed now: token -> due time (clock ms). */
  private readonly due = new Map<number, number>();
  private nextToken = 1;

  constructor(
    private readonly now: () => number,
    private readonly toleranceMs = PAUSE_TOLERANCE_MS,
  ) {}

  /** A watched timer is armed for `dueAt`; returns the token to pass to fired() or disarmed(). */
  armed(dueAt: number): number {
    const token = this.nextToken++;
    this.due.set(token, dueAt);
    return token;
  }

  /** The watched timer of `token` runs now. */
  fired(token: number): void {
    const dueAt = this.due.get(token);
    this.due.delete(token);
    if (dueAt !== undefined && this.now() - dueAt > this.toleranceMs) this.seenAt = this.now();
  }

  /** A cancelled timer that was already overdue is evidence too (a post or an answer read on waking cancels it). */
  disarmed(token: number | undefined): void {
    if (token !== undefined) this.fired(token);
  }

  /** An answer showed the pause changed nothing (the claims it confirmed are still valid now): it is no evidence any more. */
  forget(): void {
    this.seenAt = undefined;
  }

  /**
   * True when a pause showed after `since` (clock ms; undefined: at any time), or a watched timer is overdue now.
   * Strictly after: a renewal asked in the very turn a waking timer showed the pause was asked after it.
   */
  pausedSince(since: number | undefined): boolean {
    const now = this.now();
    for (const dueAt of this.due.values()) if (now - dueAt > this.toleranceMs) this.seenAt = now;
    return this.seenAt !== undefined && (since === undefined || this.seenAt > since);
  }
}
