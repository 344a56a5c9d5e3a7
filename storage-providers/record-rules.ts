import type { ChatMessage } from '../actors/message-types';
import { copyJsonObject } from './records';

/**
 * What a store can hold, as one rule: ChatStore checks it on every write, and the runtime checks its callers'
 * input against it before sequencing anything (actors/input-rules.ts), because a record sequenced and delivered
 * that the journal then refuses cannot be taken back.
 */

/** The longest id a store keeps (conversation, participant and sender, message ids): 1 to 256 characters. */
export const MAX_ID_LENGTH = 256;

/** Why `value` cannot be an id (`name` says which one), or undefined when it can. */
export function idProblem(value: unknown, name: string): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH) return undefined;
  return `${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`;
}

/**
 * Why `value` cannot be stored as a JSON object (a record's metadata, a conversation's settings), or undefined:
 * what every provider refuses (not an object, an array, or what JSON cannot carry: cycles, BigInt). undefined and
 * null store as {}. Costs a copy, so callers check only objects that have keys.
 */
export function jsonObjectProblem(value: unknown, what: string): string | undefined {
  try {
    copyJsonObject(value, what);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Why a store refuses `m` as a record of `conversationId` by its fields (ids, strings, sequence id), or undefined.
 * The metadata is checked where a provider copies it (jsonObjectProblem's rule), not here: that copy is paid anyway.
 */
export function recordFieldsProblem(m: ChatMessage, conversationId: string): string | undefined {
  if (m.conversation_id !== conversationId) return `message ${m.message_id} belongs to ${m.conversation_id}`;
  const ids = idProblem(m.message_id, 'message_id') ?? idProblem(m.sender_id, 'sender_id');
  if (ids !== undefined) return ids;
  if (typeof m.content !== 'string' || typeof m.message_type !== 'string' || typeof m.timestamp !== 'string') {
    return `message ${m.message_id} has a non-string field`;
  }
  if (!Number.isSafeInteger(m.sequence_id) || m.sequence_id < 1) return `invalid sequence_id ${String(m.sequence_id)}`;
  return undefined;
}
