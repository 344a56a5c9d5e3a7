import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import {
  createPostgresAtVersion,
  createSqliteAtVersion,
  postgresSnapshot,
  sqliteSnapshot,
  type SqliteSnapshot,
} from '../storage/old-schemas';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';
import { runToExit, startServerProcess } from './server-process';

/**
 * chat.storage.migrations: require_current and `nlweb-chat migrate`, on the built binary (run `npm run build` first):
 * a server told not to migrate refuses a database of an older build and leaves it as it was; `migrate --check` lists
 * what is pending and changes nothing; `migrate` applies it, saying the version before and after; the server then
 * starts; `migrate` on a current database changes nothing.
 */

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

const CURRENT_SQLITE = SQLITE_MIGRATIONS.length;
const CURRENT_PG = PG_MIGRATIONS.length;
/** `2, 3`: the versions after `from` up to `to`, as the command lists them. */
const versionsAfter = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + 1 + i).join(', ');

/** Starts a server that must get ready, then stops it with SIGTERM: a clean shutdown (exit 0). */
async function serverStartsAndStops(env: Record<string, string>): Promise<void> {
  const server = await startServerProcess(env);
  try {
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  } finally {
    await server.kill();
  }
}

/** What a migration changes: the version and the tables (a no-op may still checkpoint the WAL into the file). */
function sqliteSchemaOf(snapshot: SqliteSnapshot): Omit<SqliteSnapshot, 'sha256'> {
  const { sha256: _bytes, ...schema } = snapshot;
  return schema;
}

describe('nlweb-chat migrate and chat.storage.migrations: require_current, SQLite file (server process)', () => {
  let dir: string;
  let file: string;
  let config: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-migrate-'));
    file = path.join(dir, 'chat.db');
    config = path.join(dir, 'config.yaml');
    writeFileSync(config, `chat:\n  storage:\n    backend: sqlite\n    migrations: require_current\n    sqlite: { path: '${file}' }\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the server refuses a version 1 file and leaves it as it was; --check lists the pending versions; migrate applies them; the server starts', async () => {
    createSqliteAtVersion(file, 1);
    const before = sqliteSnapshot(file);
    const env = { NLWEB_CHAT_CONFIG: config };

    const refused = await runToExit([], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).not.toContain('nlweb-chat ready');
    expect(refused.stderr).toBe(
      `nlweb-chat: start-up failed: STORAGE_ERR_SCHEMA_VERSION: sqlite database ${file} is at schema version 1, older than ` +
        `this build's ${CURRENT_SQLITE} (migrations: require_current, nothing was changed): apply versions 2 to ${CURRENT_SQLITE} ` +
        "with this build's `nlweb-chat migrate` (same storage settings), then open it again\n",
    );
    expect(sqliteSnapshot(file)).toEqual(before);

    expect(await runToExit(['migrate', '--check'], env)).toEqual({
      code: 2,
      stdout:
        `sqlite database ${file}: schema version 1, this build's ${CURRENT_SQLITE}: pending ${versionsAfter(1, CURRENT_SQLITE)} ` +
        '(nothing was changed; `nlweb-chat migrate` applies them)\n',
      stderr: '',
    });
    expect(sqliteSchemaOf(sqliteSnapshot(file))).toEqual(sqliteSchemaOf(before));

    expect(await runToExit(['migrate'], env)).toEqual({
      code: 0,
      stdout: `sqlite database ${file}: schema version before 1, after ${CURRENT_SQLITE} (applied ${versionsAfter(1, CURRENT_SQLITE)})\n`,
      stderr: '',
    });
    const migrated = sqliteSnapshot(file);
    expect(migrated).toMatchObject({ userVersion: CURRENT_SQLITE, messages: 3 });

    await serverStartsAndStops(env);

    // On a current file: nothing applied, nothing changed.
    const current = sqliteSnapshot(file);
    expect(await runToExit(['migrate'], env)).toEqual({
      code: 0,
      stdout: `sqlite database ${file}: schema version before ${CURRENT_SQLITE}, after ${CURRENT_SQLITE} (already this build's: nothing applied)\n`,
      stderr: '',
    });
    expect(sqliteSchemaOf(sqliteSnapshot(file))).toEqual(sqliteSchemaOf(current));
    expect(await runToExit(['migrate', '--check'], env)).toMatchObject({
      code: 0,
      stdout: `sqlite database ${file}: schema version ${CURRENT_SQLITE}, this build's ${CURRENT_SQLITE}: nothing pending\n`,
    });
  });

  it('a missing file: the server refuses and creates nothing, --check neither; migrate creates it; the default (apply) migrates at start', async () => {
    const env = { NLWEB_CHAT_CONFIG: config };
    const refused = await runToExit([], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`sqlite database ${file} holds no nlweb-chat tables (schema version 0`);
    expect(await runToExit(['migrate', '--check'], env)).toMatchObject({
      code: 2,
      stdout: expect.stringContaining(`: pending ${versionsAfter(0, CURRENT_SQLITE)} (`),
    });
    expect(existsSync(file)).toBe(false);
    expect(await runToExit(['migrate'], env)).toMatchObject({
      code: 0,
      stdout: `sqlite database ${file}: schema version before 0, after ${CURRENT_SQLITE} (applied ${versionsAfter(0, CURRENT_SQLITE)})\n`,
    });
    await serverStartsAndStops(env);

    // Without the setting a server still migrates at start, as `npm start` on a fresh machine needs.
    const other = path.join(dir, 'other.db');
    createSqliteAtVersion(other, 1);
    await serverStartsAndStops({ NLWEB_CHAT_STORAGE_BACKEND: 'sqlite', NLWEB_CHAT_SQLITE_PATH: other });
    expect(sqliteSnapshot(other).userVersion).toBe(CURRENT_SQLITE);
  });

  it('memory storage has nothing to migrate; a misspelt command is a usage error', async () => {
    const memory = { NLWEB_CHAT_STORAGE_BACKEND: 'memory' };
    for (const args of [['migrate'], ['migrate', '--check']]) {
      expect(await runToExit(args, memory)).toEqual({
        code: 0,
        stdout:
          "memory storage: nothing to migrate (it lives in the server's process and is created at this build's schema at each start)\n",
        stderr: '',
      });
    }
    expect(await runToExit(['migrat'], memory)).toEqual({
      code: 1,
      stdout: '',
      stderr: "nlweb-chat: CONFIG_ERR_INVALID: unknown command 'migrat' (the commands: serve, migrate)\n(add --help for usage)\n",
    });
  });
});

