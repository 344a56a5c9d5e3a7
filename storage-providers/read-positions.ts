import type { ChatMessage } from '../actors/message-types';
import { isPreviewable } from './conversation-activity';

/**
 * What "unread" means, for every store and for the records a live conversation has not stored yet: a record after
 * the reader's read position that a person reads as a message (the conversation list's preview types, `text` and
 * `nlweb_response`: joins, agent job notes and other bookkeeping are not news) and that someone else sent (your own
 * posts are never unread to you). An agent's answer counts once, as its first piece: the page shows its pieces as one
 * message, and a list that said "4 unread" under 2 bubbles read as wrong (its later pieces, `metadata.part` 2, 3, ...,
 * which the runtime numbers on every agent record, do not count).
 */
export function isUnreadFor(readerId: string, m: ChatMessage): boolean {
  return m.sender_id !== readerId && isPreviewable(m) && !continuesAnswer(m);
}

/** A later piece of an agent's answer (an AI record whose `metadata.part` is above 1). */
export function continuesAnswer(m: ChatMessage): boolean {
  const part = m.metadata.part;
  return m.sender_type === 'ai' && typeof part === 'number' && part > 1;
}

/** continuesAnswer in SQL, for stores that count in a query (`metadata_part`: the column's `part` as a number or NULL). */
export function continuesAnswerSql(senderType: string, metadataPart: string): string {
  return `(${senderType} = 'ai' AND COALESCE(${metadataPart}, 0) > 1)`;
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
