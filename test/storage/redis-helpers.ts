import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import Redis from 'ioredis';
import { RedisStore, type RedisStoreOptions } from '../../storage-providers/redis-store';

/** The Redis the tests use (shared with other test files and other users: never FLUSHDB, only our own prefix's keys). */
export const REDIS_URL = process.env.NLWEB_CHAT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers, decided synchronously (in a child process) so a test file can choose between describe
 * and describe.skip while jest collects tests.
 */
export function redisReachableSync(url = REDIS_URL): boolean {
  const script =
    "const Redis=require('ioredis');const c=new Redis(process.argv[1],{lazyConnect:true,connectTimeout:3000,retryStrategy:()=>null});" +
    "c.on('error',()=>{});c.connect().then(()=>c.ping()).then(()=>c.quit()).then(()=>process.exit(0),()=>process.exit(1));";
  const result = spawnSync(process.execPath, ['-e', script, url], { cwd: path.resolve(__dirname, '../..'), timeout: 8000 });
  return result.status === 0;
}

/**
 * `describe` when Redis is reachable or when running in CI (where an unreachable Redis must fail the run);
 * otherwise `describe.skip` with a console note.
 */
export function describeWithRedis(reachable: boolean): jest.Describe {
  if (reachable || process.env.CI) return describe;
  console.warn(`Redis at ${REDIS_URL} is unreachable: skipping Redis tests (they fail in CI)`);
  return describe.skip;
}

/** A key prefix no other test run uses (letters, digits and ":-" only, so it is also a literal SCAN pattern). */
export function uniquePrefix(): string {
  return `nlweb-chat-test:${process.pid}-${crypto.randomBytes(6).toString('hex')}:`;
}

/** Runs `fn` on a short-lived client of its own (set-up, inspection, removal). */
export async function withRedis<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 5000, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.quit();
  }
}

/** Every key under `prefix`. */
export function keysUnder(prefix: string): Promise<string[]> {
  return withRedis(async (client) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found.sort();
  });
}

/** Removes every key under `prefix` (what a test wrote), and nothing else. */
export async function deletePrefix(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix);
  if (keys.length > 0) await withRedis((client) => client.unlink(...keys));
}

/**
 * Stores on a key prefix of their own per test: a fresh prefix before each test; after it, every store made is closed
 * and the prefix's keys deleted. Call inside a describe.
 */
export function redisStoresPerTest(defaults: Partial<RedisStoreOptions> = {}): {
  readonly prefix: string;
  make(extra?: Partial<RedisStoreOptions>): RedisStore;
} {
  let prefix = '';
  const stores: RedisStore[] = [];
  beforeEach(() => {
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await deletePrefix(prefix);
  });
  return {
    get prefix() {
      return prefix;
    },
    make(extra = {}) {
      const store = new RedisStore({ url: REDIS_URL, keyPrefix: prefix, ...defaults, ...extra });
      stores.push(store);
      return store;
    },
  };
}
