import type { ChatMessage } from '../actors/message-types';

/**
 * What a store can hold, as one rule: ChatStore checks it on every write, and the runtime checks its callers'
 * input against it before sequencing anything (actors/input-rules.ts), because a record sequenced and delivered
 * that the journal then refuses cannot be taken back.
 */

/** The longest id a store keeps (conversation, participant and sender, message ids): 1 to 256 characters. */
export const MAX_ID_LENGTH = 256;

/** Why `value` cannot be an id (`name` says which one), or undefined when it can. */
export function idProblem(value: unknown, name: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    return `${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`;
  }
  return stringProblem(value, name);
}

/**
 * Why `value` cannot be stored as a JSON object (a record's metadata, a conversation's settings), or undefined:
 * what every provider refuses (not an object, an array, what JSON cannot carry: cycles, BigInt; a NUL character or a
 * lone surrogate in a string or key: stringProblem), and nesting past MAX_JSON_DEPTH. undefined and
 * null store as {}. The decisions of the copy a provider makes (records.ts copyJsonObject), plus those, without the copy:
 * it runs for every agent piece and post with metadata before it is sequenced, and the store copies later anyway.
 */
export function jsonObjectProblem(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return `${what} must be an object`;
  return carryProblem(value, 0, what);
}

/** With the u flag a surrogate pair is one code point outside this range, so only a lone surrogate matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether `text` has a UTF-16 surrogate without its pair (a JSON `\ud800` escape can carry one). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** `text` with every lone surrogate written as U+FFFD (what a store would make of it, said up front). */
export function toWellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(new RegExp(LONE_SURROGATE.source, 'gu'), '\uFFFD') : text;
}

/**
 * Why a JSON value (a parsed request body, an id, metadata) has something no store keeps as sent, or undefined:
 * stringProblem in any string or key, or what JSON cannot carry. For callers that refuse it with their own code
 * before the runtime would (the gateway: GATEWAY_ERR_BAD_REQUEST / GATEWAY_ERR_INVALID_FRAME).
 */
export function storableValueProblem(value: unknown, what: string): string | undefined {
  return carryProblem(value, 0, what);
}

/**
 * A string (or key) no store keeps as it is: PostgreSQL's jsonb refuses U+0000 ("unsupported Unicode escape
 * sequence") and a lone UTF-16 surrogate, which SQLite and PostgreSQL text turn into U+FFFD. No store may take
 * what one cannot, and a journal that differs from what was delivered is no journal.
 */
function stringProblem(value: string, what: string): string | undefined {
  if (value.includes('\u0000')) return `${what} contains a NUL character (U+0000), which PostgreSQL cannot store`;
  if (hasLoneSurrogate(value)) return `${what} contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)`;
  return undefined;
}

/**
 * How deep objects and arrays may nest in metadata, settings and request bodies (the outermost is level 1).
 * Without a bound, JSON of a few thousand levels (8 KiB of brackets) passed every size check and then broke
 * whatever walks it recursively later: JSON.stringify of a conversation list (every list of every member named
 * in it answered 500 for good), the journal's size estimate and the re-send comparison. 64 is far beyond what
 * any NLWeb result or client metadata nests.
 */
export const MAX_JSON_DEPTH = 64;

/** The walk of jsonObjectProblem: plain objects and arrays are looked into, anything unusual is serialised. */
function carryProblem(value: unknown, depth: number, what: string): string | undefined {
  if (typeof value === 'string') return stringProblem(value, what);
  if (typeof value === 'bigint') return `${what} is not JSON-serialisable`;
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return deepValueProblem(value, what);
  const proto: unknown = Object.getPrototypeOf(value);
  const plain = Array.isArray(value) || proto === Object.prototype || proto === null;
  // Class instances and toJSON take JSON's own verdict, as the copy does.
  if (!plain || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    try {
      JSON.stringify(value);
      return undefined;
    } catch {
      return `${what} is not JSON-serialisable`;
    }
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = carryProblem(item, depth + 1, what);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  for (const key in value) {
    const keyProblem = stringProblem(key, what);
    if (keyProblem !== undefined) return keyProblem;
    const problem = carryProblem((value as Record<string, unknown>)[key], depth + 1, what);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A value found at MAX_JSON_DEPTH: a cycle (an embedder's object; JSON cannot carry it) or nesting past the bound. */
function deepValueProblem(value: object, what: string): string {
  try {
    JSON.stringify(value);
  } catch (err) {
    if (err instanceof TypeError) return `${what} is not JSON-serialisable`;
  }
  return `${what} nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`;
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
