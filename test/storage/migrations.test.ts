import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migratePostgres, PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../../storage-providers/sqlite-schema';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { meta, msg, msgs, person } from '../../testing/store-contract/fixtures';
import { v1MessageRows } from './old-schemas';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from './pg-helpers';

/**
 * Upgrading databases written by the previous build: a schema at version 1 (created by running the
 * first migration only, exactly what the v1 build did) keeps its data, gains the sequence
 * reservation, and migrating again changes nothing. A failing migration leaves the old version.
 */

const V1_SQLITE = SQLITE_MIGRATIONS.slice(0, 1);
const V1_PG = PG_MIGRATIONS.slice(0, 1);

/** Raw v1 rows: one conversation with two members and three records. */
const v1Rows = {
  conversation: ['c1', 'title of c1', meta('c1').created_at, 'alice', JSON.stringify(meta('c1').settings), 'active'],
  participants: [
    ['c1', 'alice', 'human', 'alice display', 1, 'member'],
    ['c1', 'bob', 'human', 'bob display', 1, 'member'],
  ],
  messages: v1MessageRows(),
};

describe('sqlite: upgrading a version 1 file', () => {
  let dir: string;
  const open: Array<{ close(): unknown }> = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-migrate-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0).reverse()) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function createV1(file: string): void {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      expect(migrateSqlite(db, V1_SQLITE)).toBe(0);
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      db.prepare('INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)').run(...v1Rows.conversation);
      const member = db.prepare(
        'INSERT INTO participants (conversation_id, participant_id, participant_type, display_name, joined_at_sequence, role) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const p of v1Rows.participants) member.run(...p);
      const record = db.prepare(
        'INSERT INTO messages (conversation_id, sequence_id, message_id, sender_id, sender_type, message_type, content, timestamp, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const m of v1Rows.messages) record.run(...m);
    } finally {
      db.close();
    }
  }

  const columns = (db: Database.Database) => db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('conversations') as string[];

  test('opens, keeps every record, gains the reservation; migrating again is a no-op', async () => {
    const file = path.join(dir, 'v1.db');
    createV1(file);
    const store = new SqliteStore({ path: file });
    open.push(store);
    await store.open();
    expect(await store.getConversation('c1')).toEqual(meta('c1'));
    expect(await store.getParticipants('c1')).toEqual([person('alice'), person('bob')]);
    expect(await store.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
    expect(await store.getSequenceReservation('c1')).toBe(0);
    // v3: an upgraded conversation is unclaimed at epoch 0.
    expect(await store.claimConversation('c1', { ownerId: 'A', ttlMs: 1000 })).toEqual({
      claimed: true,
      claim: { ownerId: 'A', epoch: 1 },
    });
    await store.setSequenceReservation('c1', 103);
    await store.appendMessages('c1', [msg('c1', 4)]);
    // v4: upgraded members have no read position yet; one saved now is kept.
    expect(await store.getReadPositions('c1')).toEqual(new Map());
    await store.saveReadPositions('c1', new Map([['bob', 4]]));
    await store.close();

    const db = new Database(file);
    open.push(db);
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
    expect(migrateSqlite(db)).toBe(SQLITE_MIGRATIONS.length);
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
    expect(columns(db)).toContain('sequence_reservation');
    expect(db.prepare('SELECT sequence_reservation FROM conversations').pluck().all()).toEqual([103]);
    db.close();

    const again = new SqliteStore({ path: file });
    open.push(again);
    await again.open();
    expect(await again.getSequenceReservation('c1')).toBe(103);
    expect(await again.lastSequenceId('c1')).toBe(4);
    expect(await again.getReadPositions('c1')).toEqual(new Map([['bob', 4]]));
  });

  test('two instances upgrading the same file together both succeed', async () => {
    const file = path.join(dir, 'v1.db');
    createV1(file);
    const a = new SqliteStore({ path: file });
    const b = new SqliteStore({ path: file });
    open.push(a, b);
    await Promise.all([a.open(), b.open()]);
    await a.setSequenceReservation('c1', 100);
    expect(await b.getSequenceReservation('c1')).toBe(100);
    expect(await b.lastSequenceId('c1')).toBe(3);
  });

  test('a failing migration rolls back with its version: the file stays at version 1', () => {
    const file = path.join(dir, 'v1.db');
    createV1(file);
    const db = new Database(file);
    open.push(db);
    const broken = SQLITE_MIGRATIONS.slice(0, 2).map((m, i) => (i === 1 ? `${m}; SELECT * FROM no_such_table;` : m));
    expect(() => migrateSqlite(db, broken)).toThrow(/no_such_table/);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(columns(db)).not.toContain('sequence_reservation');
    expect(migrateSqlite(db)).toBe(1);
    expect(columns(db)).toContain('sequence_reservation');
    expect(db.prepare('SELECT COUNT(*) FROM messages').pluck().get()).toBe(3);
  });
});

