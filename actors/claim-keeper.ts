import { unrefTimer } from './clock';
import { ChatError, type ChatErrorDetails } from './errors';
import { PAUSE_TOLERANCE_MS, PauseEvidence } from './pause-evidence';
import type { RuntimeServices } from './runtime-services';
import type { ConversationClaim } from '../storage-providers/conversation-claims';

/** What the keeper needs to know of a live conversation. */
export interface ClaimedConversation {
  readonly conversationId: string;
  readonly claim: ConversationClaim;
  /** Stops the conversation here: another runtime holds it now. */
  moveAway(reason?: unknown): void;
  /** A renewal found the claim still held: it is this runtime's until `validUntil` (clock ms) by this runtime's clock. */
  claimConfirmed(validUntil: number): void;
}

/** A claim just taken, and until when (clock ms) this runtime may count on it without a renewal (Infinity: no claims). */
export interface TakenClaim {
  readonly claim: ConversationClaim;
  readonly validUntil: number;
}

/**
 * The part of the TTL a runtime does not count on. The store times a claim from its own clock, at or after the
 * moment the runtime asked (so the start is on the safe side); what is left is the two clocks' rates, which
 * differ by far less than a tenth (NTP slews at most 500 ppm). With renewals every third of the TTL a healthy
 * runtime never reaches the end.
 */
const CLOCK_RATE_MARGIN = 0.1;
/** After a failed renewal the next comes this soon (or at the usual third of the TTL, if sooner): work may wait on it. */
const RETRY_AFTER_FAILURE_MS = 1000;

export interface ClaimKeeperOptions {
  readonly services: Pick<RuntimeServices, 'store' | 'clock' | 'logger' | 'telemetry'>;
  /** This runtime's owner id (chat.ownership.instance_id, or a random one). */
  readonly ownerId: string;
  readonly ttlMs: number;
  /** Told to callers another runtime refuses (chat.ownership.address). */
  readonly address?: string;
  /** The conversations live in this runtime right now. */
  readonly live: () => Iterable<ClaimedConversation>;
}

/**
 * This runtime's claims on its live conversations (storage-providers/conversation-claims.ts explains
 * why they exist). It claims a conversation before its actor starts, renews every claim it holds in one
 * store call every third of the TTL, stops a conversation whose claim another runtime took over, and
 * releases claims on a clean stop so another server can take over at once instead of after the TTL.
 *
 * Lease semantics: a claim is counted on only until the time of the request that took or last renewed it plus the
 * TTL less CLOCK_RATE_MARGIN, by this runtime's clock. A runtime paused past that (SIGSTOP, a frozen VM, a long GC)
 * while another took its conversations over would otherwise sequence and deliver, on waking, records its journal
 * write is then refused: each conversation's sequence lease holds such work (sequence-lease.ts) and asks for a
 * renewal (confirmSoon), whose answer either confirms the claim (the work runs) or moves the conversation away.
 */
export class ClaimKeeper {
  private timer: unknown;
  private timerToken: number | undefined;
  /** While a renewal runs: a tick every RETRY_AFTER_FAILURE_MS that keeps the claims on if the store hangs. */
  private outageTick: unknown;
  private outageTickToken: number | undefined;
  /** Late timers of this keeper: was the process paused (pause-evidence.ts)? */
  private readonly pauses: PauseEvidence;
  private closed = false;
  /** Conversations claimed while a renewal was in flight: its answer predates them, so it cannot judge them. */
  private readonly claimedDuringRenewal = new Set<string>();
  private renewing = false;
  /** The last renewal failed (storage down): the next is RETRY_AFTER_FAILURE_MS away, not asked for sooner. */
  private lastRenewalFailed = false;
  /** When (clock ms) the last successful renewal was asked for; undefined before the first. */
  private lastRenewedAt: number | undefined;
  /**
   * When a renewal last found one of our claims raised by someone using our own owner id (clock ms), or undefined.
   * Only a second live runtime configured with this runtime's chat.ownership.instance_id does that (a restart of
   * this one cannot while it runs): the two take each conversation from each other, fenced, for good.
   */
  private sharedIdSeenAt: number | undefined;
  /**
   * Conversations stopped here since the last renewal because a journal or reservation write was fenced, with the
   * epoch they were written under. A busy conversation's next write meets the fence before a renewal could look at
   * it, so the renewal's own check (a live conversation's claim raised under our id) would never see a twin's claim.
   */
  private readonly fencedSinceRenewal = new Map<string, number>();

