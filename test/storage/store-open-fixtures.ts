import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isChatError, type ChatError } from '../../actors/errors';
import { PostgresStore, type PostgresStoreOptions } from '../../storage-providers/postgres-store';
import { SqliteStore, type SqliteStoreOptions } from '../../storage-providers/sqlite-store';
import { dropSchema, PG_URL, uniqueSchema } from './pg-helpers';

/** The error a store's open() rejects with (a test failure when it opens, or fails with something else). */
export async function openError(store: { open(): Promise<void> }): Promise<ChatError> {
  let error: unknown;
  await store.open().catch((err: unknown) => (error = err));
  if (!isChatError(error)) throw new Error(`expected a ChatError, got ${error === undefined ? 'success' : String(error)}`);
  return error;
}

/**
 * Stores on a schema of their own per test: a fresh schema name before each test; after it, every store made is
 * closed and the schema dropped. Call inside a describe.
 */
export function pgStoresPerTest(defaults: Partial<PostgresStoreOptions> = {}): {
  readonly schema: string;
  make(extra?: Partial<PostgresStoreOptions>): PostgresStore;
} {
  let schema = '';
  const stores: PostgresStore[] = [];
  beforeEach(() => {
    schema = uniqueSchema();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await dropSchema(schema);
  });
  return {
    get schema() {
      return schema;
    },
    make(extra = {}) {
      const store = new PostgresStore({ url: PG_URL, poolSize: 2, schema, ...defaults, ...extra });
      stores.push(store);
      return store;
    },
  };
}

/**
 * Stores on a SQLite file of their own per test (`file`, in a fresh directory `dir`, not created): after each test,
 * every store made is closed and the directory removed. Call inside a describe.
 */
export function sqliteStoresPerTest(prefix: string): {
  readonly dir: string;
  readonly file: string;
  make(extra?: Partial<SqliteStoreOptions>): SqliteStore;
} {
  let dir = '';
  const stores: SqliteStore[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get file() {
      return path.join(dir, 'chat.db');
    },
    make(extra = {}) {
      const store = new SqliteStore({ path: path.join(dir, 'chat.db'), ...extra });
      stores.push(store);
      return store;
    },
  };
}
