import { ChatError } from '../actors/errors';
import type { NlwebChatConfig } from '../config/config-types';
import type { ChatStore } from './chat-store';
import { MemoryStore } from './memory-store';
import { PostgresStore } from './postgres-store';
import { RedisStore } from './redis-store';
import type { SchemaMigrations } from './schema-version';
import { SqliteStore } from './sqlite-store';

export { ChatStore, REDACTION_MARKER } from './chat-store';
export type {
  ActivityPageOptions,
  ContentReplacement,
  ListForUserOptions,
  MemberFilter,
  RedactionResult,
  RedactionTarget,
  StoreCapabilities,
} from './chat-store';
export { compareActivity, PREVIEW_SCAN, PREVIEW_TYPES } from './conversation-activity';
export type { ActivityKey, ConversationActivity } from './conversation-activity';
export { decideClaim } from './conversation-claims';
export { isUnreadFor, MAX_UNREAD_COUNT, type UnreadRange } from './read-positions';
export type { ClaimHolder, ClaimRequest, ClaimResult, ConversationClaim, StoredClaim } from './conversation-claims';
export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store';
export { RedisStore, type RedisStoreOptions } from './redis-store';
export type { SchemaMigrations } from './schema-version';

/** Settings of `chat.storage` in config_nlweb.yaml. */
export type StorageConfig = NlwebChatConfig['chat']['storage'];

/** Overrides that do not belong in the config file. */
export interface CreateStoreOptions {
  /** PostgreSQL schema to use, overriding chat.storage.postgres.schema; tests use one schema per run. */
  readonly postgresSchema?: string;
  /** PostgreSQL application_name (default "nlweb-chat"). */
  readonly postgresApplicationName?: string;
  /** Redis key prefix, overriding chat.storage.redis.key_prefix; tests use one prefix per run. */
  readonly redisKeyPrefix?: string;
  /** Redis CLIENT SETNAME (default "nlweb-chat"). */
  readonly redisConnectionName?: string;
  /** Overrides chat.storage.migrations: `nlweb-chat migrate` applies them whatever the server is told. */
  readonly migrations?: SchemaMigrations;
  /** Opens the SQL and Redis stores for reading only (their readOnly option): `nlweb-chat migrate --check` changes nothing. */
  readonly readOnly?: boolean;
}

/**
 * Builds the configured provider. The store is returned unopened: call `await store.open()`
 * (which connects and runs migrations, or with chat.storage.migrations: require_current refuses a schema that needs
 * them) before use, and `close()` on shutdown.
 */
export function createStore(config: StorageConfig, options: CreateStoreOptions = {}): ChatStore {
  switch (config.backend) {
    case 'memory':
      return new MemoryStore({
        maxRecordsPerConversation: config.memory.max_records_per_conversation,
        maxRecordsTotal: config.memory.max_records_total,
        maxBytesTotal: config.memory.max_bytes_total,
      });
    case 'sqlite':
      return new SqliteStore({
        path: config.sqlite.path,
        busyTimeoutMs: config.sqlite.busy_timeout_ms,
        openBusyTimeoutMs: config.sqlite.open_busy_timeout_ms,
        migrations: options.migrations ?? config.migrations,
        readOnly: options.readOnly,
      });
    case 'postgres':
      return new PostgresStore({
        url: config.postgres.url,
        poolSize: config.postgres.pool_size,
        operationTimeoutMs: config.postgres.operation_timeout_ms,
        schema: options.postgresSchema ?? config.postgres.schema,
        applicationName: options.postgresApplicationName,
        preparedStatements: config.postgres.prepared_statements,
        migrations: options.migrations ?? config.migrations,
        readOnly: options.readOnly,
      });
    case 'redis':
      return new RedisStore({
        url: config.redis.url,
        keyPrefix: options.redisKeyPrefix ?? config.redis.key_prefix,
        operationTimeoutMs: config.redis.operation_timeout_ms,
        connectionName: options.redisConnectionName,
        migrations: options.migrations ?? config.migrations,
        readOnly: options.readOnly,
      });
    default:
      throw new ChatError('CONFIG_ERR_INVALID', `unknown storage backend ${String((config as { backend?: unknown }).backend)}`);
  }
}
