import type { ChatStore } from '../storage-providers/chat-store';
import { MAX_UNREAD_COUNT, type UnreadRange } from '../storage-providers/read-positions';
import { ChatError } from './errors';
import { readPositionFrom } from './read-positions';
import type { ConversationPage, ConversationPageEntry } from './conversation-list';
import type { ReadState } from './runtime-types';

/**
 * A member's read position and unread count (GET /chat/conversations and /chat/conversations/{id}, docs/http-api.md).
 * A live conversation answers from its actor: the position in memory (newer than the store's, which is saved on a
 * timer) and the unread records it still holds; only the older part of the range is counted by the store. Others
 * answer from the store alone. A list page asks the store once for every entry's position and once for every count.
 */

/** What reading needs of a live conversation (ConversationActor has it). */
export interface LiveReading {
  readPositionOf(participantId: string): number | undefined;
  unreadSplit(readerId: string, after: number, limit: number): { readonly inMemory: number; readonly stored: UnreadRange | undefined };
}

export async function readStateOf(store: ChatStore, conversation: LiveReading, readerId: string): Promise<ReadState> {
  const readUpTo = conversation.readPositionOf(readerId);
  if (readUpTo === undefined) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
  const split = conversation.unreadSplit(readerId, readUpTo, MAX_UNREAD_COUNT);
  const stored =
    split.stored === undefined ? 0 : ((await store.countUnread(readerId, [split.stored])).get(split.stored.conversationId) ?? 0);
  return { readUpTo, unreadCount: Math.min(MAX_UNREAD_COUNT, split.inMemory + stored) };
}

/** The page with the reader's `readUpTo` and `unreadCount` on every entry (entries carry their members: withMembers). */
export async function withReadStates(
  store: ChatStore,
  live: ReadonlyMap<string, LiveReading>,
  readerId: string,
  page: ConversationPage,
): Promise<ConversationPage> {
  const notLive = page.entries.map((e) => e.meta.conversation_id).filter((id) => !live.has(id));
  const storedPositions = await store.getReadPositionsOf(readerId, notLive);
  const ranges: UnreadRange[] = [];
  const partial = page.entries.map((entry): { entry: ConversationPageEntry; readUpTo: number; inMemory: number } => {
    const id = entry.meta.conversation_id;
    const conversation = live.get(id);
    if (conversation !== undefined) {
      const readUpTo = conversation.readPositionOf(readerId) ?? 0;
      const split = conversation.unreadSplit(readerId, readUpTo, MAX_UNREAD_COUNT);
      if (split.stored) ranges.push(split.stored);
      return { entry, readUpTo, inMemory: split.inMemory };
    }
    // As the actor reads it: the stored position, at least the member's own join record, at most the last record
    // (a store whose journal lost its end may keep a position past it).
    const reader = entry.participants?.find((p) => p.participant_id === readerId);
    // An AI member's stored position is the agents' offer mark (offer-cursor.ts), not a reading: its join, as live.
    const stored = reader?.participant_type === 'ai' ? undefined : storedPositions.get(id);
    const readUpTo = readPositionFrom(stored, reader?.joined_at_sequence ?? 0, entry.lastSequenceId);
    if (entry.lastSequenceId > readUpTo) ranges.push({ conversationId: id, after: readUpTo, upTo: entry.lastSequenceId });
    return { entry, readUpTo, inMemory: 0 };
  });
  const counted = await store.countUnread(readerId, ranges);
  const entries = partial.map(({ entry, readUpTo, inMemory }) => ({
    ...entry,
    readUpTo,
    unreadCount: Math.min(MAX_UNREAD_COUNT, inMemory + (counted.get(entry.meta.conversation_id) ?? 0)),
  }));
  return { entries, next: page.next };
}
