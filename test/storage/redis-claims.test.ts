import { claimTestsAcrossInstances } from './claims-race';
import { describeWithRedis, redisReachableSync, redisStoresPerTest, withRedis } from './redis-helpers';
import { meta } from '../../testing/store-contract/fixtures';
import type { RedisStore } from '../../storage-providers/redis-store';

const reachable = redisReachableSync();

/** Two RedisStore instances (two connections: two servers) on one key prefix. */
describeWithRedis(reachable)('redis conversation claims across instances', () => {
  const redis = redisStoresPerTest();
  let a: RedisStore;
  let b: RedisStore;

  beforeEach(async () => {
    a = redis.make();
    b = redis.make();
    await Promise.all([a.open(), b.open()]);
  });

  claimTestsAcrossInstances(() => [a, b]);

  test('claims expire on Redis clock (TIME), not the process clock', async () => {
    await a.createConversation(meta('c1'));
    await a.claimConversation('c1', { ownerId: 'A', ttlMs: 60_000 });
    const [redisNow, stored] = await withRedis(async (c) => {
      const [seconds, micros] = await c.time();
      return [
        Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
        Number(await c.hget(`${redis.prefix}conv:c1`, 'owner_expires_at')),
      ];
    });
    // Redis time + ttl, in epoch ms (the test shares the host clock, so this shows the unit and origin).
    expect(stored - redisNow).toBeGreaterThan(59_000);
    expect(stored - redisNow).toBeLessThanOrEqual(60_000);
  });
});
