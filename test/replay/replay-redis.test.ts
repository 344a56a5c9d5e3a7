import { RedisStore } from '../../storage-providers';
import {
  deletePrefix,
  describeWithRedis,
  keysUnder,
  REDIS_URL,
  redisReachableSync,
  uniquePrefix,
  withRedis,
} from '../storage/redis-helpers';
import { faithfulJournal } from './divergence-journals';
import { parseJsonLines, runMain } from './replay-fixtures';

/** Every key under `prefix` with its dumped value: what the CLI must leave exactly as it found it. */
function snapshot(prefix: string): Promise<Array<[string, string]>> {
  return withRedis(async (c) => {
    const keys = await keysUnder(prefix);
    const dumps = await Promise.all(keys.map((k) => c.dumpBuffer(k)));
    return keys.map((k, i) => [k, dumps[i]?.toString('base64') ?? ''] as [string, string]);
  });
}

describeWithRedis(redisReachableSync())('replay CLI on Redis (--storage redis://...?prefix=)', () => {
  const prefix = uniquePrefix();
  const spec = `${REDIS_URL}?prefix=${prefix}`;
  const records = faithfulJournal();

  beforeAll(async () => {
    const store = new RedisStore({ url: REDIS_URL, keyPrefix: prefix });
    await store.open();
    try {
      await store.createConversation({
        conversation_id: 'conv-1',
        title: 'redis fixture',
        created_at: '2026-01-01T09:00:00.000Z',
        created_by: 'alice',
        settings: {},
        status: 'active',
      });
      await store.appendMessages('conv-1', records);
    } finally {
      await store.close();
    }
  });
  afterAll(() => deletePrefix(prefix));

  it('checks and re-runs, exports and lists the stored journal, and leaves every key as it was', async () => {
    const before = await snapshot(prefix);
    const checked = await runMain('conv-1', '--storage', spec, '--check', '--rerun');
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain(`rerun OK: conversation conv-1: ${records.length} records, ${records.length} compared, 0 divergences`);
    const exported = await runMain('export', 'conv-1', '--storage', spec);
    expect(exported.code).toBe(0);
    const [header, ...rest] = parseJsonLines(exported.stdout);
    expect(header).toMatchObject({ format: 'nlweb-chat-journal', conversation_id: 'conv-1', conversation: { title: 'redis fixture' } });
    expect(rest).toEqual(records);
    const list = await runMain('list', '--storage', spec);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^conv-1\t2026-01-01T09:00:00.000Z\tactive\t\d+ records\tredis fixture$/m);
    expect(await snapshot(prefix)).toEqual(before);
  });

  it('a prefix without nlweb-chat data (a mistyped ?prefix=) is refused with exit 1, and nothing is written there', async () => {
    const empty = uniquePrefix();
    const out = await runMain('conv-1', '--storage', `${REDIS_URL}?prefix=${empty}`);
    expect(out.code).toBe(1);
    // It names the prefix read and points at ?prefix=, not at the database ("check which database you named").
    expect(out.stderr).toBe(
      `replay: STORAGE_ERR_UNAVAILABLE: Redis key prefix "${empty}" at ${REDIS_URL} holds no nlweb-chat keys ` +
        `(no ${empty}schema_version, no conversations in ${empty}created): check ?prefix= (default nlweb-chat:, ` +
        "the server's chat.storage.redis.key_prefix); the replay CLI creates nothing\n",
    );
    expect(await keysUnder(empty)).toEqual([]);
  });
});
