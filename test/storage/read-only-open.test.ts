import fs from 'node:fs';
import path from 'node:path';
import { isChatError } from '../../actors/errors';
import { PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { expectCode } from '../../testing';
import type { ChatStore } from '../../storage-providers/chat-store';
import { meta, msg, msgs } from '../../testing/store-contract/fixtures';
import {
  addPostgresVersion,
  createPostgresAtVersion,
  createSqliteAtVersion,
  postgresSnapshot,
  setSqliteVersion,
  sqliteSnapshot,
} from './old-schemas';
import { describeWithPg, pgReachableSync } from './pg-helpers';
import { openError, pgStoresPerTest, sqliteStoresPerTest } from './store-open-fixtures';

/**
 * `readOnly: true` (the replay CLI's open): a database at another schema version than this build's is refused with
 * STORAGE_ERR_SCHEMA_VERSION and left exactly as it was (not migrated, not created); a current one is read, while a
 * server writes to it, and cannot be written through the reader.
 */

const CURRENT_SQLITE = SQLITE_MIGRATIONS.length;
const CURRENT_PG = PG_MIGRATIONS.length;

/**
 * A server (read-write) writes c1 while a reader (read-only) of the same database reads it: the reader sees each
 * commit and holds no lock the server waits for; its own write fails with the database's reason (`refusal`).
 */
async function readWhileServerWrites<S extends ChatStore>(
  make: (readOnly: boolean) => S,
  refusal: RegExp,
): Promise<{ server: S; reader: S }> {
  const server = make(false);
  await server.open();
  await server.createConversation(meta('c1'));
  await server.appendMessages('c1', msgs('c1', 1, 3));
  const reader = make(true);
  await reader.open();
  expect(await reader.getConversation('c1')).toEqual(meta('c1'));
  expect(await reader.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
  await server.appendMessages('c1', [msg('c1', 4)]);
  expect(await reader.lastSequenceId('c1')).toBe(4);
  let refused: unknown;
  await reader.appendMessages('c1', [msg('c1', 5)]).catch((err: unknown) => (refused = err));
  expect(isChatError(refused, 'STORAGE_ERR_UNAVAILABLE') && refusal.test(refused.message)).toBe(true);
  expect(await server.lastSequenceId('c1')).toBe(4);
  return { server, reader };
}

describe('sqlite opened readOnly', () => {
  const sqlite = sqliteStoresPerTest('nlweb-chat-read-only-');
  const make = (readOnly: boolean) => sqlite.make({ readOnly });

  test('a version 1 file is refused with both versions and left exactly as it was', async () => {
    createSqliteAtVersion(sqlite.file, 1);
    const before = sqliteSnapshot(sqlite.file);
    expect(before).toMatchObject({ userVersion: 1, messages: 3 });
    const store = make(true);
    const error = await openError(store);
    expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(error.details).toEqual({ found_version: 1, expected_version: CURRENT_SQLITE });
    expect(error.message).toBe(
      `sqlite database ${sqlite.file} is at schema version 1, older than this build's ${CURRENT_SQLITE} (opened read-only, nothing was changed): ` +
        'read it with the build that wrote it, or migrate it first with this build: `nlweb-chat migrate` with the ' +
        "server's storage settings (its server also does at start, unless chat.storage.migrations is require_current)",
    );
    expect(store.isOpen).toBe(false);
    expect(sqliteSnapshot(sqlite.file)).toEqual(before);
    // What the message advises: a read-write open migrates it, and the reader then opens.
    const server = make(false);
    await server.open();
    await server.close();
    expect(sqliteSnapshot(sqlite.file).userVersion).toBe(CURRENT_SQLITE);
    const reader = make(true);
    await reader.open();
    expect(await reader.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
  });

  test('a file of a newer build is refused, read-only or not, and left as it was', async () => {
    createSqliteAtVersion(sqlite.file, CURRENT_SQLITE);
    setSqliteVersion(sqlite.file, CURRENT_SQLITE + 1);
    const before = sqliteSnapshot(sqlite.file);
    for (const readOnly of [true, false]) {
      const error = await openError(make(readOnly));
      expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
      expect(error.details).toEqual({ found_version: CURRENT_SQLITE + 1, expected_version: CURRENT_SQLITE });
      expect(error.message).toContain(`is at schema version ${CURRENT_SQLITE + 1}, newer than this build's ${CURRENT_SQLITE}`);
    }
    expect(sqliteSnapshot(sqlite.file)).toEqual(before);
  });

  test('a SQLite file without nlweb-chat tables is version 0: refused, nothing created in it; a missing file is not created', async () => {
    createSqliteAtVersion(sqlite.file, 0);
    const before = sqliteSnapshot(sqlite.file);
    const error = await openError(make(true));
    expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(error.details).toEqual({ found_version: 0, expected_version: CURRENT_SQLITE });
    expect(error.message).toContain('holds no nlweb-chat tables (schema version 0');
    expect(sqliteSnapshot(sqlite.file)).toEqual(before);

    const missing = path.join(sqlite.dir, 'sub', 'missing.db');
    await expectCode(new SqliteStore({ path: missing, readOnly: true }).open(), 'STORAGE_ERR_UNAVAILABLE');
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });

  test('a current file is read while a server writes to it; writes through the reader fail', async () => {
    await readWhileServerWrites(make, /readonly/);
  });
});

const reachable = pgReachableSync();

describeWithPg(reachable)('postgres opened readOnly', () => {
  const pg = pgStoresPerTest();
  const make = (readOnly: boolean) => pg.make({ readOnly });

  test('a version 1 schema is refused with both versions and left exactly as it was', async () => {
    await createPostgresAtVersion(pg.schema, 1);
    const before = await postgresSnapshot(pg.schema);
    expect(before).toMatchObject({ schemaExists: true, versions: [1], messages: 3 });
    const store = make(true);
    const error = await openError(store);
    expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(error.details).toEqual({ found_version: 1, expected_version: CURRENT_PG });
    expect(error.message).toMatch(
      new RegExp(
        `^PostgreSQL schema ${pg.schema} in database \\w+ is at schema version 1, older than this build's ${CURRENT_PG} ` +
          '\\(opened read-only, nothing was changed\\): read it with the build that wrote it, or migrate it first',
      ),
    );
    expect(store.isOpen).toBe(false);
    expect(await postgresSnapshot(pg.schema)).toEqual(before);
    const server = make(false);
    await server.open();
    expect((await postgresSnapshot(pg.schema)).versions).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    const reader = make(true);
    await reader.open();
    expect(await reader.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
  });

  test('a schema of a newer build is refused, read-only or not, and left as it was', async () => {
    await createPostgresAtVersion(pg.schema, CURRENT_PG);
    await addPostgresVersion(pg.schema, CURRENT_PG + 1);
    const before = await postgresSnapshot(pg.schema);
    for (const readOnly of [true, false]) {
      const error = await openError(make(readOnly));
      expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
      expect(error.details).toEqual({ found_version: CURRENT_PG + 1, expected_version: CURRENT_PG });
      expect(error.message).toContain(`is at schema version ${CURRENT_PG + 1}, newer than this build's ${CURRENT_PG}`);
    }
    expect(await postgresSnapshot(pg.schema)).toEqual(before);
  });

  test('a schema that does not exist is version 0: refused and not created', async () => {
    const error = await openError(make(true));
    expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(error.details).toEqual({ found_version: 0, expected_version: CURRENT_PG });
    expect(error.message).toContain(`PostgreSQL schema ${pg.schema} in database`);
    expect(error.message).toContain('holds no nlweb-chat tables (schema version 0');
    expect((await postgresSnapshot(pg.schema)).schemaExists).toBe(false);
  });

  test('a current schema is read while a server writes to it; writes through the reader fail', async () => {
    const { server, reader } = await readWhileServerWrites(make, /read-only transaction/);
    await expectCode(reader.setSequenceReservation('c1', 50), 'STORAGE_ERR_UNAVAILABLE');
    expect(await server.lastSequenceId('c1')).toBe(4);
    expect(await server.getSequenceReservation('c1')).toBe(0);
  });
});
