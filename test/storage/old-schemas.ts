import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { migratePostgres, PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import { meta, msgs } from '../../testing/store-contract/fixtures';
import { withClient } from './pg-helpers';

/**
 * Databases as an older build left them (the first `version` migrations, one conversation of three records written
 * with version 1's columns), and what a reader may not change in them: the snapshots compare everything a migration
 * or a stray write would touch.
 */

const conversationRow = () => {
  const c = meta('c1');
  return [c.conversation_id, c.title, c.created_at, c.created_by, JSON.stringify(c.settings), c.status];
};
/** c1's three records as rows of version 1's messages table, in its column order. */
export const v1MessageRows = () =>
  msgs('c1', 1, 3).map((m) => [
    m.conversation_id,
    m.sequence_id,
    m.message_id,
    m.sender_id,
    m.sender_type,
    m.message_type,
    m.content,
    m.timestamp,
    JSON.stringify(m.metadata),
  ]);

/** A SQLite file at schema `version`, in WAL mode as a server leaves it, closed (so its WAL is checkpointed). */
export function createSqliteAtVersion(file: string, version: number): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    migrateSqlite(db, SQLITE_MIGRATIONS.slice(0, version));
    if (version >= 1) {
      db.prepare(
        'INSERT INTO conversations (conversation_id, title, created_at, created_by, settings, status) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(...conversationRow());
      const insert = db.prepare(
        'INSERT INTO messages (conversation_id, sequence_id, message_id, sender_id, sender_type, message_type, content, timestamp, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const row of v1MessageRows()) insert.run(...row);
    }
  } finally {
    db.close();
  }
}

/** Marks a closed SQLite file as written by a newer build (its schema version past this build's). */
export function setSqliteVersion(file: string, version: number): void {
  const db = new Database(file);
  try {
    db.pragma(`user_version = ${version}`);
  } finally {
    db.close();
  }
}

export interface SqliteSnapshot {
  readonly sha256: string;
  readonly userVersion: number;
  readonly schema: unknown[];
  readonly messages: number;
}

/** The main file's bytes (hash), its schema version, tables, columns and indexes, read through a read-only connection. */
export function sqliteSnapshot(file: string): SqliteSnapshot {
  const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const schema = db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all();
    const hasMessages = schema.some((row) => (row as { name: string }).name === 'messages');
    return {
      sha256,
      userVersion: db.pragma('user_version', { simple: true }) as number,
      schema,
      messages: hasMessages ? (db.prepare('SELECT COUNT(*) FROM messages').pluck().get() as number) : 0,
    };
  } finally {
    db.close();
  }
}

/** A PostgreSQL schema at `version`, with one conversation of three records. */
export async function createPostgresAtVersion(schema: string, version: number): Promise<void> {
  await withClient(async (c) => {
    await migratePostgres(c, schema, PG_MIGRATIONS.slice(0, version));
    const s = `"${schema}"`;
    await c.query(
      `INSERT INTO ${s}.conversations (conversation_id, title, created_at, created_by, settings, status) VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
      conversationRow(),
    );
    for (const row of v1MessageRows()) {
      await c.query(
        `INSERT INTO ${s}.messages (conversation_id, sequence_id, message_id, sender_id, sender_type, message_type, content, timestamp, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
        row,
      );
    }
  });
}

/** Records `version` as applied, as a newer build's migration would. */
export async function addPostgresVersion(schema: string, version: number): Promise<void> {
  await withClient((c) => c.query(`INSERT INTO "${schema}".nlweb_chat_migrations (version) VALUES ($1)`, [version]));
}

export interface PostgresSnapshot {
  readonly schemaExists: boolean;
  readonly versions: number[];
  readonly columns: unknown[];
  readonly indexes: unknown[];
  readonly messages: number;
}

/** Whether the schema exists, its applied versions, every column and index of its tables, its record count. */
export async function postgresSnapshot(schema: string): Promise<PostgresSnapshot> {
  return withClient(async (c) => {
    const schemaExists = (await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount === 1;
    const tables = (
      await c.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1', [schema])
    ).rows.map((r) => r.name);
    const columns = (
      await c.query(
        'SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 ORDER BY 1, 2',
        [schema],
      )
    ).rows;
    const indexes = (await c.query('SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2', [schema]))
      .rows;
    const versions = tables.includes('nlweb_chat_migrations')
      ? (await c.query<{ version: number }>(`SELECT version FROM "${schema}".nlweb_chat_migrations ORDER BY version`)).rows.map(
          (r) => r.version,
        )
      : [];
    const messages = tables.includes('messages') ? Number((await c.query(`SELECT COUNT(*) AS n FROM "${schema}".messages`)).rows[0].n) : 0;
    return { schemaExists, versions, columns, indexes, messages };
  });
}
