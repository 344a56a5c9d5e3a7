import type { ConversationInput } from './conversation-context';
import type { RuntimeLogger } from '../observability/logger';
import type { ChatStore } from '../storage-providers/chat-store';

/**
 * The conversation's end once loaded, which no read position may pass (ReadPositions' `loadedUpTo`): the journal's
 * last id, or the reservation's when a crash left one past it (those ids become `lost` records, so a position among
 * them still names a record of this conversation). `reserved` is Infinity for a store that keeps no reservation.
 */
export function loadedEnd(reserved: number, lastSequenceId: number): number {
  return Number.isFinite(reserved) ? Math.max(reserved, lastSequenceId) : lastSequenceId;
}

/**
 * The members' stored read positions for a conversation being loaded, with any above its end (`upTo`, loadedEnd)
 * lowered in the store too. The actor takes such a position down in memory anyway; lowering the stored one is what
 * keeps the store right for everything else that reads it (another server's list page, the replay CLI, the next
 * load after new records passed it), since saves only raise and would never correct it. Costs nothing unless a
 * position is above the end (a journal loss). A failed lowering is logged, not thrown: the conversation loads with
 * the position lowered in memory, and the next load tries again.
 */
export async function readPositionsForLoad(
  store: ChatStore,
  logger: RuntimeLogger,
  conversationId: string,
  upTo: number,
): Promise<Map<string, number>> {
  const positions = await store.getReadPositions(conversationId);
  if (!store.supports.lowerReadPositions || ![...positions.values()].some((p) => p > upTo)) return positions;
  try {
    const lowered = await store.lowerReadPositions(conversationId, upTo);
    logger.warn(
      { conversation_id: conversationId, up_to: upTo, lowered },
      "read positions above the conversation's end lowered in the store",
    );
  } catch (err) {
    logger.warn(
      { err, conversation_id: conversationId, up_to: upTo },
      "lowering read positions above the conversation's end failed; kept lowered in memory",
    );
  }
  return positions;
}

/**
 * The stored positions without the AI members': an AI member's stored position is the agents' offer mark
 * (offer-cursor.ts), read at load by never-offered-posts.ts, not a reading the conversation shows (AI members read
 * nothing: listed at their join record, as before the marks were kept).
 */
export function humansOnly(positions: ReadonlyMap<string, number>, input: Pick<ConversationInput, 'participants'>): Map<string, number> {
  const kept = new Map(positions);
  for (const p of input.participants) if (p.participant_type === 'ai') kept.delete(p.participant_id);
  return kept;
}
