import type { ChatMessage, ConversationMeta } from '../actors/message-types';
import type { ConversationActivity } from './conversation-activity';
import { makeMessage, makeMeta, parseJsonObject } from './records';

/**
 * A row of the SQL providers' listActivity statement as an entry: the meta columns, last_sequence_id,
 * activity_at, and the preview record's columns prefixed pv_ (all NULL when there is no preview).
 */
export function activityFromRow(row: Record<string, unknown>): ConversationActivity {
  return Object.freeze({
    meta: makeMeta(row as unknown as ConversationMeta, parseJsonObject(row.settings, 'settings')),
    lastSequenceId: Number(row.last_sequence_id),
    activityAt: String(row.activity_at),
    preview: row.pv_sequence_id === null || row.pv_sequence_id === undefined ? undefined : previewFromRow(row),
  });
}

function previewFromRow(row: Record<string, unknown>): ChatMessage {
  const fields = {
    message_id: row.pv_message_id,
    conversation_id: row.pv_conversation_id,
    sequence_id: row.pv_sequence_id,
    sender_id: row.pv_sender_id,
    sender_type: row.pv_sender_type,
    message_type: row.pv_message_type,
    content: row.pv_content,
    timestamp: row.pv_timestamp,
  };
  return makeMessage(fields as unknown as ChatMessage, parseJsonObject(row.pv_metadata, 'metadata'));
}
