import { isChatError } from '../../actors/errors';
import { RedisConnection } from '../../storage-providers/redis-connection';
import { REDIS_SCHEMA_VERSION } from '../../storage-providers/redis-schema';
import type { LuaScript } from '../../storage-providers/redis-scripts';
import { expectCode } from '../../testing';
import { meta, msg, msgs, person } from '../../testing/store-contract/fixtures';
import { openError } from './store-open-fixtures';
import { describeWithRedis, keysUnder, REDIS_URL, redisReachableSync, redisStoresPerTest, withRedis } from './redis-helpers';

const reachable = redisReachableSync();
const HOUR = 3_600_000;

describeWithRedis(reachable)('redis specifics', () => {
  const redis = redisStoresPerTest();

  test('two instances on one prefix writing the same sequence id at once: exactly one stored, one DUPLICATE_SEQUENCE', async () => {
    const a = redis.make();
    const b = redis.make();
    await Promise.all([a.open(), b.open()]);
    await a.createConversation(meta('c1'));
    for (let seq = 1; seq <= 10; seq++) {
      const results = await Promise.allSettled([
        a.appendMessages('c1', [msg('c1', seq, { message_id: `a${seq}`, sender_id: 'a' })]),
        b.appendMessages('c1', [msg('c1', seq, { message_id: `b${seq}`, sender_id: 'b' })]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(isChatError(rejected[0].reason, 'STORAGE_ERR_DUPLICATE_SEQUENCE')).toBe(true);
    }
    expect((await b.readMessages('c1', 0, 100)).map((m) => m.sequence_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('concurrent edits of one record from two instances: each sets its metadata key, neither loses the other', async () => {
    const a = redis.make();
    const b = redis.make();
    await Promise.all([a.open(), b.open()]);
    await a.createConversation(meta('c1'));
    await a.appendMessages('c1', msgs('c1', 1, 10, { sender_id: 'alice' }));
    for (let seq = 1; seq <= 10; seq++) {
      const [fromA, fromB] = await Promise.all([
        a.replaceMessageContent('c1', seq, { senderId: 'alice', content: 'by a', metadata: { edited_by_a: true } }),
        b.replaceMessageContent('c1', seq, { senderId: 'alice', content: 'by b', metadata: { edited_by_b: true } }),
      ]);
      expect([fromA?.sequence_id, fromB?.sequence_id]).toEqual([seq, seq]);
      const [stored] = await a.readMessages('c1', seq - 1, 1);
      expect(stored.metadata).toMatchObject({ edited_by_a: true, edited_by_b: true });
      expect(['by a', 'by b']).toContain(stored.content);
    }
  });

  test('an edit landing between the read and the write of a redaction does not survive the redaction', async () => {
    const a = redis.make();
    const b = redis.make();
    await Promise.all([a.open(), b.open()]);
    await a.createConversation(meta('c1'));
    await a.appendMessages('c1', msgs('c1', 1, 3, { sender_id: 'alice' }));
    // b's edit of record 2 runs right before a's first compare-and-set write of the redaction, after its read.
    const original = RedisConnection.prototype.script;
    let edited = false;
    const spy = jest.spyOn(RedisConnection.prototype, 'script').mockImplementation(async function (
      this: RedisConnection,
      lua: LuaScript,
      keys,
      args,
    ) {
      if (lua.name === 'replace_records' && !edited) {
        edited = true;
        await b.replaceMessageContent('c1', 2, { senderId: 'alice', content: 'edited text', metadata: { edited: true } });
      }
      return original.call(this, lua, keys, args);
    });
    try {
      expect(await a.redactMessages('c1', { senderId: 'alice' })).toEqual({ redacted: [1, 2, 3], alreadyRedacted: [] });
    } finally {
      spy.mockRestore();
    }
    expect(edited).toBe(true);
    const stored = await a.readMessages('c1', 0, 10);
    expect(stored.map((m) => m.content)).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    expect(stored.every((m) => m.metadata.redacted === true)).toBe(true);
  });

  test.each(['0', '', ' '])(
    'a layout version key holding %j is refused (found_version -1) instead of looping',
    async (value) => {
      await withRedis((c) => c.set(`${redis.prefix}schema_version`, value));
      const refused = await openError(redis.make());
      expect(refused.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
      expect(refused.details).toEqual({ found_version: -1, expected_version: REDIS_SCHEMA_VERSION });
      expect(await withRedis((c) => c.get(`${redis.prefix}schema_version`))).toBe(value);
    },
    5000,
  );

  test('key prefixes isolate deployments: same ids, separate journals, claims and members; each writes under its own', async () => {
    // Two sibling prefixes (neither starts the other, as docs/storage.md asks), both under this test's prefix.
    const [prefixA, prefixB] = [`${redis.prefix}a:`, `${redis.prefix}b:`];
    const a = redis.make({ keyPrefix: prefixA });
    const b = redis.make({ keyPrefix: prefixB });
    await Promise.all([a.open(), b.open()]);
    for (const store of [a, b]) await store.createConversation(meta('c1'), [person('alice')]);
    await a.appendMessages('c1', msgs('c1', 1, 3));
    await b.appendMessages('c1', msgs('c1', 1, 1, { content: 'only in b' }));
    expect(await a.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR })).toEqual({ claimed: true, claim: { ownerId: 'A', epoch: 1 } });
    // The other prefix's c1 is another conversation: unclaimed, its own epoch.
    expect(await b.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR })).toEqual({ claimed: true, claim: { ownerId: 'B', epoch: 1 } });
    await b.putParticipant('c1', person('bob'));
    expect(await a.lastSequenceId('c1')).toBe(3);
    expect((await b.readMessages('c1', 0, 10)).map((m) => m.content)).toEqual(['only in b']);
    expect(await a.getParticipants('c1')).toEqual([person('alice')]);
    expect(await a.listConversationsForUser('bob')).toEqual([]);
    const keysOfA = await keysUnder(prefixA);
    await b.deleteConversation('c1');
    expect(await keysUnder(prefixB)).toEqual([`${prefixB}schema_version`]);
    expect(await keysUnder(prefixA)).toEqual(keysOfA);
    expect(await a.getConversation('c1')).toEqual(meta('c1'));
    expect(await keysUnder(redis.prefix)).toEqual([...keysOfA, `${prefixB}schema_version`].sort());
  });

  test('a deleted conversation leaves no key behind (members, indexes, claim, read positions included)', async () => {
    const store = redis.make();
    await store.open();
    await store.createConversation(meta('c1'), [person('alice'), person('bob')]);
    await store.appendMessages('c1', msgs('c1', 1, 5));
    await store.removeParticipant('c1', 'bob');
    await store.saveReadPositions('c1', new Map([['alice', 3]]));
    await store.setSequenceReservation('c1', 40);
    await store.claimConversation('c1', { ownerId: 'A', ttlMs: HOUR });
    await store.redactMessages('c1', { senderId: 'alice' });
    await store.deleteConversation('c1');
    expect(await keysUnder(redis.prefix)).toEqual([`${redis.prefix}schema_version`]);
    expect((await store.renewClaims('A', HOUR)).size).toBe(0);
  });

  test('the layout version: a fresh prefix is marked at open; a newer one, or a value no build writes, is refused', async () => {
    const first = redis.make();
    await first.open();
    expect(first.schemaVersionFound).toBe(0);
    expect(await withRedis((c) => c.get(`${redis.prefix}schema_version`))).toBe(String(REDIS_SCHEMA_VERSION));
    const again = redis.make();
    await again.open();
    expect(again.schemaVersionFound).toBe(REDIS_SCHEMA_VERSION);

    await withRedis((c) => c.set(`${redis.prefix}schema_version`, String(REDIS_SCHEMA_VERSION + 1)));
    const newer = await openError(redis.make());
    expect(newer.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(newer.details).toEqual({ found_version: REDIS_SCHEMA_VERSION + 1, expected_version: REDIS_SCHEMA_VERSION });
    expect(newer.message).toContain(`Redis key prefix "${redis.prefix}"`);

    await withRedis((c) => c.set(`${redis.prefix}schema_version`, 'banana'));
    const foreign = await openError(redis.make());
    expect(foreign.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(foreign.message).toContain('not a schema version');
    expect(await withRedis((c) => c.get(`${redis.prefix}schema_version`))).toBe('banana');
  });

  test('a keyPrefix in the URL (ioredis would apply it to some keys only) is refused at open, writing nothing', async () => {
    const store = redis.make({ url: `${REDIS_URL}?keyPrefix=${encodeURIComponent(redis.prefix)}x:` });
    const refused = await openError(store);
    expect(refused.code).toBe('STORAGE_ERR_INVALID_ARGUMENT');
    expect(refused.message).toContain('chat.storage.redis.key_prefix');
    expect(await keysUnder(redis.prefix)).toEqual([]);
  });

  test('a password given as a URL parameter (ioredis sends it) is not shown in the messages that name the URL', async () => {
    // This Redis has no password: ioredis warns and goes on, so the open gets as far as the layout version check.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const refused = await openError(redis.make({ url: `${REDIS_URL}/?password=s3cret-pw&sentinelPassword=s3cret-too`, readOnly: true }));
      expect(refused.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
      expect(refused.message).toContain(`Redis key prefix "${redis.prefix}" at redis://`);
      expect(refused.message).not.toContain('s3cret');
    } finally {
      warn.mockRestore();
    }
  });

  test('require_current and read-only opens refuse a prefix without a version and write nothing', async () => {
    for (const options of [{ migrations: 'require_current' as const }, { readOnly: true }]) {
      const refused = await openError(redis.make(options));
      expect(refused.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
      expect(refused.details).toEqual({ found_version: 0, expected_version: REDIS_SCHEMA_VERSION });
      expect(await keysUnder(redis.prefix)).toEqual([]);
    }
  });

  test('a read-only store reads what a server wrote and refuses every write before sending it', async () => {
    const server = redis.make();
    await server.open();
    await server.createConversation(meta('c1'), [person('alice')]);
    await server.appendMessages('c1', msgs('c1', 1, 3));
    const reader = redis.make({ readOnly: true });
    await reader.open();
    expect(await reader.readMessages('c1', 0, 10)).toEqual(await server.readMessages('c1', 0, 10));
    const before = await keysUnder(redis.prefix);
    await expectCode(reader.appendMessages('c1', [msg('c1', 4)]), 'STORAGE_ERR_UNAVAILABLE');
    await expectCode(reader.createConversation(meta('c2')), 'STORAGE_ERR_UNAVAILABLE');
    await expectCode(reader.claimConversation('c1', { ownerId: 'R', ttlMs: HOUR }), 'STORAGE_ERR_UNAVAILABLE');
    await expectCode(reader.deleteConversation('c1'), 'STORAGE_ERR_UNAVAILABLE');
    expect(await keysUnder(redis.prefix)).toEqual(before);
    expect(await server.lastSequenceId('c1')).toBe(3);
  });
});
