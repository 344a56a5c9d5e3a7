import Redis from 'ioredis';
import { compareActivity, type ActivityKey } from '../../storage-providers/conversation-activity';
import { REDIS_SCHEMA_VERSION } from '../../storage-providers/redis-schema';
import type { RedisStore } from '../../storage-providers/redis-store';
import { agent, iso, meta, msg, person } from '../../testing/store-contract/fixtures';
import { describeWithRedis, keysUnder, REDIS_URL, redisReachableSync, redisStoresPerTest, withRedis } from './redis-helpers';

const reachable = redisReachableSync();
const CONVERSATIONS = 2000;
const PAGE = 20;

/** Calls of every command Redis has run so far (INFO commandstats; commands run by scripts are counted too). */
async function commandsRun(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) total += Number(match[1]);
  return total;
}

/**
 * Commands Redis ran for `fn`: the least of ten runs, as the Redis is shared (other test files' commands land in
 * the same counters and only ever add). Three runs were not enough with several suites using the Redis at once: a
 * foreign command landed in all three windows and the count came out one over the bound. The INFO that starts each
 * count is counted too (one command).
 */
async function commandsFor(client: Redis, fn: () => Promise<unknown>): Promise<number> {
  let least = Infinity;
  for (let run = 0; run < 10; run++) {
    const before = await commandsRun(client);
    await fn();
    least = Math.min(least, (await commandsRun(client)) - before - 1);
  }
  return least;
}

/** Conversation i: created at i ms; last record at one of 500 times (ties of 4), so activity order is not creation order. */
const activityOf = (i: number) => iso(((i * 37) % 500) * 1000 + 10_000);
const idOf = (i: number) => `c${String(i).padStart(4, '0')}`;
/** alice left every fifth conversation, and is an agent in every seventh (by the same id). */
const aliceLeft = (i: number) => i % 5 === 0;
const aliceIsAgent = (i: number) => i % 7 === 0;

async function fill(store: RedisStore): Promise<void> {
  for (let from = 0; from < CONVERSATIONS; from += 200) {
    await Promise.all(
      Array.from({ length: 200 }, async (_, k) => {
        const i = from + k;
        const id = idOf(i);
        await store.createConversation(meta(id, i), [aliceIsAgent(i) ? agent('alice') : person('alice'), person('bob')]);
        await store.appendMessages(id, [msg(id, 1, { timestamp: iso(5000) }), msg(id, 2, { timestamp: activityOf(i) })]);
        if (aliceLeft(i)) await store.removeParticipant(id, 'alice');
      }),
    );
  }
}

/** What alice's human list holds, ranked as every store ranks it. */
function expectedRanking(filter: (i: number) => boolean): ActivityKey[] {
  return Array.from({ length: CONVERSATIONS }, (_, i) => i)
    .filter(filter)
    .map((i) => ({ activityAt: activityOf(i), conversationId: idOf(i) }))
    .sort(compareActivity);
}

const keyOf = (e: { activityAt: string; meta: { conversation_id: string } }): ActivityKey => ({
  activityAt: e.activityAt,
  conversationId: e.meta.conversation_id,
});