  constructor(private readonly options: ClaimKeeperOptions) {
    this.pauses = new PauseEvidence(() => options.services.clock.now(), Math.max(PAUSE_TOLERANCE_MS, options.ttlMs / 3));
    this.schedule();
  }

  get ownerId(): string {
    return this.options.ownerId;
  }

  /** Claims `conversationId` or throws CHAT_ERR_OWNED_ELSEWHERE naming the holder (and where it is, if known). */
  async claim(conversationId: string): Promise<TakenClaim> {
    const { store, clock } = this.options.services;
    // Before the request: the store's claim starts when it runs, which cannot be earlier.
    const askedAt = clock.now();
    const result = await store.claimConversation(conversationId, {
      ownerId: this.options.ownerId,
      ttlMs: this.options.ttlMs,
      ...(this.options.address ? { address: this.options.address } : {}),
    });
    if (!result.claimed) {
      const { holder } = result;
      throw new ChatError(
        'CHAT_ERR_OWNED_ELSEWHERE',
        `conversation ${conversationId} is live on another server${holder.address ? ` (${holder.address})` : ''}`,
        {
          // The claim can only become free when its holder stops renewing it: not sooner than this.
          retryAfterMs: Math.max(1000, holder.expiresInMs),
          details: {
            conversation_id: conversationId,
            owner_id: holder.ownerId,
            ...(holder.address ? { owner_address: holder.address } : {}),
          } satisfies ChatErrorDetails['CHAT_ERR_OWNED_ELSEWHERE'],
        },
      );
    }
    if (this.renewing) this.claimedDuringRenewal.add(conversationId);
    const { claim } = result;
    // Epoch 0: the store keeps no claims, so there is nothing to lapse.
    return { claim, validUntil: claim.epoch === 0 ? Infinity : this.validFrom(askedAt) };
  }

  /**
   * A conversation holds sequencing work because its claim may have lapsed by this runtime's clock: renews now
   * instead of at the next timer. Not while a renewal is under way (its answer confirms, or a conversation whose
   * confirmation is still too old asks again then) nor just after one failed (the retry is near).
   */
  confirmSoon(): void {
    const { store, clock, logger, telemetry } = this.options.services;
    if (this.closed || this.renewing || this.lastRenewalFailed || !store.supports.claims) return;
    // Never on a healthy runtime (renewals come every third of the TTL): a pause, a stalled store, a starved loop.
    telemetry.claimLapsed();
    logger.warn(
      { since_renewal_ms: this.lastRenewedAt === undefined ? undefined : clock.now() - this.lastRenewedAt, ttl_ms: this.options.ttlMs },
      'a conversation claim may have expired by this runtime clock: holding its sequencing until a renewal answers',
    );
    this.cancelTimer();
    void this.renew().finally(() => this.schedule());
  }

  /** Gives a stopped conversation's claim back (best effort: an unreleased claim just expires). */
  async release(conversationId: string, claim: ConversationClaim): Promise<void> {
    try {
      await this.options.services.store.releaseClaim(conversationId, claim);
    } catch (err) {
      this.options.services.logger.warn(
        { err, conversation_id: conversationId },
        'releasing the conversation claim failed; it expires instead',
      );
    }
  }

  /**
   * A write of `conversationId` under `claim` was fenced: someone claimed it since. The next renewal tells whether that
   * someone used this runtime's own id.
   */
  noteFenced(conversationId: string, claim: ConversationClaim): void {
    if (claim.epoch > 0) this.fencedSinceRenewal.set(conversationId, claim.epoch);
  }

