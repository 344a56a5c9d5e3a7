import { PostgresStore } from '../../storage-providers/postgres-store';
import { claimTestsAcrossInstances } from './claims-race';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from './pg-helpers';
import { meta, msgs } from '../../testing/store-contract/fixtures';

const reachable = pgReachableSync();

/** Two PostgresStore instances (two pools: two servers) on one schema. */
describeWithPg(reachable)('postgres conversation claims across instances', () => {
  let schema: string;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeEach(async () => {
    schema = uniqueSchema();
    a = new PostgresStore({ url: PG_URL, poolSize: 6, schema });
    b = new PostgresStore({ url: PG_URL, poolSize: 6, schema });
    await Promise.all([a.open(), b.open()]);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await dropSchema(schema);
  });

  claimTestsAcrossInstances(() => [a, b]);

  test("a redaction and a content replacement waiting on a claim's row lock re-check the epoch it committed", async () => {
    await a.createConversation(meta('c1'));
    const held = await a.claimConversation('c1', { ownerId: 'A', ttlMs: 60_000 });
    if (!held.claimed) throw new Error('A should hold c1');
    await a.appendMessages('c1', msgs('c1', 1, 2), held.claim);
    const before = await a.readMessages('c1', 0, 10);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'changed',
        (err: { code?: string }) => err.code,
      );
    await withClient(async (claimer) => {
      // A claim by B under way: its UPDATE holds the conversation row until COMMIT.
      await claimer.query('BEGIN');
      await claimer.query(
        `UPDATE "${schema}".conversations SET owner_id = 'B', owner_epoch = owner_epoch + 1 WHERE conversation_id = 'c1'`,
      );
      const redaction = outcome(a.redactMessages('c1', { messageIds: ['c1-m1'] }, held.claim));
      const replacement = outcome(a.replaceMessageContent('c1', 1, { senderId: 'alice', content: 'late', metadata: {} }, held.claim));
      // Both statements wait for that row lock (asked of the database, in a bounded loop: no timer). Another client
      // asks: activity statistics read inside the claimer's transaction stay as they were at its first read.
      const waiting = await withClient(async (monitor) => {
        let n = 0;
        for (let i = 0; i < 10_000 && n < 2; i++) {
          const rows = await monitor.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%'`,
            [schema],
          );
          n = rows.rows[0].n;
        }
        return n;
      });
      expect(waiting).toBe(2);
      await claimer.query('COMMIT');
      expect([await redaction, await replacement]).toEqual(['STORAGE_ERR_FENCED', 'STORAGE_ERR_FENCED']);
    });
    expect(await a.readMessages('c1', 0, 10)).toEqual(before);
  });

  test('claims expire on the database clock, not the process clock', async () => {
    const meta = { conversation_id: 'c1', title: 't', created_at: 'x', created_by: 'a', settings: {}, status: 'active' as const };
    await a.createConversation(meta);
    await a.claimConversation('c1', { ownerId: 'A', ttlMs: 60_000 });
    const dbNow = await withClient(async (c) =>
      Number((await c.query('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms')).rows[0].ms),
    );
    const stored = await withClient(
      async (c) => (await c.query(`SELECT owner_expires_at FROM "${schema}".conversations WHERE conversation_id = 'c1'`)).rows[0],
    );
    // Stored as database time + ttl (the test process shares the host clock here, so this only
    // shows the unit and origin: epoch ms, within the few ms the two statements take).
    expect(Number(stored.owner_expires_at) - dbNow).toBeGreaterThan(59_000);
    expect(Number(stored.owner_expires_at) - dbNow).toBeLessThanOrEqual(60_000);
  });
});
