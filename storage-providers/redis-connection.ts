import Redis from 'ioredis';
import { ChatError, isChatError } from '../actors/errors';
import type { LuaScript } from './redis-scripts';

/** Connection settings of the Redis provider. */
export interface RedisConnectionOptions {
  readonly url: string;
  /** How long connecting may take before STORAGE_ERR_UNAVAILABLE (default 5000). */
  readonly connectTimeoutMs?: number;
  /** See REDIS_OPERATION_TIMEOUT_MS; 0 = unbounded. */
  readonly operationTimeoutMs?: number;
  /** CLIENT SETNAME of the connection, visible in CLIENT LIST (default "nlweb-chat"). */
  readonly connectionName?: string;
}

/**
 * How long one command waits for Redis's answer. A Redis that stops answering without closing the connection (a
 * partition, a frozen host) would otherwise hold the journal writes queued behind it until TCP gives up; after it the
 * caller gets STORAGE_ERR_UNAVAILABLE, which journal writes retry. The command may still have run.
 */
export const REDIS_OPERATION_TIMEOUT_MS = 15_000;

/** Longest pause between reconnection attempts after Redis went away. */
const MAX_RECONNECT_DELAY_MS = 2000;

/** Results of a pipeline, each command's reply in order. */
export type PipelineReplies = unknown[];

/**
 * One ioredis connection plus the bookkeeping the store needs: every operation is tracked so end() can wait for it,
 * its driver errors become coded ones, and scripts run by their SHA (sent in full only when Redis lacks them).
 *
 * While Redis is away, calls fail at once with STORAGE_ERR_UNAVAILABLE instead of queueing (no offline queue, no
 * retry of a command whose connection dropped: its fate is unknown, and the journal writer's retry finds a record
 * already stored as a duplicate); the client reconnects in the background, and calls work again once it has.
 */
export class RedisConnection {
  private readonly client: Redis;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Whether the first connect succeeded (from then on, lost connections are re-made in the background). */
  private connected = false;
  /**
   * The socket's error of the current connect attempt. ioredis rejects a first connect that has no retry with only
   * "Connection is closed." and emits the reason (ECONNREFUSED, ENOTFOUND, an auth failure) as an 'error' event.
   */
  private connectError: unknown;
  private readonly url: string;

