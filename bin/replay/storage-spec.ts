import fs from 'node:fs';
import nodePath from 'node:path';
import { ChatError } from '../../actors/errors';
import type { ChatStore } from '../../storage-providers/chat-store';
import { MemoryStore, PostgresStore, RedisStore, SqliteStore } from '../../storage-providers/index';
import { DEFAULT_REDIS_KEY_PREFIX } from '../../storage-providers/redis-store';
import { withoutUrlPasswords } from '../storage-location';
import { assertPostgresJournalExists } from './postgres-journal-presence';
import { assertRedisJournalExists } from './redis-journal-presence';

/** Where a journal is read from, as written after `--storage`. */
export type StorageSpec =
  | { readonly backend: 'memory' }
  | { readonly backend: 'sqlite'; readonly path: string }
  | { readonly backend: 'postgres'; readonly url: string; readonly schema?: string }
  | { readonly backend: 'redis'; readonly url: string; readonly keyPrefix: string };

/**
 * Parses `memory`, `sqlite:<path>` (also `sqlite://<path>`) or `postgres://...` / `postgresql://...`
 * with an optional `?schema=name` (removed from the URL handed to pg), or `redis://...` / `rediss://...` with an optional
 * `?prefix=` (the key prefix, default nlweb-chat:, removed from the URL). Throws CONFIG_ERR_INVALID.
 */
export function parseStorageSpec(spec: string): StorageSpec {
  const s = spec.trim();
  if (s === 'memory') return { backend: 'memory' };
  if (s.startsWith('sqlite:')) {
    const path = s.startsWith('sqlite://') ? s.slice('sqlite://'.length) : s.slice('sqlite:'.length);
    if (path.length === 0) throw new ChatError('CONFIG_ERR_INVALID', 'sqlite storage needs a file: sqlite:./chat.db');
    return { backend: 'sqlite', path };
  }
  if (s.startsWith('postgres://') || s.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(s);
    } catch (err) {
      throw new ChatError('CONFIG_ERR_INVALID', `not a valid PostgreSQL URL: ${withoutUrlPasswords(s)}`, { cause: err });
    }
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new ChatError('CONFIG_ERR_INVALID', `schema must be a plain SQL identifier, got ${JSON.stringify(schema)}`);
    }
    return { backend: 'postgres', url: url.toString(), ...(schema !== undefined ? { schema } : {}) };
  }
  if (s.startsWith('redis://') || s.startsWith('rediss://')) return parseRedisSpec(s);
  throw new ChatError(
    'CONFIG_ERR_INVALID',
    `unknown storage ${JSON.stringify(withoutUrlPasswords(s))}: use memory, sqlite:<file>, postgres:// or postgresql://..., redis:// or rediss://...${likelyMeant(s)}`,
  );
}

/** The key prefix rule of chat.storage.redis.key_prefix (config-schema.ts). */
const REDIS_KEY_PREFIX = /^[A-Za-z0-9_.:{}-]{1,128}$/;

function parseRedisSpec(s: string): StorageSpec {
  let url: URL;
  try {
    url = new URL(s);
  } catch (err) {
    throw new ChatError('CONFIG_ERR_INVALID', `not a valid Redis URL: ${withoutUrlPasswords(s)}`, { cause: err });
  }
  const keyPrefix = url.searchParams.get('prefix') ?? DEFAULT_REDIS_KEY_PREFIX;
  url.searchParams.delete('prefix');
  if (!REDIS_KEY_PREFIX.test(keyPrefix)) {
    throw new ChatError('CONFIG_ERR_INVALID', `prefix must be 1 to 128 of A-Za-z0-9_.:{}-, got ${JSON.stringify(keyPrefix)}`);
  }
  return { backend: 'redis', url: url.toString(), keyPrefix };
}

/**
 * Builds and opens the provider a spec names, read-only: the CLI reads a database a server owns (often a production
 * one under investigation), which it must leave as it found it. A schema at another version than this build's is
 * refused (STORAGE_ERR_SCHEMA_VERSION) instead of migrated. A sqlite file must already exist, and a PostgreSQL schema
 * must already hold nlweb-chat's tables and a Redis key prefix its keys: a typo must not report "conversation not found"
 * (the checks here name the path looked for and the ?schema= or ?prefix= to check; the read-only provider would refuse
 * them too, less helpfully).
 */
export async function openStorage(spec: StorageSpec): Promise<ChatStore> {
  let store: ChatStore;
  switch (spec.backend) {
    case 'memory':
      store = new MemoryStore();
      break;
    case 'sqlite':
      if (spec.path !== ':memory:' && !fs.existsSync(spec.path)) {
        throw new ChatError('STORAGE_ERR_UNAVAILABLE', `sqlite database ${spec.path} does not exist${resolvedFrom(spec.path)}`);
      }
      // sqlite::memory: is the CLI's own empty database (SQLite cannot open one read-only): nothing to protect.
      store = new SqliteStore({ path: spec.path, readOnly: spec.path !== ':memory:' });
      break;
    case 'postgres':
      await assertPostgresJournalExists(spec.url, spec.schema ?? 'public');
      store = new PostgresStore({ url: spec.url, poolSize: 2, schema: spec.schema, applicationName: 'nlweb-chat-replay', readOnly: true });
      break;
    case 'redis':
      await assertRedisJournalExists(spec.url, spec.keyPrefix);
      store = new RedisStore({ url: spec.url, keyPrefix: spec.keyPrefix, connectionName: 'nlweb-chat-replay', readOnly: true });
      break;
  }
  await store.open();
  return store;
}

/**
 * For a relative path: where it was looked for. `npm run replay` runs in the package's root, not where the command
 * was typed, so `sqlite:./chat.db` there is another file than the reader thinks.
 */
export function resolvedFrom(path: string): string {
  return nodePath.isAbsolute(path) ? '' : ` (looked for ${nodePath.resolve(path)}: relative to ${process.cwd()})`;
}

/**
 * What a spec without a scheme was most likely meant to be: a path ending like a database file is a SQLite file
 * given as a path (`--storage ./chat.db`, the first thing a newcomer types), one ending in .jsonl an export.
 */
function likelyMeant(spec: string): string {
  if (spec.includes('://')) return '';
  if (/\.(db|sqlite3?)$/i.test(spec)) return ` (for the SQLite file ${spec}: --storage sqlite:${spec})`;
  if (/\.jsonl$/i.test(spec)) return ` (for an export: --file ${spec})`;
  return '';
}
