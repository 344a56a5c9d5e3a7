import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isChatError } from '../../actors/errors';
import { validateConfig } from '../../config';
import { createStore, MemoryStore, PostgresStore, RedisStore, SqliteStore } from '../../storage-providers';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_OPEN_BUSY_TIMEOUT_MS } from '../../storage-providers/sqlite-store';
import { meta, msgs } from '../../testing/store-contract/fixtures';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from './pg-helpers';

const storageConfig = (storage: Record<string, unknown>) => validateConfig({ chat: { storage } }).chat.storage;

describe('createStore', () => {
  test('defaults to the memory store', async () => {
    const config = storageConfig({});
    expect(config.postgres.schema).toBe('public');
    const store = createStore(config);
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.isOpen).toBe(false);
  });

  test('builds a SQLite store on chat.storage.sqlite.path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-create-'));
    try {
      const file = path.join(dir, 'sub', 'chat.db');
      const store = createStore(storageConfig({ backend: 'sqlite', sqlite: { path: file } }));
      expect(store).toBeInstanceOf(SqliteStore);
      await store.open();
      await store.createConversation(meta('c1'));
      await store.close();
      expect(fs.existsSync(file)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the memory store gets chat.storage.memory.max_records_per_conversation and max_records_total (defaults 10,000 and 1,000,000; 0 = unbounded)', async () => {
    expect(createStore(storageConfig({})).supports).toMatchObject({ maxRecordsPerConversation: 10_000, maxRecordsTotal: 1_000_000 });
    expect(createStore(storageConfig({ memory: { max_records_total: 5 } })).supports.maxRecordsTotal).toBe(5);
    expect(createStore(storageConfig({ memory: { max_records_per_conversation: 0 } })).supports.maxRecordsPerConversation).toBe(0);
    const store = createStore(storageConfig({ memory: { max_records_per_conversation: 30 } }));
    await store.open();
    try {
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 40));
      expect((await store.readMessages('c1', 0, 100)).length).toBeLessThanOrEqual(30);
      expect(await store.lastSequenceId('c1')).toBe(40);
    } finally {
      await store.close();
    }
  });

  test('store bounds and waits are validated: whole numbers in range', () => {
    const pathsOf = (storage: Record<string, unknown>): string[] => {
      try {
        storageConfig(storage);
      } catch (err) {
        if (isChatError(err, 'CONFIG_ERR_INVALID')) return (err.details!.problems as Array<{ path: string }>).map((p) => p.path);
        throw err;
      }
      return [];
    };
    expect(pathsOf({ memory: { max_records_per_conversation: -1 } })).toEqual(['chat.storage.memory.max_records_per_conversation']);
    expect(pathsOf({ memory: { max_records_per_conversation: 10.5 } })).toEqual(['chat.storage.memory.max_records_per_conversation']);
    expect(pathsOf({ memory: { max_records: 5 } })).toEqual(['chat.storage.memory.max_records']);
    expect(pathsOf({ sqlite: { busy_timeout_ms: -1, open_busy_timeout_ms: 600_001 } }).sort()).toEqual([
      'chat.storage.sqlite.busy_timeout_ms',
      'chat.storage.sqlite.open_busy_timeout_ms',
    ]);
    expect(() => new MemoryStore({ maxRecordsPerConversation: -1 })).toThrow(
      expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }),
    );
  });

  test("the schema's SQLite defaults are the store's own", () => {
    const { sqlite } = storageConfig({});
    expect(sqlite.busy_timeout_ms).toBe(SQLITE_BUSY_TIMEOUT_MS);
    expect(sqlite.open_busy_timeout_ms).toBe(SQLITE_OPEN_BUSY_TIMEOUT_MS);
  });

  test('rejects an invalid schema name in the config', () => {
    expect(() => storageConfig({ backend: 'postgres', postgres: { schema: 'bad-name;' } })).toThrow();
  });

  test('a PostgreSQL or Redis store made with a URL of another scheme is refused when made, not connected as if it were right', () => {
    // pg ignores the scheme: `new PostgresStore({ url: 'postgress://…' })` opened the database the rest of the URL named.
    const refused = (make: () => unknown) => {
      try {
        make();
      } catch (err) {
        return isChatError(err) ? [err.code, err.message] : err;
      }
      return 'made';
    };
    expect(refused(() => new PostgresStore({ url: 'postgress://postgres:secret@127.0.0.1:5432/test' }))).toEqual([
      'STORAGE_ERR_INVALID_ARGUMENT',
      'url must start with postgres:// or postgresql:// (not postgress://)',
    ]);
    expect(refused(() => new RedisStore({ url: 'http://127.0.0.1:6379' }))).toEqual([
      'STORAGE_ERR_INVALID_ARGUMENT',
      'url must start with redis:// or rediss:// (not http://)',
    ]);
    expect(refused(() => new RedisStore({ url: '127.0.0.1:6379' }))).toEqual([
      'STORAGE_ERR_INVALID_ARGUMENT',
      'url must start with redis:// or rediss:// (it has no scheme)',
    ]);
    expect(refused(() => new PostgresStore({ url: undefined as unknown as string }))).toEqual([
      'STORAGE_ERR_INVALID_ARGUMENT',
      'url must be a string starting with postgres:// or postgresql://',
    ]);
    for (const url of ['postgres://h/db', 'postgresql://h/db']) expect(refused(() => new PostgresStore({ url }))).toBe('made');
    for (const url of ['redis://h:6379/1', 'rediss://h']) expect(refused(() => new RedisStore({ url }))).toBe('made');
  });

  test('rejects an unknown backend', () => {
    expect(() => createStore({ ...storageConfig({}), backend: 'mongo' as 'memory' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }),
    );
  });
});

