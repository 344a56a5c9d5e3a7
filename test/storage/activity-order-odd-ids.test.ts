/**
 * The activity order's tie-break on conversation ids with characters above U+FFFF (docs/storage.md, Redis activity
 * indexes; Schema): SQLite, PostgreSQL and Redis compare ids as UTF-8 bytes (code point order), and so must
 * compareActivity, which the memory store sorts by and the runtime's conversationPage uses to cut the store's rows.
 * JavaScript's `<` compares UTF-16 code units, where U+10000 (D800 DC00) ranks before U+E000: with the two orders
 * disagreeing, a page of one came back empty with no cursor, and the list looked finished.
 */
import { conversationPage } from '../../actors/conversation-list';
import type { ChatStore } from '../../storage-providers/chat-store';
import { compareActivity, type ActivityKey } from '../../storage-providers/conversation-activity';
import { MemoryStore } from '../../storage-providers/memory-store';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { meta, person } from '../../testing/store-contract/fixtures';
import { describeWithRedis, redisReachableSync, redisStoresPerTest } from './redis-helpers';

/** Created at one instant, so only the ids order them: in code point (UTF-8 byte) order. */
const IDS = ['a', '\uE000', '\u{10000}', '\u{10000}b'];

async function filled(store: ChatStore): Promise<ChatStore> {
  await store.open();
  for (const id of [...IDS].reverse()) await store.createConversation(meta(id, 0), [person('alice')]);
  return store;
}

/** The runtime's pages of one (no live conversations), walked by their cursors. */
async function walk(store: ChatStore): Promise<string[][]> {
  const pages: string[][] = [];
  let after: ActivityKey | undefined;
  for (let i = 0; i < IDS.length + 2; i++) {
    const page = await conversationPage(store, [], 'alice', { limit: 1, after });
    pages.push(page.entries.map((e) => e.meta.conversation_id));
    if (page.next === undefined) break;
    after = page.next;
  }
  return pages;
}

test('compareActivity breaks a tie by code point (UTF-8 byte) order', () => {
  const key = (conversationId: string): ActivityKey => ({ activityAt: '2026-01-01T00:00:00.000Z', conversationId });
  expect(compareActivity(key('\uE000'), key('\u{10000}'))).toBeLessThan(0);
  expect(compareActivity(key('\u{10000}'), key('\uFFFF'))).toBeGreaterThan(0);
  expect(compareActivity(key('\u{10000}'), key('\u{10000}b'))).toBeLessThan(0);
  expect(compareActivity(key('b'), key('a'))).toBeGreaterThan(0);
});

test.each([
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: ':memory:' })],
])('%s: pages of one list every conversation once, ids above U+FFFF included', async (_name, make) => {
  const store = await filled(make());
  try {
    expect(await walk(store)).toEqual(IDS.map((id) => [id]));
  } finally {
    await store.close();
  }
});

describeWithRedis(redisReachableSync())('redis', () => {
  const stores = redisStoresPerTest();
  test('pages of one list every conversation once, ids above U+FFFF included', async () => {
    const store = await filled(stores.make());
    expect(await walk(store)).toEqual(IDS.map((id) => [id]));
  });
});
