import type Database from 'better-sqlite3';
import { schemaVersionError, type SchemaOpenMode } from './schema-version';

/**
 * SQLite schema migrations. migrations[i] upgrades the schema from version i to i + 1; the current
 * version lives in PRAGMA user_version (in the database header, written in the same transaction
 * as the DDL), so a crash mid-migration leaves the previous version and running twice is a no-op.
 * Append new migrations; never edit a released one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE conversations (
    conversation_id TEXT NOT NULL PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX conversations_created_at ON conversations (created_at);

  CREATE TABLE participants (
    conversation_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    participant_type TEXT NOT NULL,
    display_name TEXT NOT NULL,
    joined_at_sequence INTEGER NOT NULL,
    role TEXT NOT NULL,
    agent_id TEXT,
    has_left INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, participant_id)
  ) WITHOUT ROWID;
  CREATE INDEX participants_by_user ON participants (participant_id);

  -- A rowid table: message rows can be large, which WITHOUT ROWID handles poorly.
  CREATE TABLE messages (
    conversation_id TEXT NOT NULL,
    sequence_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_type TEXT NOT NULL,
    message_type TEXT NOT NULL,
    content TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (conversation_id, sequence_id),
    UNIQUE (conversation_id, sender_id, message_id)
  );
  `,
  // v2: the conversation actor's sequence reservation (the highest id it may have handed out). A
  // column of the conversation row, so deleting the conversation removes it. ADD COLUMN with a
  // constant default changes only the schema text, not the stored rows (instant on big files).
  `
  ALTER TABLE conversations ADD COLUMN sequence_reservation INTEGER NOT NULL DEFAULT 0;
  `,
  // v3: conversation claims (storage-providers/conversation-claims.ts). Columns of the conversation row,
  // as in PostgreSQL: appends read the epoch from the row they already check for existence, inside the
  // same IMMEDIATE transaction, and deleting the conversation removes its claim. owner_expires_at is
  // epoch ms (the store's clock). The partial index serves renewClaims without indexing unclaimed rows.
  `
  ALTER TABLE conversations ADD COLUMN owner_id TEXT;
  ALTER TABLE conversations ADD COLUMN owner_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE conversations ADD COLUMN owner_expires_at INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE conversations ADD COLUMN owner_address TEXT;
  CREATE INDEX conversations_owner ON conversations (owner_id) WHERE owner_id IS NOT NULL;
  `,
  // v4: members' read positions (storage-providers/read-positions.ts): a column of the participant row, so a member
  // has one, deleting the conversation removes them and a re-join (an upsert that sets other columns) keeps it. A
  // constant default: only the schema text changes. Not a table of messages: a read position is no record.
  `
  ALTER TABLE participants ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
  `,
];

/**
 * Brings the database to the newest schema version; returns the version it found.
 * `migrations` exists for tests, which build databases at an older version with a prefix of the list.
 */
export function migrateSqlite(db: Database.Database, migrations: readonly string[] = SQLITE_MIGRATIONS): number {
  let found = 0;
  // IMMEDIATE takes the write lock first, so two processes starting together migrate one after the other.
  db.transaction(() => {
    found = db.pragma('user_version', { simple: true }) as number;
    if (found > migrations.length) throw schemaVersionError(sqliteDatabaseName(db.name), found, migrations.length, 'migrating');
    for (let v = found; v < migrations.length; v++) db.exec(migrations[v]);
    if (found !== migrations.length) db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
  return found;
}

/**
 * For a store that does not migrate (opened read-only, or read-write with migrations: require_current): refuses a
 * database at any other schema version than this build's (an older one is not migrated, a file without nlweb-chat
 * tables is version 0); returns the version. Reads PRAGMA user_version and nothing else.
 */
export function assertSqliteSchemaCurrent(
  db: Database.Database,
  mode: Exclude<SchemaOpenMode, 'migrating'>,
  expected: number = SQLITE_MIGRATIONS.length,
): number {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found !== expected) throw schemaVersionError(sqliteDatabaseName(db.name), found, expected, mode);
  return found;
}

/** How refusals name a SQLite file: the path as configured. */
export function sqliteDatabaseName(file: string): string {
  return `sqlite database ${file}`;
}
