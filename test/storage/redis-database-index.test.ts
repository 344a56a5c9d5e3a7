import { meta, person } from '../../testing/store-contract/fixtures';
import { openError } from './store-open-fixtures';
import { describeWithRedis, keysUnder, REDIS_URL, redisReachableSync, redisStoresPerTest, withRedis } from './redis-helpers';

const reachable = redisReachableSync();

/** REDIS_URL naming the first database index past this Redis's `databases` setting (read, not assumed 16). */
async function outOfRangeUrl(): Promise<{ url: string; index: number }> {
  const [, count] = (await withRedis((c) => c.config('GET', 'databases'))) as [string, string];
  const url = new URL(REDIS_URL);
  url.pathname = `/${count}`;
  return { url: url.toString(), index: Number(count) };
}

describeWithRedis(reachable)('a Redis URL naming a database the server does not have', () => {
  const redis = redisStoresPerTest();

  // ioredis only emits SELECT's refusal as an 'error' event and stays on database 0: the open used to succeed there,
  // marking (or, read-only, reporting "schema version 0" of) database 0's prefix, while the URL named another.
  test('is refused at open with STORAGE_ERR_INVALID_ARGUMENT naming the index, writing nothing to database 0', async () => {
    const { url, index } = await outOfRangeUrl();
    for (const options of [{}, { readOnly: true }]) {
      const refused = await openError(redis.make({ url, ...options }));
      expect(refused.code).toBe('STORAGE_ERR_INVALID_ARGUMENT');
      expect(refused.message).toContain(`Redis refused the database ${index} the URL names`);
      expect(refused.message).toContain('DB index is out of range');
      expect(await keysUnder(redis.prefix)).toEqual([]);
    }
  });

  // The database check must not catch a restricted user: one whose ACL forbids CLIENT (as managed Redis services do)
  // has its connection name (CLIENT SETNAME) refused at connect, and the store still opens and works.
  test('another refused setup command (CLIENT SETNAME under an ACL without CLIENT) still opens and works', async () => {
    const user = `nlweb-chat-test-${process.pid}-${Date.now()}`;
    await withRedis((c) => c.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-client'));
    try {
      const url = new URL(REDIS_URL);
      url.username = user;
      url.password = 'pw';
      const store = redis.make({ url: url.toString() });
      await store.open();
      await store.createConversation(meta('acl-c1', 1), [person('alice')]);
      expect((await store.getConversation('acl-c1'))?.conversation_id).toBe('acl-c1');
    } finally {
      await withRedis((c) => c.call('ACL', 'DELUSER', user));
    }
  });
});
