import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../config';
import { createStore, MemoryStore, PostgresStore, SqliteStore } from '../../storage-providers';
import { meta } from '../contract/fixtures';
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

  test('rejects an invalid schema name in the config', () => {
    expect(() => storageConfig({ backend: 'postgres', postgres: { schema: 'bad-name;' } })).toThrow();
  });

  test('rejects an unknown backend', () => {
    expect(() => createStore({ ...storageConfig({}), backend: 'mongo' as 'memory' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }),
    );
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