describeWithRedis(reachable)('redis activity index', () => {
  const redis = redisStoresPerTest();
  let client: Redis;
  beforeAll(async () => {
    client = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null });
    await client.connect();
  });
  afterAll(async () => {
    await client.quit();
  });

  test(`a ${PAGE}-item page of a user in ${CONVERSATIONS} conversations costs O(page) commands, not O(conversations)`, async () => {
    const store = redis.make();
    await store.open();
    await fill(store);
    const human = { participantType: 'human' as const, limit: PAGE };
    const ranking = expectedRanking((i) => !aliceLeft(i) && !aliceIsAgent(i));
    let page = await store.listConversationActivity('alice', human);
    expect(page.map(keyOf)).toEqual(ranking.slice(0, PAGE));
    expect(page[0].lastSequenceId).toBe(2);
    expect(page[0].preview?.sequence_id).toBe(2);
    const started = process.hrtime.bigint();
    const firstPage = await commandsFor(client, () => store.listConversationActivity('alice', human));
    const ms = Number(process.hrtime.bigint() - started) / 3e6;
    // The next page, from the last entry: the same cost wherever it starts.
    const after = keyOf(page[PAGE - 1]);
    page = await store.listConversationActivity('alice', { ...human, after });
    expect(page.map(keyOf)).toEqual(ranking.slice(PAGE, 2 * PAGE));
    const nextPage = await commandsFor(client, () => store.listConversationActivity('alice', { ...human, after }));
    // Every filter: with left ones and both types, four indexes are merged.
    const all = await store.listConversationActivity('alice', { limit: PAGE, includeLeft: true });
    expect(all.map(keyOf)).toEqual(expectedRanking(() => true).slice(0, PAGE));
    const widest = await commandsFor(client, () => store.listConversationActivity('alice', { limit: PAGE, includeLeft: true }));
    console.log(
      `activity page of ${PAGE} in ${CONVERSATIONS}: ${firstPage} commands (next page ${nextPage}, every filter ${widest}), ${ms.toFixed(1)} ms`,
    );
    // One script: a range read per index, and per page entry its hash and its last records (2 * PAGE), plus the EVALSHA.
    for (const count of [firstPage, nextPage, widest]) expect(count).toBeLessThanOrEqual(2 * PAGE + 6);
  }, 60_000);

  test('the index kept by two writers at once equals the one a migration builds from the conversations', async () => {
    const [a, b] = [redis.make(), redis.make()];
    await Promise.all([a.open(), b.open()]);
    const ids = ['x', 'y', 'z'];
    for (const id of ids) await a.createConversation(meta(id, 0), [person('alice')]);
    // Joins, type changes, leaves, re-joins and appends from both instances, interleaved on the same conversations.
    await Promise.all(
      [a, b].map(async (store, w) => {
        for (let round = 0; round < 30; round++) {
          const id = ids[(round + w) % 3];
          const who = ['bob', 'carol', 'alice'][(round * (w + 1)) % 3];
          const step = (round + w) % 4;
          if (step === 0) await store.putParticipant(id, round % 2 === 0 ? person(who) : agent(who));
          else if (step === 1) await store.removeParticipant(id, who);
          const last = await store.lastSequenceId(id);
          await store
            .appendMessages(id, [msg(id, last + 1, { message_id: `w${w}-${round}`, timestamp: iso(round * 1000 + w) })])
            .catch(() => undefined);
        }
      }),
    );
    await a.deleteConversation('z');
    const indexed = await activityKeys(redis.prefix);
    expect(Object.keys(indexed).length).toBeGreaterThan(0);
    const pages = await listsOf(a);
    // Back to the version 1 layout (no index), then two servers open it at once: each migrates, the index is the same.
    await Promise.all([a.close(), b.close()]);
    await toVersion1(redis.prefix);
    const [c, d] = [redis.make(), redis.make()];
    await Promise.all([c.open(), d.open()]);
    expect([c.schemaVersionFound, d.schemaVersionFound]).toEqual([1, 1]);
    expect(await withRedis((r) => r.get(`${redis.prefix}schema_version`))).toBe(String(REDIS_SCHEMA_VERSION));
    expect(await activityKeys(redis.prefix)).toEqual(indexed);
    expect(await keysUnder(`${redis.prefix}user:`)).toEqual([]);
    expect(await listsOf(d)).toEqual(pages);
  });

  test('an old-layout prefix with conversations is migrated at open: every list as before; readers refuse it meanwhile', async () => {
    const store = redis.make();
    await store.open();
    await fill(store);
    const pages = await listsOf(store, 250);
    await store.close();
    await toVersion1(redis.prefix);
    const reader = redis.make({ readOnly: true });
    await expect(reader.open()).rejects.toMatchObject({ code: 'STORAGE_ERR_SCHEMA_VERSION', details: { found_version: 1 } });
    const migrated = redis.make();
    await migrated.open();
    expect(migrated.schemaVersionFound).toBe(1);
    expect(await keysUnder(`${redis.prefix}user:`)).toEqual([]);
    expect(await listsOf(migrated, 250)).toEqual(pages);
    await redis.make({ readOnly: true }).open();
  }, 60_000);
});

/** The index keys and their entries (as hex: they are binary). */
async function activityKeys(prefix: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const key of await keysUnder(`${prefix}activity:`)) {
    out[key] = (await withRedis((c) => c.zrangeBuffer(key, '0', '-1'))).map((b) => b.toString('hex'));
  }
  return out;
}

/**
 * Turns the prefix back into layout version 1: no activity indexes, but per participant a `user:<id>` set of the
 * conversations it is or was a member of (what version 1 kept and listed from), and the version key at 1.
 */
async function toVersion1(prefix: string): Promise<void> {
  const keys = await keysUnder(`${prefix}activity:`);
  await withRedis(async (c) => {
    if (keys.length > 0) await c.unlink(...keys);
    for (const entry of await c.zrange(`${prefix}created`, '0', '-1')) {
      const id = entry.slice(entry.indexOf('\u0000') + 1);
      for (const pid of await c.hkeys(`${prefix}members:${id}`)) await c.sadd(`${prefix}user:${pid}`, id);
    }
    await c.set(`${prefix}schema_version`, '1');
  });
}

/** alice's, bob's and carol's lists under every filter, walked in pages of `size`, and unpaged. */
async function listsOf(store: RedisStore, size = 7): Promise<unknown> {
  const out: unknown[] = [];
  for (const user of ['alice', 'bob', 'carol'])
    for (const includeLeft of [false, true])
      for (const participantType of [undefined, 'human', 'ai'] as const) {
        const walked: unknown[] = [];
        let after: ActivityKey | undefined;
        for (;;) {
          const page = await store.listConversationActivity(user, { limit: size, includeLeft, participantType, after });
          walked.push(...page);
          if (page.length < size) break;
          after = keyOf(page[size - 1]);
        }
        out.push(walked, await store.listConversationsForUser(user, { includeLeft, participantType }));
      }
  return out;
}
