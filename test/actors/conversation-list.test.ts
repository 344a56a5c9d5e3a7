/**
 * conversationPage (actors/conversation-list.ts): the store's page by last activity with live conversations'
 * newer records laid over it, on a real MemoryStore; the live side is the small view the runtime's actors give.
 */
import { conversationPage, type LiveConversationView } from '../../actors/conversation-list';
import type { ChatMessage, ConversationMeta, ParticipantType } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers/memory-store';
import type { ActivityKey } from '../../storage-providers/conversation-activity';
import { iso, meta, msg, person } from '../../testing/store-contract/fixtures';

let store: MemoryStore;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  // c0 (oldest activity) .. c9 (newest): one text each, at c-index seconds.
  for (let i = 0; i < 10; i++) {
    await store.createConversation(meta(`c${i}`, 0), [person('alice')]);
    await store.appendMessages(`c${i}`, [msg(`c${i}`, 1, { timestamp: iso(i * 1000), content: `stored ${i}` })]);
  }
});

afterEach(() => store.close());

/** A live conversation holding `records` in memory (the stored ones and newer), alice a member of `type`. */
function liveView(
  conversationMeta: ConversationMeta,
  records: readonly ChatMessage[],
  type: ParticipantType = 'human',
): LiveConversationView {
  const bySeq = new Map(records.map((r) => [r.sequence_id, r]));
  return {
    conversationId: conversationMeta.conversation_id,
    meta: conversationMeta,
    lastSequenceId: Math.max(0, ...bySeq.keys()),
    participantTypeOf: (id) => (id === 'alice' ? type : undefined),
    recordInMemory: (seq) => bySeq.get(seq),
  };
}

async function walk(live: readonly LiveConversationView[], limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after: ActivityKey | undefined;
  for (;;) {
    const page = await conversationPage(store, live, 'alice', { participantType: 'human', limit, after });
    pages.push(page.entries.map((e) => e.meta.conversation_id));
    if (page.next === undefined) return pages;
    after = page.next;
  }
}

test('a live conversation ahead of the journal ranks by its delivered record, even when the journal ranks it last', async () => {
  const c0 = await store.getConversation('c0');
  const records = [
    msg('c0', 1, { timestamp: iso(0), content: 'stored 0' }),
    msg('c0', 2, { timestamp: iso(60_000), content: 'just delivered' }),
  ];
  const pages = await walk([liveView(c0!, records)], 3);
  expect(pages).toEqual([['c0', 'c9', 'c8'], ['c7', 'c6', 'c5'], ['c4', 'c3', 'c2'], ['c1']]);
  const first = await conversationPage(store, [liveView(c0!, records)], 'alice', { limit: 1 });
  expect(first.entries[0]).toMatchObject({ lastSequenceId: 2, activityAt: iso(60_000), preview: { content: 'just delivered' } });
});

test('a live conversation the user is not a (human) member of changes nothing', async () => {
  const c0 = await store.getConversation('c0');
  const records = [msg('c0', 1, { timestamp: iso(0) }), msg('c0', 2, { timestamp: iso(60_000) })];
  expect((await walk([liveView(c0!, records, 'ai')], 4)).flat()).toEqual(['c9', 'c8', 'c7', 'c6', 'c5', 'c4', 'c3', 'c2', 'c1', 'c0']);
});

test('bookkeeping delivered after the last text keeps the text as preview; a window not all in memory is read from the journal', async () => {
  const c1 = await store.getConversation('c1');
  const job = { message_type: 'agent_job_started', sender_type: 'system' as const, sender_id: 'system' };
  // Only the new record is in memory (a cache that lost the rest): the preview comes from the journal.
  const onlyNew = [msg('c1', 2, { ...job, timestamp: iso(70_000) })];
  const page = await conversationPage(store, [liveView(c1!, onlyNew)], 'alice', { limit: 1 });
  expect(page.entries[0]).toMatchObject({ meta: { conversation_id: 'c1' }, lastSequenceId: 2, preview: { content: 'stored 1' } });
  // Everything in memory: the same answer without the journal.
  const all = [msg('c1', 1, { timestamp: iso(1000), content: 'stored 1' }), ...onlyNew];
  const again = await conversationPage(store, [liveView(c1!, all)], 'alice', { limit: 1 });
  expect(again.entries[0]).toMatchObject({ lastSequenceId: 2, preview: { content: 'stored 1' } });
});

test('a live conversation that moved above the cursor is not repeated on later pages', async () => {
  const first = await conversationPage(store, [], 'alice', { limit: 3 });
  expect(first.entries.map((e) => e.meta.conversation_id)).toEqual(['c9', 'c8', 'c7']);
  // c8 (seen) and c2 (not seen yet) get delivered records before the next page.
  const c8 = await store.getConversation('c8');
  const c2 = await store.getConversation('c2');
  const live = [
    liveView(c8!, [msg('c8', 1, { timestamp: iso(8000) }), msg('c8', 2, { timestamp: iso(90_000) })]),
    liveView(c2!, [msg('c2', 1, { timestamp: iso(2000) }), msg('c2', 2, { timestamp: iso(91_000) })]),
  ];
  const rest: string[] = [];
  let after = first.next;
  while (after !== undefined) {
    const page = await conversationPage(store, live, 'alice', { limit: 3, after });
    rest.push(...page.entries.map((e) => e.meta.conversation_id));
    after = page.next;
  }
  expect(rest).toEqual(['c6', 'c5', 'c4', 'c3', 'c1', 'c0']);
});
