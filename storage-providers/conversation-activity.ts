import type { ChatMessage, ConversationMeta } from '../actors/message-types';

/**
 * A user's conversations by last activity (GET /chat/conversations): what every provider answers and
 * the order they all keep, so the runtime can merge a page with its live conversations' newer records.
 */

/** Where a conversation ranks: later `activityAt` first; on a tie, the smaller conversation id first. */
export interface ActivityKey {
  /** The latest record's timestamp, or the conversation's created_at when it has no record. */
  readonly activityAt: string;
  readonly conversationId: string;
}

/** One conversation of a user's list, with what the list shows of its latest records. */
export interface ConversationActivity {
  readonly meta: ConversationMeta;
  /** 0 when the conversation has no record. */
  readonly lastSequenceId: number;
  readonly activityAt: string;
  /**
   * The latest record of a PREVIEW_TYPES type among the conversation's last PREVIEW_SCAN records (undefined
   * when there is none there): bookkeeping (joins, agent_job_*, redaction records ...) is skipped, at a bounded cost.
   */
  readonly preview: ChatMessage | undefined;
}

/** Record types a person reads as a message; the list previews only these. */
export const PREVIEW_TYPES: readonly string[] = Object.freeze(['text', 'nlweb_response']);

/** How many of a conversation's latest records are searched for a preview (bounds the work per conversation). */
export const PREVIEW_SCAN = 50;

/** The most a store returns in one call. */
export const MAX_ACTIVITY_PAGE = 1000;

export function activityKeyOf(entry: Pick<ConversationActivity, 'activityAt' | 'meta'>): ActivityKey {
  return { activityAt: entry.activityAt, conversationId: entry.meta.conversation_id };
}

/**
 * Negative when `a` ranks before `b` (more recent activity; on a tie, the smaller id). The timestamps are
 * toISOString() text (fixed width, ASCII), compared as strings. The ids are compared by code point, which is the
 * UTF-8 byte order SQL (COLLATE "C" / BINARY) and Redis's activity indexes sort by: the runtime cuts a store's page
 * with this (actors/conversation-list.ts), so the two orders must agree.
 */
export function compareActivity(a: ActivityKey, b: ActivityKey): number {
  if (a.activityAt !== b.activityAt) return a.activityAt > b.activityAt ? -1 : 1;
  return compareCodePoints(a.conversationId, b.conversationId);
}

/**
 * -1, 0 or 1 as `a` sorts before, with or after `b` by code point (= UTF-8 bytes). JavaScript's `<` compares UTF-16
 * code units instead, where a character above U+FFFF (a surrogate pair, D800-DFFF) ranks before U+E000-U+FFFF;
 * only the first code unit that differs matters, so it is moved to its code point rank.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) < codePointRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** Surrogates (D800-DFFF) above U+E000-U+FFFF, everything else where it was. */
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** A conversation's entry from its meta and its latest records (any order, at most PREVIEW_SCAN needed). */
export function activityOf(meta: ConversationMeta, latest: readonly ChatMessage[]): ConversationActivity {
  let last: ChatMessage | undefined;
  let preview: ChatMessage | undefined;
  for (const m of latest) {
    if (last === undefined || m.sequence_id > last.sequence_id) last = m;
  }
  for (const m of latest) {
    if (!isPreviewable(m) || (last !== undefined && m.sequence_id <= last.sequence_id - PREVIEW_SCAN)) continue;
    if (preview === undefined || m.sequence_id > preview.sequence_id) preview = m;
  }
  return { meta, lastSequenceId: last?.sequence_id ?? 0, activityAt: last?.timestamp ?? meta.created_at, preview };
}

export function isPreviewable(m: ChatMessage): boolean {
  return PREVIEW_TYPES.includes(m.message_type);
}
