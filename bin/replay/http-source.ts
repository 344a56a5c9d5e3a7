import { ChatError } from '../../actors/errors';
import type { ChatMessage, ConversationMeta } from '../../actors/message-types';
import type { JournalSource } from './journal-source';
import { recordProblem } from './jsonl';
import { ServerRequestError, createServerClient, type ServerClient, type ServerTarget } from './server-client';

/** Records per GET .../messages: the gateway's largest page (MAX_PAGE in gateway/message-routes.ts). */
export const SERVER_PAGE_SIZE = 500;

/** One history page as the gateway answers it (docs/http-api.md). */
interface MessagePage {
  readonly after: number;
  readonly messages: ChatMessage[];
  readonly nextAfter: number;
  readonly hasMore: boolean;
  readonly lastSequenceId: number;
  /** Ids after+1..droppedUpTo the server no longer holds (`dropped`); `after` when none. */
  readonly droppedUpTo: number;
}

const conversationPath = (id: string): string => `/chat/conversations/${encodeURIComponent(id)}`;

/**
 * Opens `--server <url>`: reads the conversation's summary (metadata; 403/404 surface here, before any
 * output) and its first history page, which says whether the server still holds it from #1. records()
 * then pages on `next_after` to the end, one page in memory at a time. The caller must be a member.
 */
export async function openServerSource(target: ServerTarget, conversationId: string): Promise<JournalSource> {
  const client = createServerClient(target);
  const path = conversationPath(conversationId);
  const meta = metaOf(await client.getJson(path), path);
  const first = await readPage(client, path, 0);
  // From after=0, dropped ids are the oldest ones: trimmed history. A later page's are a hole, left to --check.
  const historyStartsAt = first.droppedUpTo > 0 ? first.droppedUpTo + 1 : undefined;
  let consumed = false;
  /** next_after of the last page: past the last record when that page passed over a hole at the journal's end. */
  let coveredUpTo: number | undefined;
  return {
    conversationId,
    meta,
    ...(historyStartsAt !== undefined ? { historyStartsAt } : {}),
    endsAt: () => coveredUpTo,
    async *records() {
      if (consumed) throw new ChatError('CHAT_ERR_INVALID_MESSAGE', 'a server source can be read once');
      consumed = true;
      let page = first;
      for (;;) {
        yield* page.messages;
        if (!page.hasMore) {
          coveredUpTo = page.nextAfter;
          return;
        }
        if (page.nextAfter <= page.after) {
          // The runtime answers an empty page when it cannot read the journal: asking again would loop.
          throw new ChatError(
            'STORAGE_ERR_UNAVAILABLE',
            `the server returned no records after #${page.after} though the conversation goes to #${page.lastSequenceId} (its storage may be unavailable); retry later`,
          );
        }
        page = await readPage(client, path, page.nextAfter);
      }
    },
    close: async () => undefined,
  };
}

/** The caller's conversations on the server (GET /chat/conversations), oldest first, with their last sequence id. */
export async function listServerConversations(
  target: ServerTarget,
): Promise<{ readonly meta: ConversationMeta; readonly lastSequenceId: number }[]> {
  const client = createServerClient(target);
  // The list entries carry last_sequence_id (docs/http-api.md): no request per conversation, which cost one read
  // each and, past the server's read budget (chat.limits.reads_burst), ended the list with HTTP 429.
  const entries = await allServerConversations(client);
  entries.sort((a, b) => (a.meta.created_at < b.meta.created_at ? -1 : a.meta.created_at > b.meta.created_at ? 1 : 0));
  return entries.map(({ meta, last }) => ({
    meta,
    lastSequenceId: intField({ last_sequence_id: last }, 'last_sequence_id', '/chat/conversations'),
  }));
}

/** The most the server lists per page (docs/http-api.md, The conversation list). */
const LIST_PAGE_SIZE = 200;
/** Walks from the top after the first: each catches conversations that moved above the cursor meanwhile. */
const MAX_LIST_WALKS = 5;

