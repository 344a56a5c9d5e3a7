/**
 * Whether this process was paused (SIGSTOP, a frozen VM, an event loop blocked for seconds) since some moment, read
 * off the lateness of the claim keeper's own timers: a timer that fires more than PAUSE_TOLERANCE_MS after its due
 * time, or one that is that overdue right now and has not run yet (the timers of a waking process run in due order, so
 * a store client's own timeout may reject a request before ours fires).
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

  constructor(private readonly now: () => number) {}

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
    if (dueAt !== undefined && this.now() - dueAt > PAUSE_TOLERANCE_MS) this.seenAt = this.now();
  }

  disarmed(token: number | undefined): void {
    if (token !== undefined) this.due.delete(token);
  }

  /**
   * True when a pause showed after `since` (clock ms; undefined: at any time), or a watched timer is overdue now.
   * Strictly after: a renewal asked in the very turn a waking timer showed the pause was asked after it.
   */
  pausedSince(since: number | undefined): boolean {
    const now = this.now();
    for (const dueAt of this.due.values()) if (now - dueAt > PAUSE_TOLERANCE_MS) this.seenAt = now;
    return this.seenAt !== undefined && (since === undefined || this.seenAt > since);
  }
}
