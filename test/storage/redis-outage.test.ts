import net from 'node:net';
import { isChatError } from '../../actors/errors';
import { RedisStore } from '../../storage-providers/redis-store';
import { expectCode } from '../../testing';
import { meta, msg } from '../../testing/store-contract/fixtures';
import { startTcpProxy, type TcpProxy } from '../recovery/tcp-proxy';
import { openError } from './store-open-fixtures';
import { describeWithRedis, REDIS_URL, redisReachableSync, redisStoresPerTest, withRedis } from './redis-helpers';

/**
 * Redis going away, in front of a real RedisStore: refused at open, a connection the server kills, a Redis that stops
 * answering without closing the connection. Every failure is STORAGE_ERR_UNAVAILABLE (what journal writes retry and API
 * calls answer 503), at once rather than queued, and the store works again once Redis does.
 */
const reachable = redisReachableSync();
const REDIS_PORT = Number(new URL(REDIS_URL).port || 6379);

function viaProxy(proxy: TcpProxy): string {
  const url = new URL(REDIS_URL);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

/** Calls `fn` until it resolves (the client reconnects on its own timer, at most 2 s apart), failing after `ms`. */
async function untilResolves<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isChatError(err, 'STORAGE_ERR_UNAVAILABLE') || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/**
 * The delays (ms) of the timers `fn` started with the global setTimeout that are still pending once it has settled:
 * what keeps a process alive after it. setTimeout and clearTimeout are wrapped while `fn` runs.
 */
async function timersLeftBy(fn: () => Promise<unknown>): Promise<number[]> {
  const pending = new Map<unknown, number>();
  const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
  globalThis.setTimeout = ((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSet(
      (...a: unknown[]) => {
        pending.delete(handle);
        callback(...a);
      },
      ms,
      ...args,
    );
    pending.set(handle, ms ?? 0);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    pending.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout;
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
  return [...pending.values()];
}

describeWithRedis(reachable)('RedisStore when Redis goes away', () => {
  const redis = redisStoresPerTest();
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: REDIS_PORT });
  });
  afterEach(async () => {
    proxy.resume();
    proxy.accept();
    await proxy.close();
  });

  test('an unreachable Redis at open() is STORAGE_ERR_UNAVAILABLE with the driver error as cause; open() may be retried', async () => {
    proxy.refuse();
    const store = redis.make({ url: viaProxy(proxy), connectTimeoutMs: 500 });
    const error = await openError(store);
    expect(error.code).toBe('STORAGE_ERR_UNAVAILABLE');
    expect(error.message).toContain('cannot reach Redis');
    expect(error.cause).toBeInstanceOf(Error);
    expect(store.isOpen).toBe(false);
    proxy.accept();
    await store.open();
    await store.createConversation(meta('c1'));
    expect(await store.getConversation('c1')).toEqual(meta('c1'));
  });

  test('close() and a failed open() leave no timer behind: a process (the replay CLI) exits at once', async () => {
    const store = redis.make();
    await store.open();
    await store.ping();
    // ioredis's disconnect() used to leave a 2 s timer for a socket already closed, after every close().
    expect(await timersLeftBy(() => store.close())).toEqual([]);
    proxy.refuse();
    const refused = redis.make({ url: viaProxy(proxy), connectTimeoutMs: 500 });
    expect(await timersLeftBy(() => refused.open().catch((err: unknown) => err))).toEqual([]);
    // Closed while Redis is away (the client waiting to reconnect): close() resolves and stops the reconnecting; only
    // ioredis's short disconnect timer (disconnectTimeout 200 ms) is left.
    proxy.accept();
    const cut = redis.make({ url: viaProxy(proxy) });
    await cut.open();
    proxy.cut();
    await expectCode(cut.ping(), 'STORAGE_ERR_UNAVAILABLE');
    expect(await timersLeftBy(() => cut.close())).toEqual([200]);
  });

  test('a connection cut under the store: calls fail STORAGE_ERR_UNAVAILABLE at once, then work after the reconnect', async () => {
    const store: RedisStore = redis.make({ url: viaProxy(proxy) });
    await store.open();
    await store.createConversation(meta('c1'));
    await store.appendMessages('c1', [msg('c1', 1)]);
    proxy.cut();
    // Refused while Redis is away: not queued until it is back.
    await expectCode(store.appendMessages('c1', [msg('c1', 2)]), 'STORAGE_ERR_UNAVAILABLE');
    await expectCode(store.readMessages('c1', 0, 10), 'STORAGE_ERR_UNAVAILABLE');
    proxy.accept();
    await untilResolves(() => store.ping(), 10_000);
    await store.appendMessages('c1', [msg('c1', 2)]);
    expect((await store.readMessages('c1', 0, 10)).map((m) => m.sequence_id)).toEqual([1, 2]);
  }, 20_000);

  test('a connection the server kills (CLIENT KILL) is replaced; the call on it fails STORAGE_ERR_UNAVAILABLE', async () => {
    const name = `nlweb-chat-kill-${process.pid}`;
    const store = redis.make({ connectionName: name });
    await store.open();
    await store.createConversation(meta('c1'));
    // Only this store's connection, found by its name: the Redis is shared.
    await withRedis(async (c) => {
      const line = String(await c.client('LIST'))
        .split('\n')
        .find((l) => l.includes(` name=${name} `));
      const id = /^id=(\d+) /.exec(line ?? '')?.[1];
      if (id === undefined) throw new Error(`no connection named ${name}`);
      expect(await c.client('KILL', 'ID', id)).toBe(1);
    });
    const first = await store.ping().then(
      () => 'answered',
      (err: unknown) => (isChatError(err, 'STORAGE_ERR_UNAVAILABLE') ? 'unavailable' : String(err)),
    );
    // The kill may reach the client before or after that call is sent: either way no other outcome.
    expect(['answered', 'unavailable']).toContain(first);
    await untilResolves(() => store.appendMessages('c1', [msg('c1', 1)]), 10_000);
    expect(await store.lastSequenceId('c1')).toBe(1);
  }, 20_000);

  test('a Redis that stops answering fails STORAGE_ERR_UNAVAILABLE after operation_timeout_ms; the store works once it answers', async () => {
    const store = redis.make({ url: viaProxy(proxy), operationTimeoutMs: 300 });
    await store.open();
    await store.createConversation(meta('c1'));
    await store.appendMessages('c1', [msg('c1', 1)]);
    proxy.stall();
    const started = Date.now();
    await expectCode(store.appendMessages('c1', [msg('c1', 2)]), 'STORAGE_ERR_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2_000);
    proxy.resume();
    // The stalled append reaches Redis once the bytes flow: stored then, or by the retry, never twice.
    await store.appendMessages('c1', [msg('c1', 2)]).catch((err: unknown) => {
      if (!isChatError(err, 'STORAGE_ERR_DUPLICATE_SEQUENCE')) throw err;
    });
    await store.appendMessages('c1', [msg('c1', 3)]);
    expect((await store.readMessages('c1', 0, 10)).map((m) => m.sequence_id)).toEqual([1, 2, 3]);
  }, 20_000);
});

// Needs no Redis: nothing listens on the port. It used to say "cannot reach Redis: Connection is closed." (ioredis's
// rejection of a first connect without retry), while the reason, ECONNREFUSED, went to an 'error' event nobody read.
describe('RedisStore on an address where nothing listens', () => {
  test('open() names the connection\'s error: ECONNREFUSED and the address, not "Connection is closed."', async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as net.AddressInfo;
    await new Promise((resolve) => free.close(resolve));
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 2000 });
    const error = await openError(store);
    expect(error.code).toBe('STORAGE_ERR_UNAVAILABLE');
    expect(error.message).toBe(`cannot reach Redis: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(store.isOpen).toBe(false);
  });
});
