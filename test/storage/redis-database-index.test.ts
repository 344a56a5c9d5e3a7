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
});
