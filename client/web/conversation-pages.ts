/**
 * Which of the user's conversations the chat page lists, over the pages of GET /chat/conversations
 * (docs/http-api.md, The conversation list). The refresh (list-refresh.ts) reads the first page, the live top of
 * the list; "Show older conversations" reads the page after the last one shown, one page per click (every page is
 * a read of the user's budget, chat.limits.reads_per_second: the page never walks the whole list by itself).
 *
 * What is listed is every conversation ranked at or above the end of what has been read (`walkEnd`): a refresh
 * replaces the part its first page covers and keeps the older part below it, so the 30 s refresh neither drops the
 * pages the user asked for nor lists one of them twice, and a conversation that slid below the first page (others
 * became more recent) stays listed instead of vanishing until asked for.
 */
import type { ConversationMeta } from './conversation-list';

/** Entries per request: the server's largest page (MAX_CONVERSATION_PAGE), so most users need a single read. */
export const CONVERSATION_PAGE_SIZE = 200;

/** One answer of GET /chat/conversations. A server older than paging sends no next_cursor: all is on the page. */
export interface ConversationListPage {
  readonly conversations: readonly ConversationMeta[];
  readonly next_cursor?: string | null;
}

export interface ConversationPages {
  /** What the page lists, most recent activity first. */
  readonly listed: readonly ConversationMeta[];
  /** The `cursor` of the next older page; null when everything has been read. */
  readonly olderCursor: string | null;
  /** A first page (a refresh). */
  refreshed(page: ConversationListPage): void;
  /**
   * The page read from `cursor`, appended. Ignored (false) when `cursor` is no longer olderCursor: a refresh moved
   * the end of the list while the page was on its way, and the user may ask again from there.
   */
  appendOlder(cursor: string, page: ConversationListPage): boolean;
}

/**
 * The server's order (storage-providers/conversation-activity.ts, compareActivity, which the browser bundle cannot
 * load): later activity first, then the smaller id by code point. Negative when `a` ranks before `b`.
 */
export function compareRank(a: ConversationMeta, b: ConversationMeta): number {
  const at = a.last_activity_at ?? '';
  const bt = b.last_activity_at ?? '';
  if (at !== bt) return at > bt ? -1 : 1;
  return idOrder(a.conversation_id, b.conversation_id);
}

/**
 * -1, 0 or 1 as id `a` sorts before, with or after `b` by code point, the server's order (compareCodePoints there,
 * kept equal to it by test/client/conversation-pages.test.ts). `<` compares UTF-16 code units, which puts an id
 * with a character above U+FFFF (a surrogate, D800-DFFF) before one with U+E000-U+FFFF at the same place: the page
 * then judged the end of a refreshed first page wrongly and dropped a conversation an older page had brought.
 */
function idOrder(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    // The first unit that differs decides: surrogates move above E000-FFFF, everything else keeps its rank.
    if (x !== y) return unitRank(x) < unitRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

function unitRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

export function createConversationPages(): ConversationPages {
  let listed: readonly ConversationMeta[] = [];
  let olderCursor: string | null = null;
  /** The last entry read (the rank olderCursor continues after); undefined before the first page. */
  let walkEnd: ConversationMeta | undefined;

  return {
    get listed() {
      return listed;
    },
    get olderCursor() {
      return olderCursor;
    },
    refreshed(page) {
      const top = page.conversations;
      const next = page.next_cursor ?? null;
      const topEnd = top[top.length - 1];
      // The first page is the whole list, or reaches at least as far as what was read: it replaces everything.
      if (next === null || walkEnd === undefined || (topEnd !== undefined && compareRank(topEnd, walkEnd) >= 0)) {
        listed = top;
        olderCursor = next;
        walkEnd = topEnd ?? walkEnd;
        return;
      }
      // Below the first page, what was read before still holds: the server ranked those entries after its end,
      // and they ranked no higher then. Entries missing from it that ranked inside it were left or deleted: gone.
      const inTop = new Set(top.map((c) => c.conversation_id));
      const below = listed.filter((c) => !inTop.has(c.conversation_id) && (topEnd === undefined || compareRank(c, topEnd) > 0));
      listed = [...top, ...below];
    },
    appendOlder(cursor, page) {
      if (cursor !== olderCursor) return false;
      const known = new Set(listed.map((c) => c.conversation_id));
      listed = [...listed, ...page.conversations.filter((c) => !known.has(c.conversation_id))];
      olderCursor = page.next_cursor ?? null;
      walkEnd = page.conversations[page.conversations.length - 1] ?? walkEnd;
      return true;
    },
  };
}
