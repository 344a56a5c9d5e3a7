/**
 * The bounded mailbox in front of the conversation machine (xstate's own mailbox has no bound).
 * `chat.limits.queue_size` bounds a conversation's pending work — records accepted but not yet stored
 * plus agent jobs waiting or running — never its lifetime message count.
 */

export type Admission =
  | { readonly accepted: true; readonly droppedAgentJobs: number }
  | { readonly accepted: false; readonly droppedAgentJobs: number; readonly retryAfterMs: number };

export interface MailboxOffer {
  readonly limit: number;
  /** Pending work now. */
  readonly depth: number;
  /** Records waiting for the journal (they drain at the journal's pace: the retry hint grows with them). */
  readonly unstored: number;
  /** Cancels up to n agent jobs, oldest first; returns how many it cancelled. */
  readonly dropAgentJobs: (n: number) => number;
}

/**
 * Offers one human message: accepted while there is room; when full, the oldest agent jobs are
 * dropped first, and only if that frees no room is the message refused with a retry hint.
 * Each dropped job leaves one cancellation notice in the journal queue: it replaces the job one for
 * one, so the room a drop makes is real even though the depth does not move.
 */
export function offerToMailbox(offer: MailboxOffer): Admission {
  const over = offer.depth - offer.limit + 1;
  if (over <= 0) return { accepted: true, droppedAgentJobs: 0 };
  const dropped = offer.dropAgentJobs(over);
  if (dropped >= over) return { accepted: true, droppedAgentJobs: dropped };
  return { accepted: false, droppedAgentJobs: dropped, retryAfterMs: Math.min(30_000, Math.max(100, offer.unstored * 2)) };
}
