import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { expectCode, runChatStoreContract } from '../contract/chat-store.contract';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-sqlite-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

let counter = 0;
runChatStoreContract('sqlite', async () => {
  // A nested directory checks that missing parent directories are created.
  const dir = path.join(root, `run-${++counter}`, 'nested');
  const file = path.join(dir, 'chat.db');
  return {
    store: new SqliteStore({ path: file }),
    reopen: async () => new SqliteStore({ path: file }),
    cleanup: async () => fs.rmSync(path.dirname(dir), { recursive: true, force: true }),
  };
});

runChatStoreContract('sqlite :memory:', async () => ({ store: new SqliteStore({ path: ':memory:' }), cleanup: async () => {} }));

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
    await expectCode(store.open(), 'STORAGE_ERR_UNAVAILABLE');
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

describe('sqlite across processes', () => {
  test('a write lock held by another process is STORAGE_ERR_UNAVAILABLE after the busy timeout; nothing half-written', async () => {
    const f = path.join(root, `shared-${++counter}.db`);
    const store = new SqliteStore({ path: f, busyTimeoutMs: 100 });
    await store.open();
    await store.createConversation({
      conversation_id: 'c1',
      title: 't',
      created_at: '2026-01-01T00:00:00.000Z',
      created_by: 'a',
      settings: {},
      status: 'active',
    });
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
