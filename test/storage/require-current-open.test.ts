import fs from 'node:fs';
import path from 'node:path';
import { PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
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
 * `migrations: 'require_current'` (config chat.storage.migrations, for replicas sharing one database or deployments
 * that migrate in a step of their own): a read-write open that migrates and creates nothing. A database at another
 * version than this build's is refused with STORAGE_ERR_SCHEMA_VERSION, naming both versions and `nlweb-chat
 * migrate`, and left exactly as it was; a current one is read and written as usual.
 */

const CURRENT_SQLITE = SQLITE_MIGRATIONS.length;
const CURRENT_PG = PG_MIGRATIONS.length;

describe('sqlite with migrations: require_current', () => {
  const sqlite = sqliteStoresPerTest('nlweb-chat-require-current-');
  const make = (migrations: 'apply' | 'require_current', at = sqlite.file) => sqlite.make({ path: at, migrations });

  test('a version 1 file is refused with both versions and the migrate command, left as it was; once migrated it opens read-write', async () => {
    createSqliteAtVersion(sqlite.file, 1);
    const before = sqliteSnapshot(sqlite.file);
    const store = make('require_current');
    const error = await openError(store);
    expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(error.details).toEqual({ found_version: 1, expected_version: CURRENT_SQLITE });
    expect(error.message).toBe(
      `sqlite database ${sqlite.file} is at schema version 1, older than this build's ${CURRENT_SQLITE} ` +
        `(migrations: require_current, nothing was changed): apply versions 2 to ${CURRENT_SQLITE} with this build's \`nlweb-chat migrate\` ` +
        '(same storage settings), then open it again',
    );
    expect(store.isOpen).toBe(false);
    expect(sqliteSnapshot(sqlite.file)).toEqual(before);

    const migrator = make('apply');
    await migrator.open();
    expect(migrator.schemaVersionFound).toBe(1);
    await migrator.close();

    const server = make('require_current');
    await server.open();
    expect(server.schemaVersionFound).toBe(CURRENT_SQLITE);
    expect(await server.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
    await server.appendMessages('c1', [msg('c1', 4)]);
    expect(await server.lastSequenceId('c1')).toBe(4);
  });

  test('a missing file is version 0: refused, neither it nor its directory created', async () => {
    const missing = path.join(sqlite.dir, 'sub', 'chat.db');
    const error = await openError(make('require_current', missing));
    expect(error.details).toEqual({ found_version: 0, expected_version: CURRENT_SQLITE });
    expect(error.message).toBe(
      `sqlite database ${missing} holds no nlweb-chat tables (schema version 0, this build's is ${CURRENT_SQLITE}; ` +
        "migrations: require_current, nothing was changed): create them with this build's `nlweb-chat migrate` " +
        '(same storage settings), or check which database you named',
    );
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });

  test("a newer file is refused and left as it was; a volatile database is this process's own and opens", async () => {
    createSqliteAtVersion(sqlite.file, CURRENT_SQLITE);
    setSqliteVersion(sqlite.file, CURRENT_SQLITE + 1);
    const before = sqliteSnapshot(sqlite.file);
    const error = await openError(make('require_current'));
    expect(error.details).toEqual({ found_version: CURRENT_SQLITE + 1, expected_version: CURRENT_SQLITE });
    expect(error.message).toContain(`newer than this build's ${CURRENT_SQLITE} (migrations: require_current, nothing was changed)`);
    expect(sqliteSnapshot(sqlite.file)).toEqual(before);

    const volatile = make('require_current', ':memory:');
    await volatile.open();
    expect(volatile.schemaVersionFound).toBe(0);
    await volatile.createConversation(meta('c1'));
  });
});

const reachable = pgReachableSync();

describeWithPg(reachable)('postgres with migrations: require_current', () => {
  const pg = pgStoresPerTest();
  const make = (migrations: 'apply' | 'require_current') => pg.make({ migrations });

  test('a version 1 schema is refused with both versions and the migrate command, left as it was; once migrated it opens read-write', async () => {
    await createPostgresAtVersion(pg.schema, 1);
    const before = await postgresSnapshot(pg.schema);
    expect(before).toMatchObject({ versions: [1], messages: 3 });
    const store = make('require_current');
    const error = await openError(store);
    expect(error.code).toBe('STORAGE_ERR_SCHEMA_VERSION');
    expect(error.details).toEqual({ found_version: 1, expected_version: CURRENT_PG });
    expect(error.message).toMatch(
      new RegExp(
        `^PostgreSQL schema ${pg.schema} in database \\w+ is at schema version 1, older than this build's ${CURRENT_PG} ` +
          `\\(migrations: require_current, nothing was changed\\): apply versions 2 to ${CURRENT_PG} with this build's \`nlweb-chat migrate\``,
      ),
    );
    expect(await postgresSnapshot(pg.schema)).toEqual(before);

    const migrator = make('apply');
    await migrator.open();
    expect(migrator.schemaVersionFound).toBe(1);
    await migrator.close();

    const server = make('require_current');
    await server.open();
    expect(server.schemaVersionFound).toBe(CURRENT_PG);
    await server.appendMessages('c1', [msg('c1', 4)]);
    expect(await server.readMessages('c1', 0, 10)).toEqual([...msgs('c1', 1, 3), msg('c1', 4)]);
  });

  test('a missing schema is version 0: refused and not created; a newer one refused and left as it was', async () => {
    const error = await openError(make('require_current'));
    expect(error.details).toEqual({ found_version: 0, expected_version: CURRENT_PG });
    expect(error.message).toContain(
      `holds no nlweb-chat tables (schema version 0, this build's is ${CURRENT_PG}; migrations: require_current`,
    );
    expect((await postgresSnapshot(pg.schema)).schemaExists).toBe(false);

    await createPostgresAtVersion(pg.schema, CURRENT_PG);
    await addPostgresVersion(pg.schema, CURRENT_PG + 1);
    const before = await postgresSnapshot(pg.schema);
    const newer = await openError(make('require_current'));
    expect(newer.details).toEqual({ found_version: CURRENT_PG + 1, expected_version: CURRENT_PG });
    expect(await postgresSnapshot(pg.schema)).toEqual(before);
  });
});