  /** Renews now (the timer calls it; tests may too). Conversations whose claim was taken over are stopped. */
  async renew(): Promise<void> {
    const { store, logger } = this.options.services;
    if (this.closed || this.renewing || !store.supports.claims) return;
    this.renewing = true;
    const askedAt = this.options.services.clock.now();
    this.armOutageTick(askedAt);
    let held: Map<string, number>;
    try {
      held = await store.renewClaims(this.options.ownerId, this.options.ttlMs);
      this.lastRenewalFailed = false;
      this.lastRenewedAt = askedAt;
    } catch (err) {
      this.lastRenewalFailed = true;
      if (this.closed) return;
      if (this.outageKeepsClaims()) {
        logger.warn({ err }, 'renewing conversation claims failed; retrying');
        this.keepDeliveringThroughOutage();
      } else {
        logger.warn({ err }, 'renewing conversation claims failed after this process was paused; sequencing waits for an answer');
      }
      return;
    } finally {
      this.renewing = false;
      this.cancelOutageTick();
    }
    const validUntil = this.validFrom(askedAt);
    // A pause during this renewal that its answer still covers (the claims it confirmed are valid now) lost nothing:
    // kept as evidence, it would make an outage beginning soon after stop delivery until the store answers.
    if (validUntil > this.options.services.clock.now()) this.pauses.forget();
    const fresh = new Set(this.claimedDuringRenewal);
    this.claimedDuringRenewal.clear();
    this.reportFencedBySharedId(held, fresh);
    for (const conversation of [...this.options.live()]) {
      const { conversationId, claim } = conversation;
      if (claim.epoch === 0) continue;
      const epoch = held.get(conversationId);
      // The store renewed this very claim, after the renewal was asked for: good from then on, a fresh claim too.
      if (epoch === claim.epoch) {
        conversation.claimConfirmed(validUntil);
        continue;
      }
      // Claimed while the renewal ran, which may have read the store before the claim: its answer says nothing of it.
      // The claim's own validity stands; work held on it asks again at its next event, or waits for the next renewal.
      if (fresh.has(conversationId)) continue;
      if (epoch !== undefined) this.reportSharedId(conversationId, claim.epoch, epoch);
      conversation.moveAway(
        epoch === undefined ? 'claim taken over by another runtime' : 'claim taken over by another runtime with the same instance_id',
      );
    }
  }

  /**
   * The store did not answer (an error, or no answer yet after RETRY_AFTER_FAILURE_MS): delivery goes on through a
   * storage outage, as it does past the id reservation (issue 5: "when storage is slow or down, delivery continues"),
   * so each live claim is counted on past the next retry. Not after a pause (outageKeepsClaims): a process that slept
   * through its renewal's answer cannot tell an outage from a takeover, so it waits for an answer, which names the new
   * holder if there is one. What this leaves open is a store this runtime alone cannot reach while another server can
   * take over (a network partition): both deliver until this one reaches the store again, its first renewal then
   * moves the conversation away, and fencing and the resume check (docs/conversations.md) clean up after it, as after
   * a crash during an outage.
   */
  private keepDeliveringThroughOutage(): void {
    // Past the next retry (RETRY_AFTER_FAILURE_MS) and its first outage tick, with a tick to spare.
    const until = this.options.services.clock.now() + 3 * RETRY_AFTER_FAILURE_MS;
    for (const conversation of [...this.options.live()]) if (conversation.claim.epoch !== 0) conversation.claimConfirmed(until);
  }

  /**
   * Whether a renewal without an answer (failed, or hanging) keeps the claims on: not once this process was paused
   * since the last answer that confirmed them (pause-evidence.ts). After a pause only an answer can: until one comes,
   * sequencing waits, even through an outage that began with the pause.
   */
  private outageKeepsClaims(): boolean {
    return !this.pauses.pausedSince(this.lastRenewedAt);
  }

