/**
 * Conversation ownership across servers (docs/storage.md, "Several servers on one database").
 *
 * Only one runtime may sequence a conversation: two actors for one conversation (two servers on one
 * database, or the old and new process of a rolling deploy) would hand out the same ids to different
 * records and fork its order. A runtime therefore claims a conversation before it starts its actor, keeps
 * the claim alive while the actor runs, and releases it when the actor stops. A claim expires when its
 * holder stops renewing it (a crash): another runtime may then take it over.
 *
 * Every successful claim raises the conversation's epoch. Journal writes carry the epoch of the claim
 * they were made under (the fence): a store refuses a write whose epoch is not the current one
 * (STORAGE_ERR_FENCED), so a holder that lost its claim (paused or cut off past the expiry while another
 * took over) cannot write into the new holder's journal.
 */

/** A runtime's hold on one conversation. */
export interface ConversationClaim {
  readonly ownerId: string;
  /** The conversation's epoch this claim raised it to; 0: the store keeps no claims (nothing is fenced). */
  readonly epoch: number;
}

export interface ClaimRequest {
  /** The claiming runtime (config `chat.ownership.instance_id`). */
  readonly ownerId: string;
  /** How long the claim lasts without renewal, in ms (0 = expired at once: tests of a takeover). */
  readonly ttlMs: number;
  /** Where clients reach this runtime's server (config `chat.ownership.address`), told to refused callers. */
  readonly address?: string;
}

/** Who holds a conversation another runtime tried to claim. */
export interface ClaimHolder {
  readonly ownerId: string;
  readonly address?: string;
  /** Until the claim expires if it is not renewed (≥ 0). */
  readonly expiresInMs: number;
}

export type ClaimResult =
  { readonly claimed: true; readonly claim: ConversationClaim } | { readonly claimed: false; readonly holder: ClaimHolder };

/** The stored claim columns of one conversation (what the providers keep). */
export interface StoredClaim {
  ownerId: string | undefined;
  epoch: number;
  /** Epoch milliseconds on the store's clock. */
  expiresAt: number;
  address: string | undefined;
}

/**
 * The one rule every provider applies, so they cannot disagree: a conversation is free when nobody holds
 * it, when its claim expired, or when the claimant already holds it (a restarted runtime with the same
 * instance id). Claiming raises the epoch even then: the earlier incarnation is fenced off.
 */
export function decideClaim(stored: StoredClaim, request: ClaimRequest, now: number): ClaimResult & { next?: StoredClaim } {
  const free = stored.ownerId === undefined || stored.ownerId === request.ownerId || stored.expiresAt <= now;
  if (!free) {
    const holder: ClaimHolder = {
      ownerId: stored.ownerId!,
      expiresInMs: Math.max(0, stored.expiresAt - now),
      ...(stored.address !== undefined ? { address: stored.address } : {}),
    };
    return { claimed: false, holder };
  }
  const next: StoredClaim = { ownerId: request.ownerId, epoch: stored.epoch + 1, expiresAt: now + request.ttlMs, address: request.address };
  return { claimed: true, claim: { ownerId: request.ownerId, epoch: next.epoch }, next };
}
