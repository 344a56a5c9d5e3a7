import type { ChatMessage } from '../actors/message-types';
import { isPreviewable } from './conversation-activity';

/**
 * What "unread" means, for every store and for the records a live conversation has not stored yet: a record after
 * the reader's read position that a person reads as a message (the conversation list's preview types, `text` and
 * `nlweb_response`: joins, agent job notes and other bookkeeping are not news) and that someone else sent (your own
 * posts are never unread to you). Each record counts: an answer in three pieces is three.
 */
export function isUnreadFor(readerId: string, m: ChatMessage): boolean {
  return m.sender_id !== readerId && isPreviewable(m);
}

/** One conversation of ChatStore.countUnread: the records with `after < sequence_id <= upTo` are looked at. */
export interface UnreadRange {
  readonly conversationId: string;
  readonly after: number;
  readonly upTo: number;
}

/**
 * The most unread records counted per conversation: a count that reaches it means "at least this many". It bounds
 * the work of a conversation list page (one count per entry) for a reader far behind in a long conversation.
 */
export const MAX_UNREAD_COUNT = 1000;
