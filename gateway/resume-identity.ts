import type { RecordIdentity } from '../actors/resume-divergence';
import { ChatError } from '../actors/errors';
import { MAX_RECORD_ID_LENGTH } from './protocol/client-frames';

/**
 * The record a resume names as its last (`last_message_id` and `last_sender_id`, both or neither, only with
 * `last_sequence_id`), undefined when none is named, or the refusal. Read from the socket URL (chat-gateway.ts) and
 * the event stream's (sse-route.ts), one rule for both: a diverged history is reset the same way on either
 * (actors/resume-divergence.ts; docs/protocol.md, Resume with the last record's identity). The `sync` frame's fields
 * follow the same rule through its schema (protocol/client-frames.ts).
 */
export function resumeIdentityOf(
  messageId: string | undefined,
  senderId: string | undefined,
  resuming: boolean,
): RecordIdentity | ChatError | undefined {
  if (messageId === undefined && senderId === undefined) return undefined;
  if (messageId === undefined || senderId === undefined || !resuming) {
    return new ChatError('GATEWAY_ERR_BAD_REQUEST', 'last_message_id and last_sender_id go together, with last_sequence_id');
  }
  const fits = (v: string): boolean => v.length >= 1 && v.length <= MAX_RECORD_ID_LENGTH;
  if (!fits(messageId) || !fits(senderId)) {
    return new ChatError('GATEWAY_ERR_BAD_REQUEST', `last_message_id and last_sender_id must be 1 to ${MAX_RECORD_ID_LENGTH} characters`);
  }
  return { message_id: messageId, sender_id: senderId };
}
