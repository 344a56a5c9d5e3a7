import { PostgresStore } from '../../storage-providers/postgres-store';
import { claimTestsAcrossInstances } from './claims-race';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from './pg-helpers';

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
