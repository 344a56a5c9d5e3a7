import { ChatError } from '../actors/errors';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';
import { migrateRedisLayout } from './redis-migrations';
import { schemaVersionError, type SchemaOpenMode } from './schema-version';

/**
 * The version of the Redis key layout (redis-keys.ts) this build reads and writes, kept in `<prefix>schema_version`.
 * A layout change raises it and adds its migration to redis-migrations.ts. 1: the first; 2: the per-participant
 * activity indexes (a list page costs O(page), not O(the user's conversations)).
 */
export const REDIS_SCHEMA_VERSION = 2;

/** How the provider names a prefix in messages: `Redis key prefix "nlweb-chat:" at redis://host:6379`. */
export function redisDatabaseName(prefix: string, url: string): string {
  return `Redis key prefix ${JSON.stringify(prefix)} at ${url}`;
}

/**
 * Reads the prefix's layout version and returns it (0: none). `migrating` (a read-write open with migrations: apply)
 * migrates an older prefix, or one without a version (which builds before the version key may have written), and
 * marks it as this build's (compare-and-set: concurrent openers agree), and refuses only a newer one; the other modes
 * refuse anything but this build's and write nothing. Refusals are STORAGE_ERR_SCHEMA_VERSION.
 */
export async function checkRedisSchema(conn: RedisConnection, keys: RedisKeys, database: string, mode: SchemaOpenMode): Promise<number> {
  const stored = await conn.run((c) => c.get(keys.version));
  // Only what SET writes below counts as a version: Number() would read "", " " or "0" as 0, and a prefix "without a
  // version" whose key exists made the SET NX below a no-op and this function call itself forever.
  const found = stored === null ? 0 : /^[1-9][0-9]{0,15}$/.test(stored) ? Number(stored) : -1;
  if (!Number.isSafeInteger(found) || found < 0) {
    // No build writes that: something else uses the prefix. Nothing is written under it.
    const details = { found_version: -1, expected_version: REDIS_SCHEMA_VERSION };
    const text = `${database}: ${keys.version} holds ${JSON.stringify(stored)}, not a schema version (nothing was changed): check the key prefix`;
    throw new ChatError('STORAGE_ERR_SCHEMA_VERSION', text, { details });
  }
  if (found === REDIS_SCHEMA_VERSION) return found;
  if (mode === 'migrating' && found < REDIS_SCHEMA_VERSION) {
    await migrateRedisLayout(conn, keys, found, REDIS_SCHEMA_VERSION);
    return checkRedisSchema(conn, keys, database, mode).then(() => found);
  }
  throw schemaVersionError(database, found, REDIS_SCHEMA_VERSION, mode);
}
