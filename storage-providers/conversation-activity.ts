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
 * Negative when `a` ranks before `b` (more recent activity; on a tie, the smaller id). Plain string order:
 * the timestamps are toISOString() text (fixed width), and SQL compares them byte-wise (COLLATE "C" / BINARY).
 */
export function compareActivity(a: ActivityKey, b: ActivityKey): number {
  if (a.activityAt !== b.activityAt) return a.activityAt > b.activityAt ? -1 : 1;
  if (a.conversationId === b.conversationId) return 0;
  return a.conversationId < b.conversationId ? -1 : 1;
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