  constructor(options: RedisConnectionOptions) {
    this.url = options.url;
    const timeout = options.operationTimeoutMs ?? REDIS_OPERATION_TIMEOUT_MS;
    this.client = new Redis(urlWithoutOverrides(options.url), {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      ...(timeout > 0 ? { commandTimeout: timeout } : {}),
      connectionName: options.connectionName ?? 'nlweb-chat',
      // A failed first connect is open()'s failure (retried by its caller), not something to retry in the background.
      retryStrategy: (attempt) => (this.connected ? Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS) : null),
      // How long disconnect() waits for a socket to close before destroying it; its timer outlives a socket that is
      // already closed (ioredis), so it is short: otherwise every close() kept the process alive for 2 s.
      disconnectTimeout: 200,
    });
    // Connection errors reach the calls that meet them; without a listener ioredis would print each one.
    this.client.on('error', (err) => {
      if (!this.connected) this.connectError = err;
    });
  }

  /** Connects; a failure is STORAGE_ERR_UNAVAILABLE and leaves nothing running (no background reconnects). */
  async connect(): Promise<void> {
    this.connectError = undefined;
    try {
      await this.client.connect();
    } catch (err) {
      // "cannot reach Redis: Connection is closed." said nothing of why; the socket's error does. The cause stays
      // ioredis's rejection, which the socket's error only explains.
      const why = (this.connectError as { message?: unknown } | undefined)?.message;
      if (isChatError(err) || typeof why !== 'string') throw mapRedisError(err, 'cannot reach Redis');
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', `cannot reach Redis: ${why}`, { cause: err });
    }
    // ioredis reports a refused SELECT (the URL's /<db> beyond the server's `databases`) only as an 'error' event and
    // stays on database 0: the store would then read, or migrate and write, database 0 while the URL named another.
    // Matched on Redis's reply, so that the message's claim (a refused database) is what happened.
    const why = (this.connectError as { message?: unknown } | undefined)?.message;
    if (typeof why === 'string' && /DB index/i.test(why)) {
      await this.end();
      throw new ChatError(
        'STORAGE_ERR_INVALID_ARGUMENT',
        `Redis refused the database ${databaseOf(this.url)} the URL names: ${String(why)} (an index must be below the server's \`databases\` setting, 16 by default)`,
        { cause: this.connectError },
      );
    }
    this.connected = true;
  }

  /** Runs `fn` on the client, tracked, with its errors mapped. */
  run<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    const work = (async () => {
      try {
        return await fn(this.client);
      } catch (err) {
        throw mapRedisError(err, 'Redis operation failed');
      }
    })();
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Runs a script by its SHA; when Redis does not have it (restarted, SCRIPT FLUSH) sends it whole (EVAL caches it). */
  script(lua: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.run(async (client) => {
      try {
        return await client.evalsha(lua.sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
        return client.eval(lua.lua, keys.length, ...keys, ...args);
      }
    });
  }

  /** Sends the commands `build` queues in one round trip; the first failed command's error is thrown. */
  pipeline(build: (pipeline: ReturnType<Redis['pipeline']>) => void): Promise<PipelineReplies> {
    return this.run(async (client) => {
      const pipeline = client.pipeline();
      build(pipeline);
      const results = (await pipeline.exec()) ?? [];
      return results.map(([err, reply]) => {
        if (err) throw err;
        return reply;
      });
    });
  }

  /** Waits for running operations (callers stop starting new ones first), then closes the connection. */
  async end(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.client.status === 'end') return;
    if (this.client.status === 'ready') {
      // QUIT: Redis answers what was sent before it, then closes; the client ends with the socket, reconnecting nothing.
      // Waiting for that end, rather than calling disconnect() after QUIT, starts no timer (see below).
      const ended = new Promise<void>((resolve) => this.client.once('end', () => resolve()));
      const quit = await this.client.quit().then(
        () => true,
        () => false,
      );
      if (quit) {
        await ended;
        return;
      }
    }
    // Redis away (reconnecting), or QUIT failed: stop the client. ioredis's disconnect() also starts a timer
    // (disconnectTimeout) that only the close of a socket still open clears; it is short, and nothing else is left.
    this.client.disconnect();
  }
}

/**
 * ioredis reads its options from the URL's query too, and they win over the ones given in code: a `keyPrefix` there
 * would prefix the keys a script gets but not those it builds (redis-scripts.ts), so it is refused (the store's key
 * prefix is its own option); the settings this class depends on are dropped from the URL. Others (`family`, `db`,
 * TLS ones) pass.
 */
function urlWithoutOverrides(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.searchParams.has('keyPrefix')) {
    throw new ChatError(
      'STORAGE_ERR_INVALID_ARGUMENT',
      "the Redis URL names a keyPrefix: set the store's key prefix (chat.storage.redis.key_prefix) instead",
    );
  }
  for (const name of FIXED_OPTIONS) parsed.searchParams.delete(name);
  return parsed.toString();
}

const FIXED_OPTIONS = [
  'lazyConnect',
  'enableOfflineQueue',
  'maxRetriesPerRequest',
  'autoResendUnfulfilledCommands',
  'commandTimeout',
  'connectTimeout',
  'connectionName',
];

/** The database index a Redis URL names (`/99` or ioredis's `?db=99`; none: `0`), as the reader wrote it. */
function databaseOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.searchParams.get('db') ?? (parsed.pathname.replace(/^\//, '') || '0');
  } catch {
    return '0';
  }
}

/** Anything but a coded error is STORAGE_ERR_UNAVAILABLE (refused or lost connection, timeout, OOM, READONLY replica). */
export function mapRedisError(err: unknown, context: string): unknown {
  if (isChatError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ChatError('STORAGE_ERR_UNAVAILABLE', `${context}: ${message}`, { cause: err });
}
