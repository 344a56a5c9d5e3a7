import type { ClientBase } from 'pg';
import { ChatError } from '../actors/errors';
import { schemaVersionError, type SchemaOpenMode } from './schema-version';

/**
 * PostgreSQL schema migrations. PG_MIGRATIONS[i] upgrades version i to i + 1 with its row in nlweb_chat_migrations.
 * migratePostgres runs the version check and every pending migration in one transaction (PostgreSQL DDL is
 * transactional), so a crash leaves the version found. Its advisory lock is the transaction's, which serialises
 * concurrent startups (several server processes, parallel test files) and makes migrating safe to run twice or at
 * the same time, also through a pooler in transaction mode (PgBouncer), which keeps a transaction on one server
 * connection but not a session. A migration must therefore be able to run in a transaction (no CREATE INDEX
 * CONCURRENTLY, no ALTER TYPE ... ADD VALUE on PostgreSQL < 12).
 * Append new migrations; never edit a released one. `s` is the quoted schema name.
 */
export const PG_MIGRATIONS: ReadonlyArray<(s: string) => string> = [
  (s) => `
  CREATE TABLE ${s}.conversations (
    conversation_id text COLLATE "C" NOT NULL CONSTRAINT nlweb_conversations_pk PRIMARY KEY,
    title text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    created_by text NOT NULL,
    settings jsonb NOT NULL,
    status text NOT NULL
  );
  CREATE INDEX nlweb_conversations_created_at ON ${s}.conversations (created_at);

  CREATE TABLE ${s}.participants (
    conversation_id text COLLATE "C" NOT NULL,
    participant_id text COLLATE "C" NOT NULL,
    participant_type text NOT NULL,
    display_name text NOT NULL,
    joined_at_sequence bigint NOT NULL,
    role text NOT NULL,
    agent_id text,
    has_left boolean NOT NULL DEFAULT false,
    CONSTRAINT nlweb_participants_pk PRIMARY KEY (conversation_id, participant_id)
  );
  CREATE INDEX nlweb_participants_by_user ON ${s}.participants (participant_id);

  CREATE TABLE ${s}.messages (
    conversation_id text COLLATE "C" NOT NULL,
    sequence_id bigint NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    sender_id text COLLATE "C" NOT NULL,
    sender_type text NOT NULL,
    message_type text NOT NULL,
    content text NOT NULL,
    timestamp text NOT NULL,
    metadata jsonb NOT NULL,
    CONSTRAINT nlweb_messages_sequence_pk PRIMARY KEY (conversation_id, sequence_id),
    CONSTRAINT nlweb_messages_sender_message_uq UNIQUE (conversation_id, sender_id, message_id)
  );
  `,
  // v2: the conversation actor's sequence reservation (the highest id it may have handed out). A
  // column of the conversation row, so deleting the conversation removes it. A constant default
  // makes ADD COLUMN a catalog-only change (PostgreSQL >= 11): no table rewrite, a brief lock.
  (s) => `
  ALTER TABLE ${s}.conversations ADD COLUMN sequence_reservation bigint NOT NULL DEFAULT 0;
  `,
  // v3: conversation claims (storage-providers/conversation-claims.ts). Columns of the conversation row,
  // not a table of their own: appends already lock that row (FOR UPDATE) for the contiguity check, so
  // the fence is checked under the lock a claim's UPDATE also needs (claims and appends serialise on one
  // row, no second lock, no deadlock order to keep), and deleting the conversation removes its claim.
  // Constant defaults keep ADD COLUMN catalog-only. owner_expires_at is epoch ms on the database clock.
  // The partial index serves renewClaims (owner_id = $1) without indexing unclaimed conversations;
  // a renewal changes only owner_expires_at, which no index covers (HOT updates stay possible).
  (s) => `
  ALTER TABLE ${s}.conversations
    ADD COLUMN owner_id text COLLATE "C",
    ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0,
    ADD COLUMN owner_expires_at bigint NOT NULL DEFAULT 0,
    ADD COLUMN owner_address text;
  CREATE INDEX nlweb_conversations_owner ON ${s}.conversations (owner_id) WHERE owner_id IS NOT NULL;
  `,
  // v4: members' read positions (storage-providers/read-positions.ts): a column of the participant row, so a member
  // has one, deleting the conversation removes them and a re-join (an upsert that sets other columns) keeps it. A
  // constant default keeps ADD COLUMN catalog-only. Not a table of messages: a read position is no record.
  (s) => `
  ALTER TABLE ${s}.participants ADD COLUMN read_up_to bigint NOT NULL DEFAULT 0;
  `,
];

/** Quotes a validated schema name for use in SQL text. */
export function quoteSchema(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  }
  return `"${schema}"`;
}

/**
 * Brings `schema` to the newest version; returns the version found. Runs on one dedicated client (pooled or not), as
 * one transaction: the lock, the schema and version table (created when missing), the version check and the pending
 * migrations commit together or not at all. `migrations` exists for tests, which build schemas at an older version
 * with a prefix of the list.
 */
export async function migratePostgres(
  client: ClientBase,
  schema: string,
  migrations: ReadonlyArray<(s: string) => string> = PG_MIGRATIONS,
): Promise<number> {
  const s = quoteSchema(schema);
  // READ COMMITTED whatever the server's default: each statement after the lock sees what the migrator before it
  // committed. Under REPEATABLE READ the snapshot would be taken by the lock's statement, before its wait.
  await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  try {
    // The same key as the session lock of earlier builds, so a server of either kind waits for the other's migration.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nlweb_chat_migrations:${schema}`]);
    if (schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.nlweb_chat_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number; database: string }>(
      `SELECT COALESCE(MAX(version), 0) AS v, current_database() AS database FROM ${s}.nlweb_chat_migrations`,
    );
    const found = Number(rows[0].v);
    if (found > migrations.length) {
      throw schemaVersionError(postgresDatabaseName(schema, rows[0].database), found, migrations.length, 'migrating');
    }
    for (let v = found; v < migrations.length; v++) {
      await client.query(migrations[v](s));
      await client.query(`INSERT INTO ${s}.nlweb_chat_migrations (version) VALUES ($1)`, [v + 1]);
    }
    await client.query('COMMIT');
    return found;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * For a store that does not migrate (opened read-only, or read-write with migrations: require_current): refuses
 * `schema` unless it is at this build's version; returns the version. Only reads (no lock, no CREATE): a schema
 * without nlweb_chat_migrations, or one that does not exist, is version 0. A migration running meanwhile commits its
 * tables together with its version row, so the version read matches the tables seen.
 */
export async function assertPostgresSchemaCurrent(
  client: ClientBase,
  schema: string,
  mode: Exclude<SchemaOpenMode, 'migrating'>,
  expected: number = PG_MIGRATIONS.length,
): Promise<number> {
  const s = quoteSchema(schema);
  const { rows } = await client.query<{ journal: string | null; database: string }>(
    'SELECT to_regclass($1)::text AS journal, current_database() AS database',
    [`${s}.nlweb_chat_migrations`],
  );
  const { journal, database } = rows[0];
  const found =
    journal === null ? 0 : Number((await client.query(`SELECT COALESCE(MAX(version), 0) AS v FROM ${s}.nlweb_chat_migrations`)).rows[0].v);
  if (found !== expected) throw schemaVersionError(postgresDatabaseName(schema, database), found, expected, mode);
  return found;
}

/** How refusals name a PostgreSQL schema: with its database, which the URL alone may not make plain. */
export function postgresDatabaseName(schema: string, database: string): string {
  return `PostgreSQL schema ${schema} in database ${database}`;
}
