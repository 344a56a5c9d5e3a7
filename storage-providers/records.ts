import { ChatError } from '../actors/errors';
import type { ChatMessage, ConversationMeta, Participant } from '../actors/message-types';

/**
 * Normalisation shared by every provider, so each one returns the same plain, frozen records:
 * metadata/settings get JSON semantics (what SQL backends store), and nothing a caller holds
 * aliases stored state.
 */

/** Recursively freezes a JSON value (objects and arrays). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * A frozen deep copy of a JSON object with JSON semantics (undefined dropped, Dates as strings).
 * Throws STORAGE_ERR_INVALID_ARGUMENT for values JSON cannot carry (cycles, BigInt).
 */
export function copyJsonObject(value: unknown, what: string): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `${what} must be an object`);
  }
  // Fast path: most records carry no metadata.
  if (Object.keys(value).length === 0) return EMPTY;
  return cloneJson(value, 0, what) as Readonly<Record<string, unknown>>;
}

/**
 * Frozen copy with exactly JSON.parse(JSON.stringify(value)) semantics, several times faster for
 * the plain objects metadata usually is; anything unusual (toJSON, class instances, very deep or
 * cyclic values) takes the JSON round trip itself.
 */
function cloneJson(value: unknown, depth: number, what: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return value === 0 ? 0 : Number.isFinite(value) ? value : null; // -0 becomes 0, NaN/Infinity null
    case 'object': {
      if (value === null) return null;
      const proto: unknown = Object.getPrototypeOf(value);
      const plain = Array.isArray(value) || proto === Object.prototype || proto === null;
      if (depth > 32 || !plain || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return deepFreeze(JSON.parse(toJsonText(value, what)) as unknown);
      }
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i], depth + 1, what) ?? null;
        return Object.freeze(out);
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const v = cloneJson((value as Record<string, unknown>)[key], depth + 1, what);
        if (v === undefined) continue;
        // A "__proto__" key must stay an own property, as JSON.parse makes it.
        if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        else out[key] = v;
      }
      return Object.freeze(out);
    }
    case 'bigint':
      return toJsonText(value, what); // throws the coded error, as JSON.stringify does
    default:
      return undefined; // undefined, functions and symbols vanish (null inside arrays)
  }
}

/** Serialises a metadata/settings object for a SQL column. */
export function toJsonText(value: unknown, what: string): string {
  if (value === undefined || value === null) return '{}';
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `${what} is not JSON-serialisable`, { cause: err });
  }
}

/** Parses a stored JSON column (text, or an already parsed jsonb object) into a frozen object. */
export function parseJsonObject(value: unknown, what: string): Readonly<Record<string, unknown>> {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `${what} must be an object`);
  }
  if (Object.keys(parsed).length === 0) return EMPTY;
  return deepFreeze(parsed as Record<string, unknown>);
}

/** A plain frozen message with exactly the ChatMessage fields. */
/** The number of fields of a ChatMessage. */
const MESSAGE_FIELDS = 9;

/**
 * True for a record nobody can change and that has exactly the record's fields: frozen, with frozen empty
 * metadata (what the runtime sequences for a plain text post). A store may keep such a record as it is
 * instead of copying it.
 */
export function isSealedRecord(m: ChatMessage): boolean {
  if (!Object.isFrozen(m) || typeof m.sequence_id !== 'number' || !Object.isFrozen(m.metadata)) return false;
  for (const _ in m.metadata) return false;
  let fields = 0;
  for (const _ in m) fields++;
  return fields === MESSAGE_FIELDS;
}

export function makeMessage(m: ChatMessage, metadata: Readonly<Record<string, unknown>>): ChatMessage {
  return Object.freeze({
    message_id: m.message_id,
    conversation_id: m.conversation_id,
    sequence_id: Number(m.sequence_id),
    sender_id: m.sender_id,
    sender_type: m.sender_type,
    message_type: m.message_type,
    content: m.content,
    timestamp: m.timestamp,
    metadata,
  });
}

/** A plain frozen conversation meta with exactly the ConversationMeta fields. */
export function makeMeta(meta: ConversationMeta, settings: Readonly<Record<string, unknown>>): ConversationMeta {
  return Object.freeze({
    conversation_id: meta.conversation_id,
    title: meta.title,
    created_at: meta.created_at,
    created_by: meta.created_by,
    settings,
    status: meta.status,
  });
}

/** A plain frozen participant; agent_id only present when set (SQL NULL -> absent). */
export function makeParticipant(p: Participant): Participant {
  const out: { -readonly [K in keyof Participant]: Participant[K] } = {
    participant_id: p.participant_id,
    participant_type: p.participant_type,
    display_name: p.display_name,
    joined_at_sequence: Number(p.joined_at_sequence),
    role: p.role,
  };
  if (p.agent_id !== undefined && p.agent_id !== null) out.agent_id = p.agent_id;
  return Object.freeze(out);
}

/** The redacted form of a record: content replaced, metadata marked, everything else intact. */
export function redactedMetadata(metadata: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return deepFreeze({ ...metadata, redacted: true });
}

/** Newest first; ties broken by id so every provider returns the same order. */
export function compareNewestFirst(a: ConversationMeta, b: ConversationMeta): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.conversation_id < b.conversation_id ? -1 : a.conversation_id > b.conversation_id ? 1 : 0;
}

/** Oldest first (retention listing); ties broken by id. */
export function compareOldestFirst(a: ConversationMeta, b: ConversationMeta): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.conversation_id < b.conversation_id ? -1 : a.conversation_id > b.conversation_id ? 1 : 0;
}

/** Members in join order (joined_at_sequence, then id), the order every provider returns. */
export function compareParticipants(a: Participant, b: Participant): number {
  if (a.joined_at_sequence !== b.joined_at_sequence) return a.joined_at_sequence - b.joined_at_sequence;
  return a.participant_id < b.participant_id ? -1 : a.participant_id > b.participant_id ? 1 : 0;
}

/** Key of the (sender_id, message_id) uniqueness constraint. */
export function senderMessageKey(senderId: string, messageId: string): string {
  return `${senderId}\u0000${messageId}`;
}
