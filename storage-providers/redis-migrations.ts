import type { RedisConnection } from './redis-connection';
import { INDEX_CONVERSATIONS, MARK_VERSION } from './redis-activity-scripts';
import { idOfCreatedEntry, type RedisKeys } from './redis-keys';

/** Conversations indexed per script call: each call holds Redis for its batch only. */
const INDEX_BATCH = 200;

/**
 * Brings a prefix's key layout from version `from` (0: unmarked) to `to`, then marks it, unless another server marked
 * it meanwhile. Version 2 added the activity indexes (redis-activity-lua.ts), built here from every conversation of
 * the `created` index. Safe with several servers opening at once: each builds (idempotent; a server already past its
 * open keeps the index in step with its own writes) and the mark is a compare-and-set.
 */
export async function migrateRedisLayout(conn: RedisConnection, keys: RedisKeys, from: number, to: number): Promise<void> {
  if (from < 2) await buildActivityIndex(conn, keys);
  await conn.script(MARK_VERSION, [keys.version], [String(from), String(to)]);
}

/** Walks `created` by its entries (not by rank, which deletes meanwhile would shift), a batch per script call. */
async function buildActivityIndex(conn: RedisConnection, keys: RedisKeys): Promise<void> {
  let from = '-';
  for (;;) {
    const entries = await conn.run((c) => c.zrangebylex(keys.created, from, '+', 'LIMIT', 0, INDEX_BATCH));
    if (entries.length === 0) return;
    await conn.script(INDEX_CONVERSATIONS, [], [keys.prefix, ...entries.map(idOfCreatedEntry)]);
    from = `(${entries[entries.length - 1]}`;
  }
}
