import { isChatError } from '../../actors/errors';
import { validateConfig } from '../../config';
import { createStore, type ChatStore } from '../../storage-providers';
import { PG_MIGRATIONS } from '../../storage-providers/postgres-migrations';
import { PREPARED_STATEMENTS_HINT } from '../../storage-providers/postgres-pool';
import { PostgresStore, type PostgresStoreOptions } from '../../storage-providers/postgres-store';
import { runChatStoreContract } from '../../testing';
import { meta, msgs } from '../../testing/store-contract/fixtures';
import { dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from './pg-helpers';
import { describeWithPgBouncer, startPgBouncer, type RunningPgBouncer } from './pgbouncer';
import { runClaimAndAppendLoad } from './pooled-load';

/**
 * A server's PostgresStore behind a real PgBouncer in transaction pooling (PgBouncer 1.18, which does not track named
 * statements; later ones are started with that off): each transaction runs on whichever of its server connections is
 * free, and what a transaction leaves on one (a prepared statement, a session lock) the next client there gets. With
 * chat.storage.postgres.prepared_statements false every statement is unnamed, and migrating is one transaction under a
 * transaction-level lock, so the store keeps nothing across transactions.
 */

const reachable = pgReachableSync();

describeWithPgBouncer(reachable, 'postgres-pgbouncer.test.ts')('PostgresStore behind PgBouncer, pool_mode = transaction', () => {
  const bouncers: RunningPgBouncer[] = [];
  const stores: ChatStore[] = [];
  const schemas: string[] = [];
  let shared: RunningPgBouncer | undefined;

  beforeAll(async () => {
    // Two server connections for every client of the file: fewer than the stores' own pools hold.
    shared = await startPgBouncer({ poolMode: 'transaction', defaultPoolSize: 2 });
    bouncers.push(shared);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    for (const schema of schemas.splice(0)) await dropSchema(schema);
  });
  afterAll(async () => {
    await Promise.all(bouncers.splice(0).map((b) => b.stop()));
  });

  /** An unopened store on `schema` through `bouncer`, closed after the test. */
  function storeThrough(bouncer: RunningPgBouncer, schema: string, options: Partial<PostgresStoreOptions> = {}): PostgresStore {
    const store = new PostgresStore({ url: bouncer.url, schema, poolSize: 4, preparedStatements: false, ...options });
    stores.push(store);
    return store;
  }

  function freshSchema(): string {
    const schema = uniqueSchema();
    schemas.push(schema);
    return schema;
  }

  const versionRows = (schema: string) =>
    withClient(async (c) =>
      (await c.query(`SELECT version FROM "${schema}".nlweb_chat_migrations ORDER BY version`)).rows.map((r) => r.version),
    );

  runChatStoreContract(
    'postgres through PgBouncer (transaction pooling, prepared_statements false)',
    async () => {
      const schema = uniqueSchema();
      const make = () => new PostgresStore({ url: shared!.url, schema, poolSize: 4, preparedStatements: false });
      return { store: make(), reopen: async () => make(), cleanup: () => dropSchema(schema) };
    },
    { supports: new PostgresStore({ url: PG_URL }).supports, omitInapplicable: true },
  );

  it('with prepared statements (the default), a second connection of a store meets the name the first one prepared: 42P05, naming the key', async () => {
    // One server connection, fresh: the store's two connections take turns on it, each preparing nlweb-read.
    const single = await startPgBouncer({ poolMode: 'transaction', defaultPoolSize: 1 });
    bouncers.push(single);
    const schema = freshSchema();
    const named = storeThrough(single, schema, { poolSize: 2, preparedStatements: true });
    await named.open();
    await named.createConversation(meta('c1'));
    await named.appendMessages('c1', msgs('c1', 1, 3));

    const reads = await Promise.allSettled([named.readMessages('c1', 0, 10), named.readMessages('c1', 0, 10)]);
    const refused = reads.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(refused).toHaveLength(1);
    expect(isChatError(refused[0], 'STORAGE_ERR_UNAVAILABLE')).toBe(true);
    expect((refused[0].cause as { code?: string }).code).toBe('42P05');
    expect(refused[0].message).toBe(
      `PostgreSQL operation failed: prepared statement "nlweb-read" already exists (${PREPARED_STATEMENTS_HINT})`,
    );

    const unnamed = storeThrough(single, schema, { poolSize: 2 });
    await unnamed.open();
    const unnamedReads = await Promise.all([unnamed.readMessages('c1', 0, 10), unnamed.readMessages('c1', 0, 10)]);
    expect(unnamedReads).toEqual([msgs('c1', 1, 3), msgs('c1', 1, 3)]);
  });

  it('two stores (two servers) claim, append, reserve, read and renew at once through it: no failure, every acknowledged record stored', async () => {
    const schema = freshSchema();
    // Built from the config as a server builds its store, so the test also shows the key reaching the store.
    const postgres = { url: shared!.url, pool_size: 4, prepared_statements: false };
    const storage = validateConfig({ chat: { storage: { backend: 'postgres', postgres } } }).chat.storage;
    const servers = [createStore(storage, { postgresSchema: schema }), createStore(storage, { postgresSchema: schema })];
    stores.push(...servers);
    for (const server of servers) await server.open();

    const load = await runClaimAndAppendLoad(servers, 10, 15);

    expect(load.failures).toEqual([]);
    expect(load.operations).toBeGreaterThan(1000);
    const direct = new PostgresStore({ url: PG_URL, schema, poolSize: 1 });
    stores.push(direct);
    await direct.open();
    for (const [id, records] of load.acknowledged) {
      // Claims serialise the writers: at least one append a round (two when the loser claims after the release), each
      // following the last, and exactly the acknowledged ones stored.
      expect(records.length).toBeGreaterThanOrEqual(2 * 15);
      expect(records.map((r) => r.sequence_id)).toEqual(records.map((_, i) => i + 1));
      expect(await direct.readMessages(id, 0, 1000)).toEqual(records);
    }
  });

  it.each([1, 2])(
    'stores opening a fresh schema at once through it (%i server connections): one migrates, the other waits for it and finds it current',
    async (serverConnections) => {
      // A PgBouncer of the test's own: what earlier tests left on the shared one's connections changes how the stores'
      // statements land on them (the session lock of earlier builds failed 20 of 20 races on a fresh one, some on that).
      const bouncer = await startPgBouncer({ poolMode: 'transaction', defaultPoolSize: serverConnections });
      bouncers.push(bouncer);
      // Several schemas: how the two stores' statements interleave differs from one to the next.
      for (let i = 0; i < 5; i++) {
        const schema = freshSchema();
        const racing = [storeThrough(bouncer, schema), storeThrough(bouncer, schema)];
        await Promise.all(racing.map((s) => s.open()));
        expect(racing.map((s) => s.schemaVersionFound ?? -1).sort((x, y) => x - y)).toEqual([0, PG_MIGRATIONS.length]);
        expect(await versionRows(schema)).toEqual(PG_MIGRATIONS.map((_, v) => v + 1));
        // Nothing of the migration is left on a server connection: a later store opens at once and writes.
        const later = storeThrough(bouncer, schema);
        await later.open();
        expect(later.schemaVersionFound).toBe(PG_MIGRATIONS.length);
        await later.createConversation(meta('c1'));
        await later.appendMessages('c1', msgs('c1', 1, 2));
      }
    },
  );
});
