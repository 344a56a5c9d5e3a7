import { Client } from 'pg';
import { ChatError } from '../../actors/errors';
import { postgresDatabaseName, quoteSchema } from '../../storage-providers/postgres-migrations';

/** As long as the provider waits for a connection by default (PostgresStoreOptions.connectTimeoutMs). */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Refuses a PostgreSQL schema that holds no nlweb-chat tables, before the provider is opened, naming the schema and
 * database and pointing at `?schema=`: a mistyped one (or a database the server never used) is the usual cause. The
 * provider, opened read-only, would refuse it too (STORAGE_ERR_SCHEMA_VERSION, version 0) and creates nothing; before
 * it opened read-only, its migrations created the schema and empty tables in the database being investigated. The
 * SQLite spec refuses a missing file the same way. Throws STORAGE_ERR_UNAVAILABLE.
 */
export async function assertPostgresJournalExists(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'nlweb-chat-replay' });
  // An error after connecting (the server going away) must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new ChatError('STORAGE_ERR_UNAVAILABLE', `cannot reach PostgreSQL: ${(err as Error).message}`, { cause: err });
  }
  try {
    // The provider writes nlweb_chat_migrations first and in the same transaction as the tables (postgres-migrations.ts).
    const { rows } = await client.query<{ journal_table: string | null; database: string }>(
      'SELECT to_regclass($1)::text AS journal_table, current_database() AS database',
      [`${quoteSchema(schema)}.nlweb_chat_migrations`],
    );
    if (rows[0]?.journal_table == null) {
      throw new ChatError(
        'STORAGE_ERR_UNAVAILABLE',
        `${postgresDatabaseName(schema, rows[0]?.database ?? '?')} holds no nlweb-chat journal (no table ${schema}.nlweb_chat_migrations): ` +
          'check ?schema= (default public); the replay CLI creates nothing',
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