describeWithPg(pgReachableSync())('postgres: upgrading a version 1 schema', () => {
  let schema: string;
  const stores: PostgresStore[] = [];
  const make = () => {
    const store = new PostgresStore({ url: PG_URL, poolSize: 2, schema });
    stores.push(store);
    return store;
  };
  const all = PG_MIGRATIONS.map((_, i) => i + 1);
  const versions = async () =>
    (await withClient((c) => c.query(`SELECT version FROM "${schema}".nlweb_chat_migrations ORDER BY version`))).rows.map((r) => r.version);
  const hasColumn = async () =>
    (
      await withClient((c) =>
        c.query(
          `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'conversations' AND column_name = 'sequence_reservation'`,
          [schema],
        ),
      )
    ).rowCount === 1;

  beforeEach(async () => {
    schema = uniqueSchema();
    await withClient(async (c) => {
      expect(await migratePostgres(c, schema, V1_PG)).toBe(0);
      const s = `"${schema}"`;
      await c.query(`INSERT INTO ${s}.conversations VALUES ($1, $2, $3, $4, $5::jsonb, $6)`, v1Rows.conversation);
      for (const p of v1Rows.participants) {
        await c.query(
          `INSERT INTO ${s}.participants (conversation_id, participant_id, participant_type, display_name, joined_at_sequence, role) VALUES ($1, $2, $3, $4, $5, $6)`,
          p,
        );
      }
      for (const m of v1Rows.messages) {
        await c.query(
          `INSERT INTO ${s}.messages (conversation_id, sequence_id, message_id, sender_id, sender_type, message_type, content, timestamp, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
          m,
        );
      }
    });
    expect(await versions()).toEqual([1]);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await dropSchema(schema);
  });

  test('concurrent startups upgrade once, keep every record and gain the reservation; reopening is a no-op', async () => {
    const instances = [make(), make(), make()];
    await Promise.all(instances.map((s) => s.open()));
    expect(await versions()).toEqual(all);
    const [store, other] = instances;
    expect(await store.getConversation('c1')).toEqual(meta('c1'));
    expect(await store.getParticipants('c1')).toEqual([person('alice'), person('bob')]);
    expect(await store.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
    expect(await store.getSequenceReservation('c1')).toBe(0);
    // v3: an upgraded conversation is unclaimed at epoch 0.
    expect(await store.claimConversation('c1', { ownerId: 'A', ttlMs: 1000 })).toEqual({
      claimed: true,
      claim: { ownerId: 'A', epoch: 1 },
    });
    await store.setSequenceReservation('c1', 103);
    expect(await other.getSequenceReservation('c1')).toBe(103);
    await other.appendMessages('c1', [msg('c1', 4)]);
    // v4: upgraded members have no read position yet; one saved now is kept.
    expect(await store.getReadPositions('c1')).toEqual(new Map());
    await store.saveReadPositions('c1', new Map([['bob', 4]]));
    for (const s of instances) await s.close();

    const again = make();
    await again.open();
    expect(await versions()).toEqual(all);
    expect(await again.getSequenceReservation('c1')).toBe(103);
    expect(await again.lastSequenceId('c1')).toBe(4);
    expect(await again.getReadPositions('c1')).toEqual(new Map([['bob', 4]]));
  });

  test('a failing migration rolls back with its version row: the schema stays at version 1', async () => {
    const broken = PG_MIGRATIONS.slice(0, 2).map((m, i) => (i === 1 ? (s: string) => `${m(s)}; SELECT * FROM no_such_table;` : m));
    await expect(withClient((c) => migratePostgres(c, schema, broken))).rejects.toThrow(/no_such_table/);
    expect(await versions()).toEqual([1]);
    expect(await hasColumn()).toBe(false);
    const store = make();
    await store.open();
    expect(await versions()).toEqual(all);
    expect(await hasColumn()).toBe(true);
    expect(await store.lastSequenceId('c1')).toBe(3);
  });
});
