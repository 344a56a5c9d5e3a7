import { MESSAGE_TYPES, type ChatMessage, type Participant } from './message-types';
import type { ChatStore } from '../storage-providers/chat-store';

/**
 * Keeps the membership table (used to list a user's conversations) in step with the journal: runs
 * after each stored batch. Idempotent, so a retried batch or a restore that re-applies the window's
 * joins and leaves is harmless.
 */
/** Whether syncMembership has anything to do for `batch` (a batch of posts has not: no async call made for it). */
export function changesMembership(batch: readonly ChatMessage[]): boolean {
  for (const m of batch) {
    if ((m.message_type === MESSAGE_TYPES.join || m.message_type === MESSAGE_TYPES.leave) && m.metadata.participant) return true;
  }
  return false;
}

export async function syncMembership(store: ChatStore, conversationId: string, batch: readonly ChatMessage[]): Promise<void> {
  for (const m of batch) {
    const p = m.metadata.participant as Participant | undefined;
    if (!p) continue;
    if (m.message_type === MESSAGE_TYPES.join) await store.putParticipant(conversationId, p);
    if (m.message_type === MESSAGE_TYPES.leave) await store.removeParticipant(conversationId, p.participant_id);
  }
}