const reachable = pgReachableSync();

describeWithPg(reachable)('nlweb-chat migrate and NLWEB_CHAT_STORAGE_MIGRATIONS=require_current, PostgreSQL (server process)', () => {
  const schema = uniqueSchema();
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-migrate-pg-'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, `chat:\n  storage:\n    backend: postgres\n    postgres: { schema: ${schema} }\n`);
    env = { NLWEB_CHAT_CONFIG: config, NLWEB_CHAT_POSTGRES_URL: PG_URL, NLWEB_CHAT_STORAGE_MIGRATIONS: 'require_current' };
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (reachable) await dropSchema(schema);
  });

  it('the server refuses a version 1 schema and leaves it as it was; --check lists the pending versions; migrate applies them; the server starts', async () => {
    await createPostgresAtVersion(schema, 1);
    const before = await postgresSnapshot(schema);
    expect(before).toMatchObject({ versions: [1], messages: 3 });
    const where = `PostgreSQL schema ${schema} at ${PG_URL}`;

    const refused = await runToExit([], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).not.toContain('nlweb-chat ready');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^nlweb-chat: start-up failed: STORAGE_ERR_SCHEMA_VERSION: PostgreSQL schema ${schema} in database \\w+ is at schema ` +
          `version 1, older than this build's ${CURRENT_PG} \\(migrations: require_current, nothing was changed\\): apply ` +
          `versions 2 to ${CURRENT_PG} with this build's \`nlweb-chat migrate\` \\(same storage settings\\), then open it again\\n$`,
      ),
    );
    expect(await postgresSnapshot(schema)).toEqual(before);

    expect(await runToExit(['migrate', '--check'], env)).toEqual({
      code: 2,
      stdout: `${where}: schema version 1, this build's ${CURRENT_PG}: pending ${versionsAfter(1, CURRENT_PG)} (nothing was changed; \`nlweb-chat migrate\` applies them)\n`,
      stderr: '',
    });
    expect(await postgresSnapshot(schema)).toEqual(before);

    expect(await runToExit(['migrate'], env)).toEqual({
      code: 0,
      stdout: `${where}: schema version before 1, after ${CURRENT_PG} (applied ${versionsAfter(1, CURRENT_PG)})\n`,
      stderr: '',
    });
    const migrated = await postgresSnapshot(schema);
    expect(migrated).toMatchObject({ versions: PG_MIGRATIONS.map((_, i) => i + 1), messages: 3 });

    await serverStartsAndStops(env);

    expect(await runToExit(['migrate'], env)).toEqual({
      code: 0,
      stdout: `${where}: schema version before ${CURRENT_PG}, after ${CURRENT_PG} (already this build's: nothing applied)\n`,
      stderr: '',
    });
    expect(await postgresSnapshot(schema)).toEqual(migrated);
  });
});
