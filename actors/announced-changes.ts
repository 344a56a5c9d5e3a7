import { MESSAGE_TYPES } from './message-types';
import type { ConversationContext } from './conversation-context';

/**
 * Guards against announcing one stored change twice. MessageEdits checks the store for the record of a change sent
 * again (unannounced-redactions.ts, unannouncedEdit), but an announcement held for a machine rebuilt after a crash is
 * in no store yet: a re-send during the rebuild announces it again, and both are handed to the new machine. The
 * second record would repeat the first's message_id (`redaction-of-<id>`, `edit-<seq>-<n>`), which the journal
 * refuses as STORAGE_ERR_DUPLICATE_MESSAGE on every retry (system records are never renamed), so nothing after it
 * would be stored. Such announcements arrive back to back, so the cached recent records are where the first is.
 */

/** The sequence ids the cached `redaction` records name, each with the record naming it. */
export function namedByRecentRedactions(ctx: ConversationContext): Map<number, number> {
  const named = new Map<number, number>();
  for (const m of ctx.recent.toArray()) {
    if (m.message_type !== MESSAGE_TYPES.redaction || m.sender_type !== 'system') continue;
    const ids = m.metadata.redacted_sequence_ids;
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'number') named.set(id, m.sequence_id);
  }
  return named;
}

/** The sequence id of the cached system record `messageId` (an edit record), if there is one. */
export function recentSystemRecord(ctx: ConversationContext, messageId: string): number | undefined {
  for (const m of ctx.recent.toArray()) if (m.sender_type === 'system' && m.message_id === messageId) return m.sequence_id;
  return undefined;
}
