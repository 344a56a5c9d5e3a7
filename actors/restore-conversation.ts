import { ChatError } from './errors';
import { MESSAGE_TYPES, type ChatMessage, type ConversationMeta, type Participant } from './message-types';
import type { ConversationInput, ConversationPolicy } from './conversation-context';
import type { ChatStore } from '../storage-providers/chat-store';

/**
 * Rebuilds a conversation's machine input from its journal: the sequence counter, members and the
 * latest records (cache, dedup index, agent context). Reads O(window) records, never the history.
 * `unstored` are records the previous incarnation sequenced but could not store yet.
 */
/**
 * Records read on restore to seed the dedup index (older retries are checked against the journal's
 * unique (sender, message_id) index by the actor; see ConversationActor.post).
 */
export const RESTORE_RECORDS = 1000;

export async function restoreConversation(
  store: ChatStore,
  conversationId: string,
  policy: ConversationPolicy,
  unstored: readonly ChatMessage[] = [],
): Promise<{ meta: ConversationMeta; input: ConversationInput }> {
  const meta = await store.getConversation(conversationId);
  if (!meta) throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found`);
  const [table, latest, storedLast] = await Promise.all([
    store.getParticipants(conversationId),
    store.readLatestMessages(conversationId, Math.max(policy.cacheSize, RESTORE_RECORDS)),
    store.lastSequenceId(conversationId),
  ]);
  const recent = [...latest, ...unstored.filter((m) => m.sequence_id > storedLast)];
  const participants = new Map<string, Participant>(table.map((p) => [p.participant_id, p]));
  // The membership table is written just after the journal; replaying the window's joins and
  // leaves in order makes a crash between the two harmless (both are idempotent).
  for (const m of recent) {
    const p = m.metadata.participant as Participant | undefined;
    if (!p) continue;
    if (m.message_type === MESSAGE_TYPES.join) participants.set(p.participant_id, { ...p, joined_at_sequence: m.sequence_id });
    if (m.message_type === MESSAGE_TYPES.leave) participants.delete(p.participant_id);
  }
  const lastSequenceId = Math.max(storedLast, recent.length > 0 ? recent[recent.length - 1].sequence_id : 0);
  return {
    meta,
    input: { conversationId, settings: meta.settings, policy, lastSequenceId, participants: [...participants.values()], recent },
  };
}
