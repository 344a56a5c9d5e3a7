import fs from 'node:fs';
import path from 'node:path';
import { PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import { PostgresStore, SqliteStore } from '../../storage-providers';
import { meta, msg, msgs } from '../../testing/store-contract/fixtures';
import { createPostgresAtVersion, createSqliteAtVersion, postgresSnapshot, sqliteSnapshot } from '../storage/old-schemas';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';
import { makeTmpDir, runCli } from './replay-fixtures';

/**
 * The replay CLI reads a database a server owns, often a production one: it opens it read-only. A newer CLI pointed
 * at a database of an older build used to migrate it (the database under investigation changed); it now exits 1
 * naming both versions, and the database is left exactly as it was. A current database is read, also while a
 * server has it open and writes to it.
 */

const COMMANDS = (storage: string) => [
  ['c1', '--storage', storage, '--check'],
  ['export', 'c1', '--storage', storage],
  ['list', '--storage', storage],
];

describe('replay CLI on SQLite files of another schema version (CLI process)', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTmpDir();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a version 1 file: exit 1 with STORAGE_ERR_SCHEMA_VERSION naming both versions, the file left as it was (replay, export, list)', async () => {
    const file = path.join(dir, 'chat.db');
    createSqliteAtVersion(file, 1);
    const before = sqliteSnapshot(file);
    for (const args of COMMANDS(`sqlite:${file}`)) {
      expect(await runCli(args)).toEqual({
        code: 1,
        stdout: '',
        stderr:
          `replay: STORAGE_ERR_SCHEMA_VERSION: sqlite database ${file} is at schema version 1, older than this build's ` +
          `${SQLITE_MIGRATIONS.length} (opened read-only, nothing was changed): read it with the build that wrote it, or migrate it ` +
          "first with this build: `nlweb-chat migrate` with the server's storage settings (its server also does at start, unless " +
          'chat.storage.migrations is require_current)\n',
      });
    }
    expect(sqliteSnapshot(file)).toEqual(before);
  });

  it('a current file is replayed while a server has it open and writes to it', async () => {
    const file = path.join(dir, 'chat.db');
    const server = new SqliteStore({ path: file });
    await server.open();
    try {
      await server.createConversation(meta('c1'));
      await server.appendMessages('c1', msgs('c1', 1, 3));
      const first = await runCli(['list', '--storage', `sqlite:${file}`]);
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(/^c1\t\S+\tactive\t3 records\ttitle of c1$/m);
      await server.appendMessages('c1', [msg('c1', 4)]);
      const again = await runCli(['export', 'c1', '--storage', `sqlite:${file}`]);
      expect(again.code).toBe(0);
      expect(again.stdout.trim().split('\n')).toHaveLength(1 + 4);
      // The reader left the server's file writable: the server goes on.
      await server.appendMessages('c1', [msg('c1', 5)]);
      expect(await server.lastSequenceId('c1')).toBe(5);
    } finally {
      await server.close();
    }
  });
});

const reachable = pgReachableSync();

describeWithPg(reachable)('replay CLI on a PostgreSQL schema of an older version (CLI process)', () => {
  const schema = uniqueSchema();
  const spec = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  afterAll(async () => {
    if (reachable) await dropSchema(schema);
  });

  it('exits 1 naming both versions and leaves the schema as it was; once a server migrated it, it replays', async () => {
    await createPostgresAtVersion(schema, 1);
    const before = await postgresSnapshot(schema);
    expect(before.versions).toEqual([1]);
    for (const args of COMMANDS(spec)) {
      const out = await runCli(args);
      expect(out).toMatchObject({ code: 1, stdout: '' });
      expect(out.stderr).toMatch(
        new RegExp(
          `^replay: STORAGE_ERR_SCHEMA_VERSION: PostgreSQL schema ${schema} in database \\w+ is at schema version 1, older than ` +
            `this build's ${PG_MIGRATIONS.length} \\(opened read-only, nothing was changed\\): read it with the build that wrote it, ` +
            "or migrate it first with this build: `nlweb-chat migrate` with the server's storage settings \\(its server also " +
            'does at start, unless chat\\.storage\\.migrations is require_current\\)\\n$',
        ),
      );
    }
    expect(await postgresSnapshot(schema)).toEqual(before);

    // What the message advises: a server of this build opens (migrates) it, then the CLI reads it.
    const server = new PostgresStore({ url: PG_URL, schema, poolSize: 1 });
    await server.open();
    await server.close();
    const out = await runCli(['export', 'c1', '--storage', spec]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(
      out.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => JSON.parse(line)),
    ).toEqual(msgs('c1', 1, 3));
  });
});
