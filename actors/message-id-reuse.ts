/**
 * A message_id is an idempotency key: a retry with the same (sender, message_id) gets the original's answer,
 * and a post that reuses the id for something else is refused (CHAT_ERR_MESSAGE_ID_REUSED) instead of being
 * told "duplicate" while its content is silently dropped. Only retries are compared, never every post: the
 * dedup index (conversation-context.ts) finds them, and only then is the original looked up.
 */
import { postedMetadata } from './conversation-context';
import { ChatError, type ChatErrorDetails } from './errors';
import { MESSAGE_TYPES, type ChatMessage } from './message-types';
import type { PostFields } from './conversation-events';

/** Where a retry's original record may be found. */
export interface OriginalRecords {
  /** At once, from the cache (the common retry: a client re-sending what it sent moments ago). */
  cached(sequenceId: number): ChatMessage | undefined;
  /** Memory beyond the cache, then the journal; undefined when it cannot be read. Never rejects. */
  read(sequenceId: number): Promise<ChatMessage | undefined>;
}

/**
 * Decides a retry of the accepted record `sequenceId`: `answer(undefined)` when the post repeats the original
 * (or the original cannot be read: nothing to compare with, so the duplicate answer stands), else
 * `answer(error)`. Synchronous when the original is cached; one read otherwise.
 */
export function checkRetry<T>(
  post: PostFields,
  sequenceId: number,
  originals: OriginalRecords,
  answer: (reused: ChatError | undefined) => T | Promise<T>,
): T | Promise<T> {
  const judge = (original: ChatMessage | undefined): T | Promise<T> =>
    answer(original === undefined || repeatsRecord(original, post) ? undefined : messageIdReused(post.message_id, sequenceId));
  const cached = originals.cached(sequenceId);
  return cached !== undefined ? judge(cached) : originals.read(sequenceId).then(judge);
}

/**
 * Whether a post carries what its accepted record was made from: content, message type and metadata (as
 * JSON: key order does not matter). A redacted or edited record no longer has the content it was posted with, so
 * a re-send cannot be told from a reuse: it counts as a repeat, keeping the duplicate answer the record had before
 * (an edit must not turn the client's at-least-once re-send of the original into a 409).
 */
export function repeatsRecord(record: ChatMessage, post: PostFields): boolean {
  if (record.metadata.redacted === true || record.metadata.edited === true) return true;
  return (
    record.content === post.content &&
    record.message_type === (post.message_type ?? MESSAGE_TYPES.text) &&
    sameJson(record.metadata, postedMetadata(record.sender_type === 'ai', post.metadata) ?? {})
  );
}

/** The refusal of a reused id; `details` name the id and the original's sequence id for the gateway. */
export function messageIdReused(messageId: string, sequenceId: number): ChatError {
  return new ChatError(
    'CHAT_ERR_MESSAGE_ID_REUSED',
    `message_id ${JSON.stringify(messageId)} was already accepted (sequence ${sequenceId}) with other content or metadata; ` +
      'a re-send must repeat it exactly, a new message needs a new message_id',
    { details: { message_id: messageId, sequence_id: sequenceId } satisfies ChatErrorDetails['CHAT_ERR_MESSAGE_ID_REUSED'] },
  );
}

/**
 * Equality of JSON-like values. A key holding undefined counts as absent, as it is once the journal stored
 * the record: an embedder's retry must match whether the original comes from memory or from storage.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => sameJson(v, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((k) => left[k] !== undefined);
  if (keys.length !== Object.keys(right).filter((k) => right[k] !== undefined).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(right, k) && sameJson(left[k], right[k]));
}
