import { RedisStore } from '../../storage-providers/redis-store';
import { runChatStoreContract } from '../../testing';
import { deletePrefix, describeWithRedis, REDIS_URL, redisReachableSync, uniquePrefix } from './redis-helpers';

const reachable = redisReachableSync();

describeWithRedis(reachable)('redis', () => {
  test('Redis is reachable', () => {
    expect(reachable).toBe(true);
  });

  runChatStoreContract(
    'redis',
    async () => {
      const keyPrefix = uniquePrefix();
      const make = () => new RedisStore({ url: REDIS_URL, keyPrefix });
      return { store: make(), reopen: async () => make(), cleanup: () => deletePrefix(keyPrefix) };
    },
    { supports: new RedisStore({ url: REDIS_URL }).supports, omitInapplicable: true },
  );
});