/**
 * The configured lock waits reach the SQLite store: a file another connection keeps locked is given up
 * on after the configured wait, which the error names. Each wait is chosen to tell it from the default
 * (300 ms > 100 ms for calls, 200 ms < 5000 ms for open); the elapsed time is read on the real clock.
 */
describe('createStore (sqlite lock waits from the config)', () => {
  let dir: string;
  const opened: Array<{ close(): unknown }> = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-create-lock-'));
  });
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Another connection holding the file's write lock until the test ends. */
  function lockFile(file: string): void {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN IMMEDIATE');
    opened.push({ close: () => (db.exec('ROLLBACK'), db.close()) });
  }

  /** Runs `call`, expecting STORAGE_ERR_UNAVAILABLE; returns the error message and the ms it took. */
  async function timedRefusal(call: () => Promise<unknown>): Promise<{ message: string; ms: number }> {
    const started = performance.now();
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = performance.now() - started;
    expect(isChatError(err, 'STORAGE_ERR_UNAVAILABLE')).toBe(true);
    return { message: (err as Error).message, ms };
  }

  test('chat.storage.sqlite.busy_timeout_ms is how long a call waits for a locked file', async () => {
    const file = path.join(dir, 'chat.db');
    const store = createStore(storageConfig({ backend: 'sqlite', sqlite: { path: file, busy_timeout_ms: 300 } }));
    const impatient = createStore(storageConfig({ backend: 'sqlite', sqlite: { path: file, busy_timeout_ms: 0 } }));
    for (const s of [store, impatient]) {
      await s.open();
      opened.push(s);
    }
    await store.createConversation(meta('c1'));
    lockFile(file);
    const refused = await timedRefusal(() => store.appendMessages('c1', msgs('c1', 1, 1)));
    expect(refused.message).toContain('waited 300 ms');
    expect(refused.ms).toBeGreaterThanOrEqual(299);
    expect((await timedRefusal(() => impatient.updateConversationStatus('c1', 'closed'))).message).toContain('waited 0 ms');
  });

  test('chat.storage.sqlite.open_busy_timeout_ms is how long open() waits for a locked file', async () => {
    const file = path.join(dir, 'chat.db');
    lockFile(file);
    const store = createStore(storageConfig({ backend: 'sqlite', sqlite: { path: file, open_busy_timeout_ms: 200 } }));
    opened.push(store);
    const refused = await timedRefusal(() => store.open());
    expect(refused.message).toContain('waited 200 ms');
    expect(refused.ms).toBeGreaterThanOrEqual(199);
    expect(refused.ms).toBeLessThan(SQLITE_OPEN_BUSY_TIMEOUT_MS);
  });
});

describeWithPg(pgReachableSync())('createStore (postgres)', () => {
  test('builds a PostgreSQL store; the schema option overrides the config', async () => {
    const schema = uniqueSchema();
    const store = createStore(storageConfig({ backend: 'postgres', postgres: { url: PG_URL, pool_size: 2 } }), { postgresSchema: schema });
    try {
      expect(store).toBeInstanceOf(PostgresStore);
      await store.open();
      await store.createConversation(meta('c1'));
      expect(await store.getConversation('c1')).toEqual(meta('c1'));
      const rows = await withClient((c) => c.query(`SELECT conversation_id FROM "${schema}".conversations`));
      expect(rows.rows).toEqual([{ conversation_id: 'c1' }]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});
