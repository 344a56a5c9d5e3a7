import { MESSAGE_TYPES, type ChatMessage } from '../../actors/message-types';

/** How many redacted ids a redaction record's note names before it only counts the rest. */
const NAMED_IDS = 5;

/**
 * What an edit or a delete did, as a timeline prefix, so that a journal read in order says it. An edited message is
 * stored with its latest text under its first sequence id and time, so without a note the timeline showed that text
 * as if it had been sent so at first (what other members saw first is gone from the store); the `edit` and
 * `redaction` records it gets did not say which record they changed, nor who changed it. Empty for other records.
 */
export function changeNote(m: ChatMessage, timeOfDay: (iso: string) => string): string {
  const md = m.metadata;
  if (m.sender_type === 'system' && m.message_type === MESSAGE_TYPES.edit && typeof md.edited_sequence_id === 'number') {
    const count = typeof md.edit_count === 'number' ? ` ${md.edit_count}` : '';
    const by = typeof md.sender_id === 'string' ? ` by ${md.sender_id}` : '';
    return `[edit${count} of #${md.edited_sequence_id}${by}] `;
  }
  if (m.sender_type === 'system' && m.message_type === 'redaction' && Array.isArray(md.redacted_sequence_ids)) {
    const ids = md.redacted_sequence_ids.filter((n): n is number => typeof n === 'number');
    const named = ids.slice(0, NAMED_IDS).map((n) => `#${n}`);
    const more = ids.length > NAMED_IDS ? ` and ${ids.length - NAMED_IDS} more` : '';
    const by = typeof md.requested_by === 'string' ? ` by ${md.requested_by}` : '';
    return `[redacts ${named.join(', ')}${more}${by}] `;
  }
  // A redacted record's text is the marker already; its edits are redacted with it, so a redacted record is not
  // also noted as edited.
  if (md.edited === true && md.redacted !== true) {
    const count = typeof md.edit_count === 'number' ? ` ×${md.edit_count}` : '';
    const at = typeof md.edited_at === 'string' ? ` as of ${timeOfDay(md.edited_at)}` : ' as edited';
    return `[edited${count}; text${at}] `;
  }
  return '';
}
