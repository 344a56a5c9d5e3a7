import { runMigrate } from '../../bin/migrate-command';
import { storageLocation } from '../../bin/storage-location';
import { isChatError } from '../../actors/errors';
import { loadConfig, validateConfig } from '../../config';
import { createStore, RedisStore } from '../../storage-providers';
import { REDIS_SCHEMA_VERSION } from '../../storage-providers/redis-schema';
import { meta } from '../../testing/store-contract/fixtures';
import { deletePrefix, describeWithRedis, keysUnder, REDIS_URL, redisReachableSync, uniquePrefix, withRedis } from './redis-helpers';

const storageConfig = (storage: Record<string, unknown>) => validateConfig({ chat: { storage } }).chat.storage;

/** chat.storage.backend: redis, as the server binary and `nlweb-chat migrate` build the store from the config. */
describe('redis backend in the config', () => {
  test('defaults, env overrides (NLWEB_CHAT_STORAGE_BACKEND, NLWEB_CHAT_REDIS_URL, NLWEB_CHAT_REDIS_KEY_PREFIX) and the ready line location', () => {
    const defaults = storageConfig({}).redis;
    expect(defaults).toEqual({ url: 'redis://127.0.0.1:6379', key_prefix: 'nlweb-chat:', operation_timeout_ms: 15_000 });
    const env = {
      NLWEB_CHAT_STORAGE_BACKEND: 'redis',
      NLWEB_CHAT_REDIS_URL: 'redis://:s3cret@cache:6380/2',
      NLWEB_CHAT_REDIS_KEY_PREFIX: 'tenant-b:',
    };
    const storage = loadConfig({ env }).chat.storage;
    expect(storage.backend).toBe('redis');
    expect(storage.redis).toMatchObject({ url: 'redis://:s3cret@cache:6380/2', key_prefix: 'tenant-b:' });
    expect(createStore(storage)).toBeInstanceOf(RedisStore);
    expect(storageLocation(storage, '/')).toBe('key prefix tenant-b: at redis://:***@cache:6380/2');
  });

  test('a key prefix outside 1-128 of A-Za-z0-9_.:{}- and an operation timeout out of range are refused', () => {
    const pathsOf = (redis: Record<string, unknown>): string[] => {
      try {
        storageConfig({ backend: 'redis', redis });
      } catch (err) {
        if (isChatError(err, 'CONFIG_ERR_INVALID')) return (err.details!.problems as Array<{ path: string }>).map((p) => p.path);
        throw err;
      }
      return [];
    };
    expect(pathsOf({ key_prefix: '' })).toEqual(['chat.storage.redis.key_prefix']);
    expect(pathsOf({ key_prefix: 'has space:' })).toEqual(['chat.storage.redis.key_prefix']);
    expect(pathsOf({ key_prefix: 'glob*:' })).toEqual(['chat.storage.redis.key_prefix']);
    expect(pathsOf({ operation_timeout_ms: -1 })).toEqual(['chat.storage.redis.operation_timeout_ms']);
    expect(pathsOf({ key_prefix: 'prod.{chat}:eu-1_' })).toEqual([]);
  });
});

describeWithRedis(redisReachableSync())('redis backend in the config, on a real Redis', () => {
  let prefix: string;
  const output = () => {
    const text = { stdout: '', stderr: '' };
    return { text, io: { stdout: { write: (t: string) => (text.stdout += t) }, stderr: { write: (t: string) => (text.stderr += t) } } };
  };
  beforeEach(() => {
    prefix = uniquePrefix();
  });
  afterEach(() => deletePrefix(prefix));

  test('createStore builds a RedisStore on chat.storage.redis; the redisKeyPrefix option overrides key_prefix', async () => {
    const store = createStore(storageConfig({ backend: 'redis', redis: { url: REDIS_URL, key_prefix: 'unused:' } }), {
      redisKeyPrefix: prefix,
    });
    try {
      await store.open();
      await store.createConversation(meta('c1'));
    } finally {
      await store.close();
    }
    expect(await keysUnder(prefix)).toContain(`${prefix}conv:c1`);
  });

  test('nlweb-chat migrate: --check reports the layout version pending and writes nothing; migrate marks it; again applies nothing', async () => {
    const storage = storageConfig({ backend: 'redis', redis: { url: REDIS_URL, key_prefix: prefix } });
    const where = `Redis key prefix ${prefix} at ${REDIS_URL}`;
    const check = output();
    expect(await runMigrate(storage, { check: true }, check.io)).toBe(2);
    expect(check.text.stdout).toBe(
      `${where}: schema version 0, this build's ${REDIS_SCHEMA_VERSION}: pending 1, 2 (nothing was changed; \`nlweb-chat migrate\` applies them)\n`,
    );
    expect(await keysUnder(prefix)).toEqual([]);
    const first = output();
    expect(await runMigrate(storage, { check: false }, first.io)).toBe(0);
    expect(first.text.stdout).toBe(`${where}: schema version before 0, after ${REDIS_SCHEMA_VERSION} (applied 1, 2)\n`);
    const again = output();
    expect(await runMigrate(storage, { check: false }, again.io)).toBe(0);
    expect(again.text.stdout).toContain("(already this build's: nothing applied)");
    expect(await runMigrate({ ...storage, migrations: 'require_current' }, { check: true }, output().io)).toBe(0);
    // A prefix of layout version 1 (before the activity indexes): pending 2, which migrate applies.
    await withRedis((c) => c.set(`${prefix}schema_version`, '1'));
    const older = output();
    expect(await runMigrate(storage, { check: true }, older.io)).toBe(2);
    expect(older.text.stdout).toContain("schema version 1, this build's 2: pending 2 (nothing was changed");
    const upgrade = output();
    expect(await runMigrate(storage, { check: false }, upgrade.io)).toBe(0);
    expect(upgrade.text.stdout).toBe(`${where}: schema version before 1, after 2 (applied 2)\n`);
  });
});
