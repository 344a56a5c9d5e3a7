import type { Clock } from './clock';
import type { ChatStore } from '../storage-providers/chat-store';
import type { ConversationClaim } from '../storage-providers/conversation-claims';

/** Ids reserved per storage write. Also the most 'lost' placeholders one crash can leave. */
export const LEASE_BLOCK = 32;
/**
 * Room kept free for the records one event can emit (a join and its mode change, or a POSTS batch of
 * at most this many posts) plus re-entrant agent events.
 */
export const LEASE_HEADROOM = 8;
const HEADROOM = LEASE_HEADROOM;

export interface SequenceLeaseOptions {
  readonly conversationId: string;
  readonly store: ChatStore;
  readonly clock: Clock;
  /** The reservation already stored (Infinity when the store cannot keep one). */
  readonly initialUpTo: number;
  readonly lastSequenceId: () => number;
  /** True when waiting events should run anyway (the conversation stopped: they reject themselves). */
  readonly canRunWaiting: () => boolean;
  readonly onFailure?: (err: unknown) => void;
  /** The claim the conversation is sequenced under (reservation writes are fenced like journal writes). */
  readonly fence?: ConversationClaim;
  /**
   * Clock ms until which that claim is surely this runtime's by its own clock (claim-keeper.ts); Infinity (the
   * default) when the store keeps no claims.
   */
  readonly claimValidUntil?: number;
  /** Work waits because the claim may have lapsed: asks for a renewal (ClaimKeeper.confirmSoon). */
  readonly claimLapsed?: () => void;
}

/**
 * Delivery comes before persistence, so after a crash the journal may lack ids that connections
 * already saw. The lease makes that safe: the actor only hands out ids up to a reservation stored
 * ahead of use (in blocks of LEASE_BLOCK, renewed when half is used), and a cold start fills the ids
 * between the last stored record and the reservation with 'lost' records instead of reusing them.
 *
 * It is also where the conversation's claim is checked (docs/conversations.md, "Several servers on one store"):
 * past the time its own clock says the claim may have expired, nothing is sequenced (so nothing is delivered or
 * acknowledged) until a renewal confirms it. A fenced journal write comes too late for that: delivery precedes it.
 */
export class SequenceLease {
  upTo: number;
  private extending = false;
  private retryTimer: unknown;
  private attempt = 0;
  private closed = false;
  /** Sequencing work waiting for the reservation to grow or the claim to be confirmed, in arrival order. */
  private readonly queue: Array<() => void> = [];
  /** See SequenceLeaseOptions.claimValidUntil; raised by claimConfirmed. */
  private claimValidUntil: number;

  constructor(private readonly options: SequenceLeaseOptions) {
    this.upTo = options.initialUpTo;
    this.claimValidUntil = options.claimValidUntil ?? Infinity;
  }

  /** Work waiting for room (part of the conversation's pending work). */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `run` (which sequences records) now if the reservation has room, else once it has grown,
   * keeping arrival order: every sequencing event of the conversation passes here.
   */
  whenRoom(run: () => void): void {
    // A closed lease never grows again: work that arrives after close (a post handed over in the turn the
    // conversation stopped) would wait forever, so it runs now and the stopped conversation refuses it.
    if (this.canRunNow() || (this.closed && this.options.canRunWaiting())) run();
    else {
      this.queue.push(run);
      this.askForClaimIfLapsed();
    }
    this.maybeExtend();
  }

  /**
   * True when an event may be sequenced at once: nothing waits before it, the reservation has room and the claim
   * is current. The hot path: two compares and, only with a claim, one clock read.
   */
  canRunNow(): boolean {
    return this.queue.length === 0 && this.hasRoom() && this.claimCurrent();
  }

  /** True while this runtime's clock is before the claim's validity end (always, for a store without claims). */
  claimCurrent(): boolean {
    return this.claimValidUntil === Infinity || this.options.clock.now() < this.claimValidUntil;
  }

  /**
   * A renewal that started at a time when the claim was held extends it to `validUntil` (claim-keeper.ts): waiting
   * work runs, or, if even that end has passed (the renewal started before a pause), asks again.
   */
  claimConfirmed(validUntil: number): void {
    if (validUntil > this.claimValidUntil) this.claimValidUntil = validUntil;
    this.drain();
  }

  private drain(): void {
    while (this.queue.length > 0 && (this.options.canRunWaiting() || (this.hasRoom() && this.claimCurrent()))) this.queue.shift()!();
    if (this.queue.length > 0) this.askForClaimIfLapsed();
  }

  private askForClaimIfLapsed(): void {
    if (!this.closed && !this.claimCurrent()) this.options.claimLapsed?.();
  }

  /**
   * True when the next event may be sequenced. While renewing the reservation fails (storage down),
   * sequencing goes on past it: delivery must continue through a storage outage (the mailbox bound
   * limits how far), at the price that a crash *during* the outage may reuse those ids (the claim's own check is
   * claimCurrent; claim-keeper.ts keeps a claim on through an outage too).
   */
  hasRoom(): boolean {
    return this.attempt > 0 || this.options.lastSequenceId() + HEADROOM <= this.upTo;
  }

  /** True while the reservation cannot be renewed (reported in health). */
  get degraded(): boolean {
    return this.attempt > 0;
  }

  /** Reserves the next block once half of the current one is used (one write in flight at most). */
  maybeExtend(): void {
    if (this.closed || this.extending || this.retryTimer !== undefined || this.upTo === Infinity) return;
    const last = this.options.lastSequenceId();
    if (this.upTo - last > LEASE_BLOCK / 2) return;
    const target = last + LEASE_BLOCK;
    this.extending = true;
    this.options.store.setSequenceReservation(this.options.conversationId, target, this.options.fence).then(
      () => {
        this.extending = false;
        this.attempt = 0;
        if (this.closed) return;
        this.upTo = Math.max(this.upTo, target);
        this.drain();
        this.maybeExtend();
      },
      (err: unknown) => {
        this.extending = false;
        this.attempt++;
        this.options.onFailure?.(err);
        if (this.closed) return;
        this.drain();
        this.retryTimer = this.options.clock.setTimeout(
          () => {
            this.retryTimer = undefined;
            this.maybeExtend();
          },
          Math.min(5000, 50 * 2 ** Math.min(this.attempt, 10)),
        );
      },
    );
  }

  /** After a clean stop (everything stored): nothing is outstanding, so the next start needs no placeholders. */
  async release(): Promise<void> {
    if (this.upTo === Infinity) return;
    this.closed = true;
    await this.options.store.setSequenceReservation(this.options.conversationId, this.options.lastSequenceId(), this.options.fence);
  }

  /** Stops renewing; waiting work runs now (and is refused by the stopped conversation). */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== undefined) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.drain();
  }
}
