import { isChatError } from '../../actors/errors';
import { PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { mapPgError } from '../../storage-providers/postgres-pool';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { expectCode } from '../../testing';
import { meta, msg } from '../../testing/store-contract/fixtures';
import { describeWithPg, PG_URL, pgReachableSync, withClient } from './pg-helpers';
import { pgStoresPerTest } from './store-open-fixtures';

const reachable = pgReachableSync();

describeWithPg(reachable)('postgres specifics', () => {
  const pg = pgStoresPerTest({ poolSize: 3 });
  const make = pg.make;

  test('two concurrent writers of the same sequence id: exactly one row and one DUPLICATE_SEQUENCE', async () => {
    const a = make();
    const b = make();
    await Promise.all([a.open(), b.open()]);
    await a.createConversation(meta('c1'));
    for (let seq = 1; seq <= 10; seq++) {
      const results = await Promise.allSettled([
        a.appendMessages('c1', [msg('c1', seq, { message_id: `a${seq}`, sender_id: 'a' })]),
        b.appendMessages('c1', [msg('c1', seq, { message_id: `b${seq}`, sender_id: 'b' })]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(isChatError(rejected[0].reason, 'STORAGE_ERR_DUPLICATE_SEQUENCE')).toBe(true);
    }
    const rows = await withClient((c) => c.query(`SELECT sequence_id FROM "${pg.schema}".messages ORDER BY sequence_id`));
    expect(rows.rows.map((r) => Number(r.sequence_id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('writers that bypass the lock still hit the keys, mapped by constraint name', async () => {
    const store = make();
    await store.open();
    await store.createConversation(meta('c1'));
    await store.appendMessages('c1', [msg('c1', 1)]);
    const insert = (seq: number, sender: string, id: string) =>
      withClient((c) =>
        c.query(
          `INSERT INTO "${pg.schema}".messages (conversation_id, sequence_id, message_id, sender_id, sender_type, message_type, content, timestamp, metadata)
           VALUES ('c1', $1, $2, $3, 'human', 'text', 'x', 'now', '{}')`,
          [seq, id, sender],
        ),
      ).then(
        () => undefined,
        (err: unknown) => mapPgError(err, 'test'),
      );
    expect(await insert(1, 'zed', 'fresh')).toMatchObject({ code: 'STORAGE_ERR_DUPLICATE_SEQUENCE' });
    expect(await insert(2, msg('c1', 1).sender_id, msg('c1', 1).message_id)).toMatchObject({ code: 'STORAGE_ERR_DUPLICATE_MESSAGE' });
    const dupConversation = await withClient((c) =>
      c.query(`INSERT INTO "${pg.schema}".conversations VALUES ('c1', 't', 'x', 'y', '{}', 'active')`),
    ).then(
      () => undefined,
      (err: unknown) => mapPgError(err, 'test'),
    );
    expect(dupConversation).toMatchObject({ code: 'CHAT_ERR_ALREADY_EXISTS' });
  });

  test('concurrent startups on a fresh schema migrate exactly once; reopening is a no-op', async () => {
    const all = [make(), make(), make(), make()];
    await Promise.all(all.map((s) => s.open()));
    const versions = async () =>
      (await withClient((c) => c.query(`SELECT version FROM "${pg.schema}".nlweb_chat_migrations ORDER BY version`))).rows.map(
        (r) => r.version,
      );
    expect(await versions()).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    await all[0].createConversation(meta('c1'));
    const again = make();
    await again.open();
    expect(await again.getConversation('c1')).toEqual(meta('c1'));
    expect(await versions()).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
  });

  test('a schema newer than this build refuses to open', async () => {
    await make().open();
    await withClient((c) => c.query(`INSERT INTO "${pg.schema}".nlweb_chat_migrations (version) VALUES (${PG_MIGRATIONS.length + 1})`));
    const store = make();
    await expectCode(store.open(), 'STORAGE_ERR_SCHEMA_VERSION');
    expect(store.isOpen).toBe(false);
  });

  test('an unreachable server is STORAGE_ERR_UNAVAILABLE with the driver error as cause', async () => {
    const store = make({ url: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 2000 });
    let error: unknown;
    await store.open().catch((err: unknown) => (error = err));
    expect(error).toMatchObject({ code: 'STORAGE_ERR_UNAVAILABLE' });
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('connections killed by the server are replaced; later calls succeed', async () => {
    const applicationName = `nlweb_chat_kill_${process.pid}`;
    const store = make({ applicationName });
    await store.open();
    await store.createConversation(meta('c1'));
    await Promise.all([store.ping(), store.ping(), store.ping()]);
    const killed = await withClient((c) =>
      c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]),
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    // A call may still meet a dying pooled connection: it fails coded UNAVAILABLE and the connection
    // is discarded, so at most poolSize calls fail before the pool has healed.
    let failures = 0;
    for (let attempt = 0; attempt <= 3; attempt++) {
      const ok = await store.ping().then(
        () => true,
        (err: unknown) => {
          expect(isChatError(err, 'STORAGE_ERR_UNAVAILABLE')).toBe(true);
          return false;
        },
      );
      if (ok) break;
      failures++;
    }
    expect(failures).toBeLessThanOrEqual(3);
    await store.appendMessages('c1', [msg('c1', 1)]);
    expect(await store.lastSequenceId('c1')).toBe(1);
  });

  test('text PostgreSQL cannot hold (NUL) is STORAGE_ERR_INVALID_ARGUMENT, not a retryable failure', async () => {
    const store = make();
    await store.open();
    await store.createConversation(meta('c1'));
    await expectCode(store.appendMessages('c1', [msg('c1', 1, { content: 'a\u0000b' })]), 'STORAGE_ERR_INVALID_ARGUMENT');
    await expectCode(store.appendMessages('c1', [msg('c1', 1, { metadata: { s: 'a\u0000b' } })]), 'STORAGE_ERR_INVALID_ARGUMENT');
    await store.appendMessages('c1', [msg('c1', 1)]);
    expect(await store.lastSequenceId('c1')).toBe(1);
  });

  test('schema names are validated', () => {
    expect(() => new PostgresStore({ url: PG_URL, schema: 'x"; DROP TABLE y; --' })).toThrow(
      expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }),
    );
  });
});
