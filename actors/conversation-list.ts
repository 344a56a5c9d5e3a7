import type { ChatStore } from '../storage-providers/chat-store';
import {
  MAX_ACTIVITY_PAGE,
  PREVIEW_SCAN,
  activityKeyOf,
  compareActivity,
  isPreviewable,
  type ActivityKey,
  type ConversationActivity,
} from '../storage-providers/conversation-activity';
import type { ChatMessage, ConversationMeta, Participant, ParticipantType } from './message-types';

/**
 * One page of a user's conversation list by last activity: the store's page (the journal) with the newer
 * records of live conversations laid over it, since a record is delivered before it is stored.
 */

/** What the list needs of a live conversation (ConversationActor has it). */
export interface LiveConversationView {
  readonly conversationId: string;
  readonly meta: ConversationMeta;
  readonly lastSequenceId: number;
  participantTypeOf(participantId: string): ParticipantType | undefined;
  /** A record still in memory (the recent-records cache), or undefined. */
  recordInMemory(sequenceId: number): ChatMessage | undefined;
}

export interface ConversationPageRequest {
  readonly participantType?: ParticipantType;
  readonly limit: number;
  readonly after?: ActivityKey;
}

/**
 * One conversation of a page; the runtime adds its current members (withMembers) and the reader's read position and
 * unread count (withReadStates, read-states.ts), conversationPage does not.
 */
export interface ConversationPageEntry extends ConversationActivity {
  readonly participants?: readonly Participant[];
  readonly readUpTo?: number;
  readonly unreadCount?: number;
}

export interface ConversationPage {
  readonly entries: readonly ConversationPageEntry[];
  /** Where the next page starts; undefined when this one is the last. */
  readonly next: ActivityKey | undefined;
}

/** A live conversation's latest record and what it says about the preview. */
interface LiveTail {
  readonly last: ChatMessage;
  readonly preview: ChatMessage | undefined;
  /** Every record of the preview window was in memory: `preview` is the answer even when undefined. */
  readonly complete: boolean;
}

/**
 * The page: the store is asked for limit + (live conversations) + 1 rows, so that after live ones move up
 * (out of this page, when they now rank before `after`) at least `limit` rows the journal ranks right remain.
 * Rows ranking at or below the store's last row are kept for the next page, where the store returns them again.
 */
export async function conversationPage(
  store: ChatStore,
  live: Iterable<LiveConversationView>,
  userId: string,
  request: ConversationPageRequest,
): Promise<ConversationPage> {
  const tails = liveTails(live, userId, request.participantType);
  const asked = Math.min(MAX_ACTIVITY_PAGE, request.limit + tails.size + 1);
  const rows = await store.listConversationActivity(userId, {
    participantType: request.participantType,
    after: request.after,
    limit: asked,
  });
  const candidates = new Map<string, ConversationActivity>();
  for (const row of rows) candidates.set(row.meta.conversation_id, overlay(row, tails.get(row.meta.conversation_id)?.tail));
  for (const [id, { view, tail }] of tails) {
    if (!candidates.has(id))
      candidates.set(id, overlay({ meta: view.meta, lastSequenceId: 0, activityAt: view.meta.created_at, preview: undefined }, tail));
  }
  const cutoff = rows.length === asked ? activityKeyOf(rows[rows.length - 1]) : undefined;
  const ranked = [...candidates.values()]
    .filter((e) => request.after === undefined || compareActivity(activityKeyOf(e), request.after) > 0)
    .filter((e) => cutoff === undefined || compareActivity(activityKeyOf(e), cutoff) < 0)
    .sort((a, b) => compareActivity(activityKeyOf(a), activityKeyOf(b)));
  const entries = ranked.slice(0, request.limit);
  const more = cutoff !== undefined || ranked.length > entries.length;
  const completed = await Promise.all(entries.map((e) => completePreview(store, e, tails.get(e.meta.conversation_id)?.tail)));
  return { entries: completed, next: more && entries.length > 0 ? activityKeyOf(entries[entries.length - 1]) : undefined };
}

/** The live conversations the user is a current member of (of the type asked), with their last record in memory. */
function liveTails(
  live: Iterable<LiveConversationView>,
  userId: string,
  type: ParticipantType | undefined,
): Map<string, { view: LiveConversationView; tail: LiveTail }> {
  const tails = new Map<string, { view: LiveConversationView; tail: LiveTail }>();
  for (const view of live) {
    const memberType = view.participantTypeOf(userId);
    if (memberType === undefined || (type !== undefined && memberType !== type)) continue;
    const tail = liveTail(view);
    if (tail) tails.set(view.conversationId, { view, tail });
  }
  return tails;
}

function liveTail(view: LiveConversationView): LiveTail | undefined {
  const last = view.recordInMemory(view.lastSequenceId);
  if (last === undefined) return undefined;
  const lowest = Math.max(1, last.sequence_id - PREVIEW_SCAN + 1);
  for (let id = last.sequence_id; id >= lowest; id--) {
    const record = view.recordInMemory(id);
    if (record === undefined) return { last, preview: undefined, complete: false };
    if (isPreviewable(record)) return { last, preview: record, complete: true };
  }
  return { last, preview: undefined, complete: true };
}

/** The entry with the live tail's newer last record (and preview) when the actor is ahead of the journal. */
function overlay(entry: ConversationActivity, tail: LiveTail | undefined): ConversationActivity {
  if (tail === undefined || tail.last.sequence_id < entry.lastSequenceId) return entry;
  const inWindow = entry.preview !== undefined && entry.preview.sequence_id > tail.last.sequence_id - PREVIEW_SCAN;
  return {
    meta: entry.meta,
    lastSequenceId: tail.last.sequence_id,
    activityAt: tail.last.timestamp,
    // A record in memory may be newer than the stored one (a redaction not yet stored).
    preview: tail.preview ?? (tail.complete || !inWindow ? undefined : entry.preview),
  };
}

/**
 * A live conversation the store did not return (it ranks low in the journal) whose preview is not in memory:
 * the journal part of the window is read (rare: a cache smaller than the window, and a page row).
 */
async function completePreview(store: ChatStore, entry: ConversationActivity, tail: LiveTail | undefined): Promise<ConversationActivity> {
  if (tail === undefined || tail.complete || entry.preview !== undefined) return entry;
  const latest = await store.readLatestMessages(entry.meta.conversation_id, PREVIEW_SCAN);
  const windowStart = entry.lastSequenceId - PREVIEW_SCAN;
  const preview = latest.filter((m) => m.sequence_id > windowStart && isPreviewable(m)).pop();
  return { ...entry, preview };
}
