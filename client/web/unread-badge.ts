/**
 * The unread badge next to a conversation in the chat page's list: the list entry's `unread_count`
 * (docs/http-api.md, Read positions and unread counts), as fresh as the list's last refresh (list-refresh.ts), except
 * where this page knows better without asking:
 * - the open conversation has none: the user is reading it (read-marker.ts marks it read as it is seen);
 * - a conversation this page marked read up to its last record (`last_sequence_id`) has none, also when the list was
 *   read before the mark reached the server (switching away must not bring back the count it had before it was opened).
 * No request is made for it: the counts come with the list the page reads anyway.
 */

/** The server counts at most this many (docs/http-api.md): this number means at least that many. */
export const UNREAD_COUNT_CAP = 1000;

/** What the badge says: '' for none, the count, or "999+" at the server's cap. */
export function unreadLabel(count: number | undefined): string {
  if (count === undefined || !(count > 0)) return '';
  return count >= UNREAD_COUNT_CAP ? `${UNREAD_COUNT_CAP - 1}+` : String(Math.floor(count));
}

export interface UnreadEntry {
  readonly conversation_id: string;
  readonly last_sequence_id?: number;
  readonly unread_count?: number;
}

/** The count to show for `entry`, given the open conversation and what this page marked read (by conversation). */
export function unreadShown(entry: UnreadEntry, openId: string | undefined, markedByPage: ReadonlyMap<string, number>): number {
  if (entry.conversation_id === openId) return 0;
  const marked = markedByPage.get(entry.conversation_id);
  if (marked !== undefined && entry.last_sequence_id !== undefined && marked >= entry.last_sequence_id) return 0;
  return entry.unread_count ?? 0;
}

/** The badge: the number for the eye, "N unread" for a screen reader (the word is visually hidden), or none. */
export function unreadBadge(doc: Document, count: number): HTMLSpanElement | undefined {
  const label = unreadLabel(count);
  if (label === '') return undefined;
  const badge = doc.createElement('span');
  badge.className = 'unread';
  badge.dataset['count'] = label;
  const word = doc.createElement('span');
  word.className = 'visually-hidden';
  word.textContent = ' unread';
  badge.append(label, word);
  return badge;
}
