/**
 * Index entries that no longer match their conversation (docs/storage.md, Redis activity indexes): a server of the
 * build before the indexes appends without moving the entry, so the entry stays at the old activity while the hash
 * moves on; the next append by this build moves only the entry the hash names, and the old one stays, after a delete
 * too. A list must not show such an entry: the conversation would be listed twice, and a gone conversation's entry
 * made a page come back short, so the runtime took the list for finished.
 */
import { conversationPage } from '../../actors/conversation-list';
import type { ActivityKey } from '../../storage-providers/conversation-activity';
import type { RedisStore } from '../../storage-providers/redis-store';
import { iso, meta, msg, person } from '../../testing/store-contract/fixtures';
import { describeWithRedis, redisReachableSync, redisStoresPerTest, withRedis } from './redis-helpers';

describeWithRedis(redisReachableSync())('redis activity index entries left behind', () => {
  const redis = redisStoresPerTest();

  /** What an older build's append does: the record and the hash, no index entry moved. */
  const appendAsOlderBuild = (id: string, seq: number, at: number) =>
    withRedis(async (c) => {
      await c.hset(`${redis.prefix}msgs:${id}`, String(seq), JSON.stringify(msg(id, seq, { timestamp: iso(at) })));
      await c.hset(`${redis.prefix}conv:${id}`, 'last', String(seq), 'last_at', iso(at));
    });

  async function walk(store: RedisStore): Promise<string[][]> {
    const pages: string[][] = [];
    let after: ActivityKey | undefined;
    for (let i = 0; i < 6; i++) {
      const page = await conversationPage(store, [], 'alice', { limit: 1, after });
      pages.push(page.entries.map((e) => e.meta.conversation_id));
      if (page.next === undefined) break;
      after = page.next;
    }
    return pages;
  }

  test('a conversation an older build appended to is listed once, and a deleted one not at all', async () => {
    const store = redis.make();
    await store.open();
    for (const [id, at] of [
      ['gone', 1],
      ['x', 2],
      ['y', 3],
      ['z', 4],
    ] as const) {
      await store.createConversation(meta(id, at), [person('alice')]);
    }
    await store.appendMessages('x', [msg('x', 1, { timestamp: iso(1000) })]);
    await appendAsOlderBuild('x', 2, 2000);
    await store.appendMessages('x', [msg('x', 3, { timestamp: iso(3000), message_id: 'x3' })]);
    await store.appendMessages('gone', [msg('gone', 1, { timestamp: iso(500) })]);
    await appendAsOlderBuild('gone', 2, 4000);
    await store.deleteConversation('gone');

    const page = await store.listConversationActivity('alice', { limit: 10 });
    expect(page.map((e) => e.meta.conversation_id)).toEqual(['x', 'z', 'y']);
    expect((await store.listConversationsForUser('alice')).map((m) => m.conversation_id).sort()).toEqual(['x', 'y', 'z']);
    expect(await walk(store)).toEqual([['x'], ['z'], ['y']]);
  });
});
