import { existsSync } from 'node:fs';
import { isChatError } from '../actors/errors';
import type { ChatConfig } from '../config/config-types';
import { createStore } from '../storage-providers/index';
import { PG_MIGRATIONS } from '../storage-providers/postgres-migrations';
import { PostgresStore } from '../storage-providers/postgres-store';
import { REDIS_SCHEMA_VERSION } from '../storage-providers/redis-schema';
import { RedisStore } from '../storage-providers/redis-store';
import { SQLITE_MIGRATIONS, sqliteDatabaseName } from '../storage-providers/sqlite-schema';
import { isVolatileSqlitePath, SqliteStore } from '../storage-providers/sqlite-store';
import { storageLocation, withoutUrlPasswords } from './storage-location';

/** Exit codes of `nlweb-chat migrate` (docs/storage.md, Migrating in a step of its own). */
export const MIGRATE_EXIT = {
  /** Migrated, already current, or nothing to migrate (memory). */
  ok: 0,
  /** Config refused, storage unreachable, a schema newer than this build's, a migration failed. */
  failure: 1,
  /** `--check` only: migrations are pending (nothing was changed). */
  pending: 2,
} as const;

export interface MigrateOptions {
  /** List the pending versions and change nothing. */
  readonly check: boolean;
}

export interface MigrateIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

type StorageConfig = ChatConfig['storage'];

/** The application_name of the command's PostgreSQL connections: pg_stat_activity tells them from a server's. */
const APPLICATION_NAME = 'nlweb-chat-migrate';

/**
 * `nlweb-chat migrate`: applies the configured store's pending schema migrations and exits, saying the version before
 * and after, whatever chat.storage.migrations says (it is the step `require_current` leaves them to). The providers'
 * own open() does the work, so it is the migration a server with `apply` would run: one transaction per version
 * (SQLite: all in one), under the lock that makes concurrent migrators take turns. `--check` opens read-only.
 */
export async function runMigrate(storage: StorageConfig, options: MigrateOptions, io: MigrateIo, cwd = process.cwd()): Promise<number> {
  if (storage.backend === 'memory' || (storage.backend === 'sqlite' && isVolatileSqlitePath(storage.sqlite.path))) {
    const what = storage.backend === 'memory' ? 'memory storage' : sqliteDatabaseName(storage.sqlite.path);
    io.stdout.write(`${what}: nothing to migrate (it lives in the server's process and is created at this build's schema at each start)\n`);
    return MIGRATE_EXIT.ok;
  }
  const where = storageName(storage, cwd);
  const expected = expectedVersion(storage.backend);
  try {
    if (!options.check) {
      const before = await applyMigrations(storage);
      io.stdout.write(
        `${where}: schema version before ${before}, after ${expected}` +
          (before === expected ? " (already this build's: nothing applied)\n" : ` (applied ${versionList(before, expected)})\n`),
      );
      return MIGRATE_EXIT.ok;
    }
    const found = await versionWithoutChanging(storage);
    if (found === expected) {
      io.stdout.write(`${where}: schema version ${found}, this build's ${expected}: nothing pending\n`);
      return MIGRATE_EXIT.ok;
    }
    io.stdout.write(
      `${where}: schema version ${found}, this build's ${expected}: pending ${versionList(found, expected)} ` +
        '(nothing was changed; `nlweb-chat migrate` applies them)\n',
    );
    return MIGRATE_EXIT.pending;
  } catch (err) {
    const text = isChatError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    io.stderr.write(`nlweb-chat migrate: ${where}: ${withoutUrlPasswords(text)}\n`);
    return MIGRATE_EXIT.failure;
  }
}

/** Opens the store with migrations applied; returns the version it found before. */
async function applyMigrations(storage: StorageConfig): Promise<number> {
  const store = versionedStore(storage, { migrations: 'apply' });
  await store.open();
  const before = store.schemaVersionFound!;
  await store.close();
  return before;
}

/**
 * The version, read through a read-only open, which refuses any other than this build's with the versions in its
 * details. A SQLite file that does not exist is version 0 (a read-only open cannot create it, and should not).
 */
async function versionWithoutChanging(storage: StorageConfig): Promise<number> {
  if (storage.backend === 'sqlite' && !existsSync(storage.sqlite.path)) return 0;
  const store = versionedStore(storage, { readOnly: true });
  try {
    await store.open();
  } catch (err) {
    const details = isChatError(err, 'STORAGE_ERR_SCHEMA_VERSION') ? err.details : undefined;
    // Newer than this build: nothing this build can apply; the refusal says what to do instead.
    if (details && details.found_version < details.expected_version) return details.found_version;
    throw err;
  }
  const found = store.schemaVersionFound!;
  await store.close();
  return found;
}

function versionedStore(
  storage: StorageConfig,
  options: { migrations?: 'apply'; readOnly?: boolean },
): SqliteStore | PostgresStore | RedisStore {
  const store = createStore(storage, { ...options, postgresApplicationName: APPLICATION_NAME, redisConnectionName: APPLICATION_NAME });
  if (store instanceof SqliteStore || store instanceof PostgresStore || store instanceof RedisStore) return store;
  throw new Error(`storage backend ${storage.backend} has no schema`);
}

function storageName(storage: StorageConfig, cwd: string): string {
  const location = storageLocation(storage, cwd);
  if (storage.backend === 'postgres') return `PostgreSQL ${location}`;
  return storage.backend === 'redis' ? `Redis ${location}` : sqliteDatabaseName(location);
}

/** This build's schema version of the backend (Redis: its key layout's). */
function expectedVersion(backend: StorageConfig['backend']): number {
  if (backend === 'sqlite') return SQLITE_MIGRATIONS.length;
  return backend === 'redis' ? REDIS_SCHEMA_VERSION : PG_MIGRATIONS.length;
}

/** `2, 3`: the versions after `from` up to `to`. */
function versionList(from: number, to: number): string {
  return Array.from({ length: to - from }, (_, i) => from + 1 + i).join(', ');
}
