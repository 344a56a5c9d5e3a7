import { createHash } from 'node:crypto';

/** How /health/chat names a conversation (`observability.health.conversation_ids`). */
export type HealthConversationIds = 'digest' | 'plain';

/** Hex digits of the SHA-256 kept: 64 bits, enough to tell a server's live conversations apart. */
const DIGEST_HEX_DIGITS = 16;

/**
 * The key /health/chat shows for a conversation id. /health/chat answers anyone, and whoever knows an id may join
 * that conversation and read its history (docs/security.md), so by default it shows a digest: an operator finds a
 * conversation from its id in the logs (`printf %s "$id" | sha256sum | cut -c1-16`), a reader of the endpoint
 * cannot go the other way for a server-picked id.
 */
export function healthConversationKey(mode: HealthConversationIds): (conversationId: string) => string {
  if (mode === 'plain') return (id) => id;
  return (id) => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, DIGEST_HEX_DIGITS);
}

/** `record` with every key replaced by `keyOf(key)`. */
export function rekeyed<T>(record: Readonly<Record<string, T>>, keyOf: (id: string) => string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [id, value] of Object.entries(record)) out[keyOf(id)] = value;
  return out;
}
