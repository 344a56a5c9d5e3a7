import { ChatError } from '../../actors/errors';
import { RedisConnection } from '../../storage-providers/redis-connection';
import { redisKeys } from '../../storage-providers/redis-keys';
import { redisDatabaseName } from '../../storage-providers/redis-schema';
import { DEFAULT_REDIS_KEY_PREFIX } from '../../storage-providers/redis-store';
import { urlWithoutPasswords } from '../../storage-providers/url-passwords';

/**
 * Refuses a Redis key prefix under which nlweb-chat wrote nothing, before the provider is opened, naming the prefix
 * read and pointing at `?prefix=`: a mistyped one is the usual cause, and the provider's own refusal (schema version
 * 0, "check which database you named") sent the reader to the database instead. A prefix with conversations but no
 * version key (a build before the key) is left to the provider. Throws STORAGE_ERR_UNAVAILABLE.
 */
export async function assertRedisJournalExists(url: string, keyPrefix: string): Promise<void> {
  const keys = redisKeys(keyPrefix);
  const conn = new RedisConnection({ url, connectionName: 'nlweb-chat-replay' });
  try {
    await conn.connect();
    // Every conversation is in `created` from creation to deletion (redis-scripts.ts), whatever the layout version.
    if ((await conn.run((c) => c.exists(keys.version, keys.created))) > 0) return;
  } finally {
    await conn.end();
  }
  throw new ChatError(
    'STORAGE_ERR_UNAVAILABLE',
    `${redisDatabaseName(keyPrefix, urlWithoutPasswords(url, 'Redis'))} holds no nlweb-chat keys (no ${keys.version}, no ` +
      `conversations in ${keys.created}): check ?prefix= (default ${DEFAULT_REDIS_KEY_PREFIX}, the server's ` +
      'chat.storage.redis.key_prefix); the replay CLI creates nothing',
  );
}
