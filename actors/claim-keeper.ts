import { unrefTimer } from './clock';
import { ChatError, type ChatErrorDetails } from './errors';
import type { RuntimeServices } from './runtime-services';
import type { ConversationClaim } from '../storage-providers/conversation-claims';

/** What the keeper needs to know of a live conversation. */
export interface ClaimedConversation {
  readonly conversationId: string;
  readonly claim: ConversationClaim;
  /** Stops the conversation here: another runtime holds it now. */
  moveAway(reason?: unknown): void;
}

export interface ClaimKeeperOptions {
  readonly services: Pick<RuntimeServices, 'store' | 'clock' | 'logger'>;
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
 */
export class ClaimKeeper {
  private timer: unknown;
  private closed = false;
  /** Conversations claimed while a renewal was in flight: its answer predates them, so it cannot judge them. */
  private readonly claimedDuringRenewal = new Set<string>();
  private renewing = false;
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
    this.schedule();
  }

  get ownerId(): string {
    return this.options.ownerId;
  }

  /** Claims `conversationId` or throws CHAT_ERR_OWNED_ELSEWHERE naming the holder (and where it is, if known). */
  async claim(conversationId: string): Promise<ConversationClaim> {
    const { store } = this.options.services;
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
    return result.claim;
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
    let held: Map<string, number>;
    try {
      held = await store.renewClaims(this.options.ownerId, this.options.ttlMs);
    } catch (err) {
      // Storage down: nobody else can claim through it either; keep the conversations and try again.
      logger.warn({ err }, 'renewing conversation claims failed; retrying');
      return;
    } finally {
      this.renewing = false;
    }
    const fresh = new Set(this.claimedDuringRenewal);
    this.claimedDuringRenewal.clear();
    this.reportFencedBySharedId(held, fresh);
    for (const conversation of [...this.options.live()]) {
      const { conversationId, claim } = conversation;
      if (claim.epoch === 0 || fresh.has(conversationId)) continue;
      const epoch = held.get(conversationId);
      if (epoch === claim.epoch) continue;
      if (epoch !== undefined) this.reportSharedId(conversationId, claim.epoch, epoch);
      conversation.moveAway(
        epoch === undefined ? 'claim taken over by another runtime' : 'claim taken over by another runtime with the same instance_id',
      );
    }
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
    if (this.timer !== undefined) this.options.services.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const { clock, store } = this.options.services;
    if (this.closed || !store.supports.claims) return;
    this.timer = unrefTimer(
      clock.setTimeout(() => {
        this.timer = undefined;
        void this.renew().finally(() => this.schedule());
      }, this.options.ttlMs / 3),
    );
  }
}
