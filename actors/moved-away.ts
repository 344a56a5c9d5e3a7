import { isChatError } from './errors';

/** What againIfMoved needs of a conversation actor. */
export interface MovableConversation {
  /** Another runtime claimed the conversation while this one held it (ConversationActor.moveAway). */
  readonly hasMovedAway: boolean;
}

/**
 * Runs a change (a join, leave, edit or redaction) on `actor`. Refused with CHAT_ERR_CLOSED because the conversation
 * moved to another runtime while the change waited (for its claim to be confirmed) or wrote (its store write fenced:
 * fenced-changes.ts), it was not applied here, so it
 * is asked `again` through the runtime: the caller then gets the holder's answer (CHAT_ERR_OWNED_ELSEWHERE naming
 * where it is) or, the claim free again, the change made here. Without this the caller got CHAT_ERR_CLOSED, which
 * says neither. Posts do the same in ConversationActor.sequencePost.
 */
export async function againIfMoved<A extends MovableConversation, T>(
  actor: A,
  change: (actor: A) => Promise<T>,
  again: () => Promise<T>,
): Promise<T> {
  try {
    return await change(actor);
  } catch (err) {
    if (actor.hasMovedAway && isChatError(err, 'CHAT_ERR_CLOSED')) return again();
    throw err;
  }
}
