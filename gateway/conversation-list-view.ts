import type { Request } from 'express';
import { ChatError } from '../actors/errors';
import type { ConversationPageEntry } from '../actors/conversation-list';
import type { ConversationMeta, Participant, SenderType } from '../actors/message-types';
import type { ActivityKey } from '../storage-providers/conversation-activity';
import { idProblem } from '../storage-providers/record-rules';
import { cutText } from './text-cut';

/** GET /chat/conversations: its query (limit, cursor) and the shape of its entries (docs/http-api.md). */

export const DEFAULT_CONVERSATION_PAGE = 50;
export const MAX_CONVERSATION_PAGE = 200;
/** A preview's content is cut to this many UTF-16 code units (one fewer rather than half a surrogate pair). */
export const PREVIEW_CONTENT_LENGTH = 200;

/** The latest record a person reads as a message, as the list shows it. */
export interface LastMessagePreview {
  readonly sequence_id: number;
  readonly sender_id: string;
  readonly sender_type: SenderType;
  readonly message_type: string;
  readonly content: string;
  /** The content was longer than what `content` holds. */
  readonly content_truncated: boolean;
  readonly timestamp: string;
}

/** One conversation of the list: the stored meta fields (as before paging), and its activity. */
export interface ConversationListEntry extends ConversationMeta {
  readonly last_sequence_id: number;
  readonly last_activity_at: string;
  readonly last_message: LastMessagePreview | null;
  /**
   * Some of its current members (LISTED_MEMBERS at most: people first, the last message's sender always), as its
   * summary has them: a page names an untitled conversation and a preview's sender without a read per entry.
   */
  readonly participants?: readonly Participant[];
  /** How many members it has in all (`participants` may list fewer). */
  readonly participant_count?: number;
  /** The caller's read position: the sequence id it has read up to (at least its join record's). */
  readonly read_up_to?: number;
  /** Records after it that others sent and a person reads (`text`, `nlweb_response`), at most 1000 counted. */
  readonly unread_count?: number;
}

/**
 * Members listed per entry. A page of 200 conversations of 100 members each would otherwise be ~20,000 member
 * records (~2.5 MB), fetched again on every refresh of every open page, to show three names and a "+N".
 */
export const LISTED_MEMBERS = 8;

/** The members an entry lists: the preview's sender, then people, then agents, in membership order, LISTED_MEMBERS at most. */
export function listedMembers(participants: readonly Participant[], previewSenderId: string | undefined): readonly Participant[] {
  if (participants.length <= LISTED_MEMBERS) return participants;
  const rank = (p: Participant): number => (p.participant_id === previewSenderId ? 0 : p.participant_type === 'ai' ? 2 : 1);
  // Array.prototype.sort is stable: membership order is kept within a rank.
  return [...participants].sort((a, b) => rank(a) - rank(b)).slice(0, LISTED_MEMBERS);
}

export function listEntry(entry: ConversationPageEntry): ConversationListEntry {
  const p = entry.preview;
  const content = p === undefined ? '' : cutText(p.content, PREVIEW_CONTENT_LENGTH);
  return {
    ...entry.meta,
    last_sequence_id: entry.lastSequenceId,
    last_activity_at: entry.activityAt,
    last_message:
      p === undefined
        ? null
        : {
            sequence_id: p.sequence_id,
            sender_id: p.sender_id,
            sender_type: p.sender_type,
            message_type: p.message_type,
            content,
            content_truncated: content.length < p.content.length,
            timestamp: p.timestamp,
          },
    ...(entry.participants === undefined
      ? {}
      : { participants: listedMembers(entry.participants, p?.sender_id), participant_count: entry.participants.length }),
    ...(entry.readUpTo === undefined ? {} : { read_up_to: entry.readUpTo }),
    ...(entry.unreadCount === undefined ? {} : { unread_count: entry.unreadCount }),
  };
}

/** The opaque cursor: the last entry's rank (activity time, conversation id), base64url JSON with a version. */
export function encodeCursor(key: ActivityKey): string {
  return Buffer.from(JSON.stringify({ v: 1, a: key.activityAt, c: key.conversationId })).toString('base64url');
}

const BAD_CURSOR = 'cursor is not a next_cursor this server gave out: pass next_cursor unchanged, or leave cursor out to start at the top';

/** `?cursor=`: undefined when absent or empty; a cursor not made by encodeCursor is a bad request. */
export function cursorQuery(req: Request): ActivityKey | undefined {
  const raw = (req.query as Record<string, unknown>).cursor;
  if (raw === undefined || raw === '') return undefined;
  if (Array.isArray(raw)) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', 'cursor is given more than once');
  if (typeof raw !== 'string' || raw.length > 512 || !/^[A-Za-z0-9_-]+$/.test(raw))
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', BAD_CURSOR);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', BAD_CURSOR);
  }
  const fields = decoded as { v?: unknown; a?: unknown; c?: unknown } | null;
  const valid =
    fields !== null &&
    typeof fields === 'object' &&
    fields.v === 1 &&
    typeof fields.a === 'string' &&
    fields.a.length <= 64 &&
    idProblem(fields.c, 'c') === undefined;
  if (!valid) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', BAD_CURSOR);
  return { activityAt: fields.a as string, conversationId: fields.c as string };
}