/**
 * Every conversation the list holds, each once. The list pages by last activity, and a conversation that gets a
 * record while we page moves above the cursor and is skipped by the rest of that walk; such a conversation (and
 * one created meanwhile) ranks above every conversation that did not change, so a walk from the top that reaches
 * an entry unchanged since it was seen (same last_sequence_id) has caught up. A server without paging (no
 * next_cursor) lists everything in one answer.
 */
async function allServerConversations(client: ServerClient): Promise<{ meta: ConversationMeta; last: unknown }[]> {
  const seen = new Map<string, { meta: ConversationMeta; last: unknown }>();
  let walk = await walkList(client, seen, false);
  // A walk of one page skipped nothing; a later walk that found nothing new leaves nothing to catch.
  for (let n = 1; n < MAX_LIST_WALKS && walk.pages > 1 && (n === 1 || walk.changed); n++) walk = await walkList(client, seen, true);
  return [...seen.values()];
}

/** One walk from the top: to the end, or (catchingUp) to the first entry unchanged since it was seen. */
async function walkList(
  client: ServerClient,
  seen: Map<string, { meta: ConversationMeta; last: unknown }>,
  catchingUp: boolean,
): Promise<{ pages: number; changed: boolean }> {
  let cursor: string | undefined;
  let changed = false;
  for (let pages = 1; ; pages++) {
    const body = await client.getJson('/chat/conversations', { limit: LIST_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) });
    if (!Array.isArray(body.conversations)) throw invalid('/chat/conversations', 'conversations must be an array');
    let caughtUp = false;
    for (const entry of body.conversations as unknown[]) {
      const meta = metaOf(entry, '/chat/conversations');
      const last = (entry as Record<string, unknown>).last_sequence_id;
      const before = seen.get(meta.conversation_id);
      if (before !== undefined && before.last === last) caughtUp = true;
      else changed = true;
      seen.set(meta.conversation_id, { meta, last });
    }
    if ((catchingUp && caughtUp) || typeof body.next_cursor !== 'string') return { pages, changed };
    cursor = body.next_cursor;
  }
}

async function readPage(client: ServerClient, path: string, after: number): Promise<MessagePage> {
  const where = `${path}/messages`;
  const body = await client.getJson(where, { after, limit: SERVER_PAGE_SIZE });
  if (!Array.isArray(body.messages)) throw invalid(where, 'messages must be an array');
  for (const m of body.messages as unknown[]) {
    const problem =
      m !== null && typeof m === 'object' && !Array.isArray(m) ? recordProblem(m as Record<string, unknown>) : 'not an object';
    if (problem) throw invalid(where, `a message is not a journal record (${problem})`);
  }
  if (typeof body.has_more !== 'boolean') throw invalid(where, 'has_more must be a boolean');
  const dropped = body.dropped as { to?: unknown } | undefined;
  const droppedUpTo = dropped === undefined ? after : intField(dropped as Record<string, unknown>, 'to', `${where} dropped`);
  return {
    after,
    messages: body.messages as ChatMessage[],
    nextAfter: intField(body, 'next_after', where),
    hasMore: body.has_more,
    lastSequenceId: intField(body, 'last_sequence_id', where),
    droppedUpTo,
  };
}

/** The stored-metadata part of a conversation summary or list entry. */
function metaOf(value: unknown, where: string): ConversationMeta {
  const o = (value ?? {}) as Record<string, unknown>;
  for (const key of ['conversation_id', 'title', 'created_at', 'created_by', 'status'] as const)
    if (typeof o[key] !== 'string') throw invalid(where, `${key} must be a string`);
  const settings = o.settings !== null && typeof o.settings === 'object' ? (o.settings as ConversationMeta['settings']) : {};
  return {
    conversation_id: o.conversation_id as string,
    title: o.title as string,
    created_at: o.created_at as string,
    created_by: o.created_by as string,
    settings,
    status: o.status as ConversationMeta['status'],
  };
}

function intField(o: Record<string, unknown>, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(where, `${key} must be a non-negative integer`);
  return v;
}

/** An answer that is not what docs/http-api.md describes (another server, another version, a proxy's page). */
function invalid(where: string, problem: string): ServerRequestError {
  return new ServerRequestError('HTTP_INVALID_BODY', `GET ${where}: unexpected answer: ${problem}`);
}
