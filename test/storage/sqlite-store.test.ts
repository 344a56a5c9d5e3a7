import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { expectCode, runChatStoreContract } from '../../testing';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-sqlite-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

let counter = 0;
runChatStoreContract(
  'sqlite',
  async () => {
    // A nested directory checks that missing parent directories are created.
    const dir = path.join(root, `run-${++counter}`, 'nested');
    const file = path.join(dir, 'chat.db');
    return {
      store: new SqliteStore({ path: file }),
      reopen: async () => new SqliteStore({ path: file }),
      cleanup: async () => fs.rmSync(path.dirname(dir), { recursive: true, force: true }),
    };
  },
  // Any file path declares what a file store supports (durable, shared); the constructor opens nothing.
  { supports: new SqliteStore({ path: 'any-file.db' }).supports, omitInapplicable: true },
);

runChatStoreContract('sqlite :memory:', async () => ({ store: new SqliteStore({ path: ':memory:' }), cleanup: async () => {} }), {
  supports: new SqliteStore({ path: ':memory:' }).supports,
  omitInapplicable: true,
});

describe('sqlite specifics', () => {
  const file = () => path.join(root, `specific-${++counter}.db`);

  test('uses WAL, records the schema version, and migrating again is a no-op', async () => {
    const f = file();
    const store = new SqliteStore({ path: f });
    await store.open();
    await store.createConversation({
      conversation_id: 'c1',
      title: 't',
      created_at: '2026-01-01T00:00:00.000Z',
      created_by: 'a',
      settings: {},
      status: 'active',
    });
    await store.close();
    const db = new Database(f);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      expect(migrateSqlite(db)).toBe(SQLITE_MIGRATIONS.length);
      expect(db.prepare('SELECT COUNT(*) FROM conversations').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  test('two instances opening a fresh file together both succeed', async () => {
    const f = file();
    const a = new SqliteStore({ path: f });
    const b = new SqliteStore({ path: f });
    try {
      await Promise.all([a.open(), b.open()]);
      await a.createConversation({
        conversation_id: 'c1',
        title: 't',
        created_at: '2026-01-01T00:00:00.000Z',
        created_by: 'a',
        settings: {},
        status: 'active',
      });
      expect(await b.getConversation('c1')).toBeDefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a schema newer than this build refuses to open', async () => {
    const f = file();
    const db = new Database(f);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
    db.close();
    const store = new SqliteStore({ path: f });
    await expectCode(store.open(), 'STORAGE_ERR_SCHEMA_VERSION');
    expect(store.isOpen).toBe(false);
    await store.close();
  });

  test('an unusable path is STORAGE_ERR_UNAVAILABLE with the driver error as cause', async () => {
    const blocker = file();
    fs.writeFileSync(blocker, 'not a directory');
    const store = new SqliteStore({ path: path.join(blocker, 'chat.db') });
    let error: unknown;
    await store.open().catch((err: unknown) => (error = err));
    expect(error).toMatchObject({ code: 'STORAGE_ERR_UNAVAILABLE' });
    expect((error as Error).cause).toHaveProperty('code', expect.stringMatching(/^E[A-Z]+$/));
    await store.close();
  });

  test('a file that is not a database is STORAGE_ERR_UNAVAILABLE', async () => {
    const f = file();
    fs.writeFileSync(f, 'x'.repeat(4096));
    const store = new SqliteStore({ path: f });
    await expectCode(store.open(), 'STORAGE_ERR_UNAVAILABLE');
    await store.close();
  });
});

/** Conversation c1 and its first message, for the tests of a file locked by another connection. */
const meta = {
  conversation_id: 'c1',
  title: 't',
  created_at: '2026-01-01T00:00:00.000Z',
  created_by: 'a',
  settings: {},
  status: 'active' as const,
};
const message = {
  message_id: 'm1',
  conversation_id: 'c1',
  sequence_id: 1,
  sender_id: 'a',
  sender_type: 'human' as const,
  message_type: 'text',
  content: 'x',
  timestamp: '2026-01-01T00:00:00.000Z',
  metadata: {},
};

describe('sqlite with the file locked by another connection', () => {
  const opened: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });

  /** A second connection on the file that takes the write lock (BEGIN IMMEDIATE) until released. */
  function locker(f: string) {
    const db = new Database(f);
    db.pragma('journal_mode = WAL');
    opened.push({ close: () => (db.inTransaction && db.exec('ROLLBACK'), db.close()) });
    return {
      lock: () => db.exec('BEGIN IMMEDIATE'),
      release: () => db.exec('ROLLBACK'),
    };
  }

  /**
   * An open store on a new file with conversation c1. A long busy timeout: the old driver-level wait
   * would have blocked the test for a minute.
   */
  async function lockableStore() {
    const f = path.join(root, `locked-${++counter}.db`);
    const store = new SqliteStore({ path: f, busyTimeoutMs: 60_000 });
    await store.open();
    opened.push(store);
    await store.createConversation(meta);
    return { f, store };
  }

  /** Tracks whether a promise has settled, without awaiting it. */
  function settledFlag(p: Promise<unknown>) {
    const flag = { settled: false };
    p.then(
      () => (flag.settled = true),
      () => (flag.settled = true),
    );
    return flag;
  }

  test('a call waits for the lock without blocking the event loop (reads go on) and completes once it is released', async () => {
    const { f, store } = await lockableStore();
    const other = locker(f);
    other.lock();
    const append = store.appendMessages('c1', [message]);
    const state = settledFlag(append);
    // The loop keeps turning while the append waits: timers fire, reads answer from the last commit.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await store.lastSequenceId('c1')).toBe(0);
    expect(await store.readMessages('c1', 0, 10)).toEqual([]);
    expect(state.settled).toBe(false);
    other.release();
    await append;
    expect(await store.lastSequenceId('c1')).toBe(1);
    expect(await store.readMessages('c1', 0, 10)).toEqual([message]);
  });

  test('close() while a call waits for the lock: the call rejects with STORAGE_ERR_NOT_OPEN and close resolves', async () => {
    const { f, store } = await lockableStore();
    locker(f).lock();
    const append = store.appendMessages('c1', [message]);
    const status = store.updateConversationStatus('c1', 'closed');
    await store.close();
    await expectCode(append, 'STORAGE_ERR_NOT_OPEN');
    await expectCode(status, 'STORAGE_ERR_NOT_OPEN');
  });

  test('open() waits (asynchronously, openBusyTimeoutMs) for another connection migrating or writing the file', async () => {
    const f = path.join(root, `locked-${++counter}.db`);
    const other = locker(f);
    other.lock();
    const refused = new SqliteStore({ path: f, openBusyTimeoutMs: 0 });
    await expectCode(refused.open(), 'STORAGE_ERR_UNAVAILABLE');
    const store = new SqliteStore({ path: f });
    opened.push(store);
    const open = store.open();
    const state = settledFlag(open);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(state.settled).toBe(false);
    other.release();
    await open;
    expect(await store.lastSequenceId('c1')).toBe(0);
    await refused.open();
    await refused.close();
  });
});

describe('sqlite across processes', () => {
  test('a write lock held by another process is STORAGE_ERR_UNAVAILABLE after the busy timeout; nothing half-written', async () => {
    const f = path.join(root, `shared-${++counter}.db`);
    const store = new SqliteStore({ path: f, busyTimeoutMs: 100 });
    await store.open();
    await store.createConversation(meta);
    // Another process takes the write lock and keeps it until told to commit.
    const script =
      "const D=require('better-sqlite3');const db=new D(process.argv[1]);db.exec('BEGIN IMMEDIATE');" +
      "process.stdout.write('locked\\n');process.stdin.once('data',()=>{db.exec('COMMIT');db.close();process.exit(0);});";
    const child = spawn(process.execPath, ['-e', script, f], { cwd: path.resolve(__dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      await expectCode(store.appendMessages('c1', [message]), 'STORAGE_ERR_UNAVAILABLE');
      // Readers are not blocked by the writer (WAL).
      expect(await store.lastSequenceId('c1')).toBe(0);
      child.stdin.write('go\n');
      expect(await exited).toBe(0);
      await store.appendMessages('c1', [message]);
      expect(await store.lastSequenceId('c1')).toBe(1);
    } finally {
      child.kill();
      await store.close();
    }
  });
});
