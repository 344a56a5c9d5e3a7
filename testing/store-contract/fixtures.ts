import type { ChatMessage, ConversationMeta, Participant } from '../../actors/message-types';

/** Deterministic records for the storage contract suite. */

export const T0 = Date.UTC(2026, 0, 1);

export function iso(offsetMs: number): string {
  return new Date(T0 + offsetMs).toISOString();
}

export function meta(id: string, createdOffsetMs = 0, overrides: Partial<ConversationMeta> = {}): ConversationMeta {
  return {
    conversation_id: id,
    title: `title of ${id}`,
    created_at: iso(createdOffsetMs),
    created_by: 'alice',
    settings: { site: ['example.com', 'news.example'], nlweb_mode: 'summarize', nested: { depth: [1, { two: true }] } },
    status: 'active',
    ...overrides,
  };
}

export function person(id: string, joinedAt = 1, overrides: Partial<Participant> = {}): Participant {
  return {
    participant_id: id,
    participant_type: 'human',
    display_name: `${id} display`,
    joined_at_sequence: joinedAt,
    role: 'member',
    ...overrides,
  };
}

export function agent(id: string, joinedAt = 1): Participant {
  return {
    participant_id: id,
    participant_type: 'ai',
    display_name: `agent ${id}`,
    joined_at_sequence: joinedAt,
    role: 'member',
    agent_id: `${id}-cfg`,
  };
}

export function msg(conversationId: string, seq: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    message_id: `${conversationId}-m${seq}`,
    conversation_id: conversationId,
    sequence_id: seq,
    sender_id: seq % 2 === 0 ? 'bob' : 'alice',
    sender_type: 'human',
    message_type: 'text',
    content: `message ${seq} of ${conversationId}`,
    timestamp: iso(seq * 1000),
    metadata: { seq, tags: ['a', 'b'], nested: { ok: true, n: null } },
    ...overrides,
  };
}

/** `count` consecutive records starting at `from`. */
export function msgs(conversationId: string, from: number, count: number, overrides: Partial<ChatMessage> = {}): ChatMessage[] {
  return Array.from({ length: count }, (_, i) => msg(conversationId, from + i, overrides));
}

/** True when every nested object/array of `value` is frozen. */
export function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value as Record<string, unknown>).every(isDeepFrozen);
}
