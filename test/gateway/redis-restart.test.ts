/**
 * End to end on the Redis backend: a real server (createChatServer, 127.0.0.1 port 0) whose store createStore built
 * from `chat.storage.backend: redis`, a message posted over a real WebSocket, the server and its runtime closed, and
 * a new server on the same key prefix replaying the message to a member who resumes from 0.
 */
import { loadConfig } from '../../config';
import type { ConfigInput } from '../../config/config-types';
import { createStore, RedisStore } from '../../storage-providers';
import { deletePrefix, describeWithRedis, keysUnder, REDIS_URL, redisReachableSync, uniquePrefix } from '../storage/redis-helpers';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';

describeWithRedis(redisReachableSync())('a chat server on the Redis backend', () => {
  let prefix: string;
  beforeEach(() => {
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    await closeAll();
    await deletePrefix(prefix);
  });

  async function serverOnRedis(): Promise<Harness> {
    const overrides: ConfigInput = { chat: { storage: { backend: 'redis', redis: { url: REDIS_URL, key_prefix: prefix } } } };
    const store = createStore(loadConfig({ overrides }).chat.storage);
    expect(store).toBeInstanceOf(RedisStore);
    return startHarness(overrides, { store });
  }

  test('a message posted over a WebSocket is replayed by a new server on the same key prefix', async () => {
    const first = await serverOnRedis();
    const conv = await first.createConversation('alice', ['bob']);
    const alice = await first.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'm1', content: 'kept in Redis' });
    const ack = await alice.waitFor('message_ack', (f) => f.message_id === 'm1' && f.persisted === true);
    await first.close();
    expect(await keysUnder(`${prefix}msgs:`)).toEqual([`${prefix}msgs:${conv}`]);

    const second = await serverOnRedis();
    const bob = await second.connect(conv, 'bob', { last_sequence_id: '0' });
    await bob.waitFor('sync_complete', (f) => f.recovered === true);
    const replayed = await bob.waitFor('message', (f) => f.message.message_id === 'm1');
    expect(replayed.message).toMatchObject({ sequence_id: ack.sequence_id, sender_id: 'alice', content: 'kept in Redis' });
    const history = await second.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'bob');
    expect(history.status).toBe(200);
    expect(history.body.messages.filter((m: { content: string }) => m.content === 'kept in Redis')).toHaveLength(1);
    expect(history.body.messages.filter((m: { message_type: string }) => m.message_type === 'lost')).toEqual([]);
    expect(invalidFrames()).toEqual([]);
  });
});
