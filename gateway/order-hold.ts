/**
 * Per-connection order after a "slow down" refusal. A client may have several messages on the wire when one
 * of them is refused with a 429 (rate limit, full mailbox); without this, a later one that arrives after the
 * bucket refilled would be accepted ahead of the refused one, and the sender's own messages would be stored
 * out of the order it sent them (seen with 300 queued sends: ... 41, 43, 44, 87, 191, 42 ...). So after such a
 * refusal every other message of the connection is refused too (GATEWAY_ERR_HELD_FOR_ORDER, also a 429) until
 * the refused one comes back. The reference client re-sends in order after the pause, so it comes back first.
 *
 * The hold ends when the held message passes, or at the latest `retry_after_ms + HOLD_GRACE_MS` after its last
 * refusal, so a client that drops refused messages instead of re-sending them is not shut out for long.
 */
const HOLD_GRACE_MS = 5000;

export class OrderHold {
  private heldId: string | undefined;
  private expiresAt = 0;

  /** Whether a message is held (false on every connection that has not met a 429). */
  get active(): boolean {
    return this.heldId !== undefined;
  }

  /** The refused message id that `messageId` has to wait for, or undefined when it may go now. */
  blocker(messageId: string, now: number): string | undefined {
    if (this.heldId === undefined || messageId === this.heldId) return undefined;
    if (now < this.expiresAt) return this.heldId;
    this.heldId = undefined;
    return undefined;
  }

  /** Milliseconds until the hold ends by itself (the retry hint for a held message). */
  remainingMs(now: number): number {
    return Math.max(1, this.expiresAt - now - HOLD_GRACE_MS);
  }

  /** `messageId` was refused with a 429: hold the others behind it (a hold on another id stays as it is). */
  refused(messageId: string, retryAfterMs: number, now: number): void {
    if (this.heldId !== undefined && this.heldId !== messageId && now < this.expiresAt) return;
    this.heldId = messageId;
    this.expiresAt = now + retryAfterMs + HOLD_GRACE_MS;
  }

  /** `messageId` got past the checks (or was refused for good): the others may go. */
  release(messageId: string): void {
    if (messageId === this.heldId) this.heldId = undefined;
  }
}
