import { redactionRecordId } from './conversation-reducers';
import { MESSAGE_TYPES, type ChatMessage } from './message-types';
import type { ChatStore } from '../storage-providers/chat-store';

/** Records read per page when looking for the redaction records that name a record. */
const READ_PAGE = 500;

/**
 * Of these redacted records (ascending sequence ids), those that no stored `redaction` record names: a redaction
 * stored before a stop (shutdown, a conversation moved) that never got its record sequenced, or whose record was
 * sequenced and never stored (a `lost` record stands there). Run after the journal caught up, one change at a time.
 *
 * First by predictable id (redactionRecordId): a redaction sent again usually names what its first sending named,
 * whose record is found by one lookup and covers all it names. What that leaves (a record redacted together with a
 * lower id than the request names, a journal written before predictable ids, a record truly never stored) is looked
 * for in the redaction records after it, read in pages: a redaction record always comes after what it names.
 */
export async function unannouncedRedactions(store: ChatStore, conversationId: string, redacted: readonly number[]): Promise<number[]> {
  const pending = new Set(redacted);
  for (const seq of redacted) {
    if (!pending.has(seq)) continue;
    const at = await store.findSequenceByMessageId(conversationId, 'system', redactionRecordId([seq]));
    if (at === undefined) break;
    const [record] = await store.readMessages(conversationId, at - 1, 1);
    if (record?.sequence_id === at) for (const id of namedIn(record)) pending.delete(id);
  }
  const left = redacted.filter((seq) => pending.has(seq));
  if (left.length === 0) return [];
  let after = left[0];
  while (pending.size > 0) {
    const page = await store.readMessages(conversationId, after, READ_PAGE);
    if (page.length === 0) break;
    for (const m of page) for (const id of namedIn(m)) pending.delete(id);
    after = page[page.length - 1].sequence_id;
  }
  return left.filter((seq) => pending.has(seq));
}

/** The sequence ids a `redaction` record names (none for any other record, or one without the list). */
function namedIn(record: ChatMessage): readonly number[] {
  if (record.message_type !== MESSAGE_TYPES.redaction || record.sender_type !== 'system') return [];
  const ids = record.metadata.redacted_sequence_ids;
  return Array.isArray(ids) ? ids.filter((id): id is number => typeof id === 'number') : [];
}