  /**
   * A store that hangs instead of refusing (a blackholed connection) holds a renewal until its client's timeout
   * (15 s for PostgreSQL): each second of that counts as an outage too, or delivery would stop for most of it.
   */
  private armOutageTick(askedAt: number): void {
    const { clock } = this.options.services;
    this.outageTickToken = this.pauses.armed(clock.now() + RETRY_AFTER_FAILURE_MS);
    this.outageTick = unrefTimer(
      clock.setTimeout(() => {
        this.pauses.fired(this.outageTickToken!);
        this.outageTick = undefined;
        this.outageTickToken = undefined;
        if (!this.renewing || this.closed) return;
        // At most a TTL after it was asked: a request that never settles (a store client without an operation timeout)
        // must not keep claims on for good; its store's clients time out well within a TTL by default (15 s).
        if (this.outageKeepsClaims() && clock.now() - askedAt <= this.options.ttlMs) this.keepDeliveringThroughOutage();
        this.armOutageTick(askedAt);
      }, RETRY_AFTER_FAILURE_MS),
    );
  }

  private cancelOutageTick(): void {
    if (this.outageTick !== undefined) this.options.services.clock.clearTimeout(this.outageTick);
    this.pauses.disarmed(this.outageTickToken);
    this.outageTick = undefined;
    this.outageTickToken = undefined;
  }

  /** How soon the next renewal comes (a third of the TTL; sooner after a failure, work may wait on it). */
  private retryDelayMs(): number {
    const third = this.options.ttlMs / 3;
    return this.lastRenewalFailed ? Math.min(third, RETRY_AFTER_FAILURE_MS) : third;
  }

  /**
   * Whether another live runtime used this runtime's owner id within `withinMs` (the health report's window):
   * a misconfiguration (e.g. one NLWEB_CHAT_INSTANCE_ID for every replica of a deployment) to be shown, not guessed.
   */
  sharesIdWithAnother(withinMs: number): boolean {
    return this.sharedIdSeenAt !== undefined && this.options.services.clock.now() - this.sharedIdSeenAt <= withinMs;
  }

  /**
   * A conversation fenced here whose claim is now held under our own id, at another epoch than any claim of ours on it,
   * was claimed by a second live runtime configured with this id.
   */
  private reportFencedBySharedId(held: ReadonlyMap<string, number>, fresh: ReadonlySet<string>): void {
    // Nearly every renewal finds nothing fenced: then the map of every live conversation's epoch is not built.
    if (this.fencedSinceRenewal.size === 0) return;
    const ownEpochs = new Map([...this.options.live()].map((c) => [c.conversationId, c.claim.epoch] as const));
    for (const [conversationId, fencedEpoch] of this.fencedSinceRenewal) {
      const epoch = held.get(conversationId);
      // Claimed here again since (live with the held epoch, or claimed while the renewal ran): that claim is ours.
      if (epoch === undefined || epoch === fencedEpoch || epoch === ownEpochs.get(conversationId) || fresh.has(conversationId)) continue;
      this.reportSharedId(conversationId, fencedEpoch, epoch);
    }
    this.fencedSinceRenewal.clear();
  }

  private reportSharedId(conversationId: string, ours: number, theirs: number): void {
    this.sharedIdSeenAt = this.options.services.clock.now();
    this.options.services.logger.error(
      { conversation_id: conversationId, instance_id: this.options.ownerId, epoch: ours, their_epoch: theirs },
      'another live runtime uses this chat.ownership.instance_id: give every server its own (the two take conversations from each other)',
    );
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    this.cancelOutageTick();
  }

  /** Until when a claim asked for (or renewed) at `askedAt` may be counted on. */
  private validFrom(askedAt: number): number {
    return askedAt + this.options.ttlMs * (1 - CLOCK_RATE_MARGIN);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.options.services.clock.clearTimeout(this.timer);
    this.pauses.disarmed(this.timerToken);
    this.timer = undefined;
    this.timerToken = undefined;
  }

  /** The next renewal; one timer at most (a renewal asked for by confirmSoon reschedules it). */
  private schedule(): void {
    const { clock, store } = this.options.services;
    if (this.closed || !store.supports.claims) return;
    this.cancelTimer();
    const delay = this.retryDelayMs();
    const token = this.pauses.armed(clock.now() + delay);
    this.timerToken = token;
    this.timer = unrefTimer(
      clock.setTimeout(() => {
        this.pauses.fired(token);
        this.timer = undefined;
        this.timerToken = undefined;
        void this.renew().finally(() => this.schedule());
      }, delay),
    );
  }
}
