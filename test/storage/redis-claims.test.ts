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

  test("a runtime's set of claimed conversations expires when it stops claiming and renewing (a dead server's)", async () => {
    const ownerSetTtl = (owner: string) => withRedis((c) => c.pttl(`${redis.prefix}owner:${owner}`));
    for (const id of ['c1', 'c2', 'c3']) await a.createConversation(meta(id));
    // The set outlives every claim in it: 10 times the longest ttl it was given, at least 10 minutes, never shortened.
    await a.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
    expect(await ownerSetTtl('A')).toBeGreaterThan(10 * HOUR - 60_000);
    await a.claimConversation('c2', { ownerId: 'A', ttlMs: 1000 });
    expect(await ownerSetTtl('A')).toBeGreaterThan(10 * HOUR - 60_000);
    await b.claimConversation('c3', { ownerId: 'B', ttlMs: 0 });
    const floor = await ownerSetTtl('B');
    expect(floor).toBeGreaterThan(10 * MINUTE - 60_000);
    expect(floor).toBeLessThanOrEqual(10 * MINUTE);
    // A renewal extends it as a claim does: the keeper of a live runtime keeps its set.
    expect((await b.renewClaims('B', 2 * HOUR)).size).toBe(1);
    expect(await ownerSetTtl('B')).toBeGreaterThan(20 * HOUR - 60_000);
    // Still renewable while it lasts (an expired claim nobody took included).
    expect([...(await a.renewClaims('A', 1000)).keys()].sort()).toEqual(['c1', 'c2']);
  });
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
