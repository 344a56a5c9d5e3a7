import { Client } from 'pg';
import { isChatError } from '../../actors/errors';
import { openStorage, parseStorageSpec } from '../../bin/replay/storage-spec';
import { PostgresStore, type ChatStore } from '../../storage-providers';
import { expectCode } from '../../testing';
import { meta, msg, msgs } from '../../testing/store-contract/fixtures';
import { dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from '../storage/pg-helpers';
import { describeWithPgBouncer, startPgBouncer, type RunningPgBouncer } from '../storage/pgbouncer';
import { faithfulJournal } from './divergence-journals';
import { parseJsonLines, runCli } from './replay-fixtures';

/**
 * The replay CLI reads production databases, which often sit behind PgBouncer in transaction pooling: each
 * transaction may run on another server connection, and a server connection goes from client to client with whatever
 * session state the last one left. With one server connection (default_pool_size = 1) the CLI's store and another
 * client of the pool (a server, say) take turns on the same one, so what either leaves, the other gets. The CLI
 * used to make its sessions read-only (SET SESSION CHARACTERISTICS): another client's own session setting then
 * made the CLI's writes go through, and the CLI's setting made the other client read-only.
 */

const reachable = pgReachableSync();

describeWithPgBouncer(reachable, 'replay-pgbouncer.test.ts')(
  'replay CLI behind PgBouncer, pool_mode = transaction, one server connection',
  () => {
    const schema = uniqueSchema();
    const journal = faithfulJournal();
    // Longer than the CLI's page of 500 records, so the export reads three pages.
    const long = msgs('long', 1, 1201);
    let bouncer: RunningPgBouncer | undefined;
    let spec = '';
    const stores: ChatStore[] = [];
    const clients: Client[] = [];

    beforeAll(async () => {
      bouncer = await startPgBouncer({ poolMode: 'transaction', defaultPoolSize: 1 });
      spec = `${bouncer.url}?schema=${schema}`;
      // The server that wrote the journal, on PostgreSQL directly.
      const server = new PostgresStore({ url: PG_URL, schema, poolSize: 1 });
      await server.open();
      try {
        await server.createConversation(meta('c1'));
        await server.appendMessages('c1', msgs('c1', 1, 3));
        await server.createConversation({ ...meta('conv-1'), title: 'faithful' });
        await server.appendMessages('conv-1', journal);
        await server.createConversation(meta('long'));
        await server.appendMessages('long', long);
      } finally {
        await server.close();
      }
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await Promise.all(clients.splice(0).map((c) => c.end()));
    });
    afterAll(async () => {
      await bouncer?.stop();
      if (reachable) await dropSchema(schema);
    });

    /** The store the CLI reads with, opened as the CLI opens it. */
    async function cliStore(): Promise<ChatStore> {
      const store = await openStorage(parseStorageSpec(spec));
      stores.push(store);
      return store;
    }

    /** Another client of the pool, which gets the server connection the CLI's store used last. */
    async function pooledClient(): Promise<Client> {
      const client = new Client({ connectionString: bouncer!.url });
      clients.push(client);
      await client.connect();
      return client;
    }

    const storedState = () =>
      withClient(async (c) => {
        const { rows } = await c.query(
          `SELECT (SELECT max(sequence_id) FROM "${schema}".messages WHERE conversation_id = 'c1')::int AS last,
                sequence_reservation::int AS reservation FROM "${schema}".conversations WHERE conversation_id = 'c1'`,
        );
        return rows[0] as { last: number; reservation: number };
      });

    it("refuses a write through the CLI's store with PostgreSQL's read-only error, though another client of the connection set its session read-write", async () => {
      const reader = await cliStore();
      expect(await reader.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
      const other = await pooledClient();
      await other.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE');

      const refused = await reader.appendMessages('c1', [msg('c1', 4)]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isChatError(refused, 'STORAGE_ERR_UNAVAILABLE')).toBe(true);
      expect((refused as Error).message).toBe('PostgreSQL operation failed: cannot execute INSERT in a read-only transaction');
      expect(((refused as Error).cause as { code?: string }).code).toBe('25006');
      await expectCode(reader.setSequenceReservation('c1', 50), 'STORAGE_ERR_UNAVAILABLE');
      expect(await storedState()).toEqual({ last: 3, reservation: 0 });
    });

    it("leaves the pooled server connection as it found it: the next client writes, and may prepare the store's statement names", async () => {
      const reader = await cliStore();
      expect(await reader.readMessages('c1', 0, 10)).toEqual(msgs('c1', 1, 3));
      await expectCode(reader.appendMessages('c1', [msg('c1', 4)]), 'STORAGE_ERR_UNAVAILABLE');

      const other = await pooledClient();
      expect((await other.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'off' }]);
      const written = await other.query(`UPDATE "${schema}".conversations SET title = title WHERE conversation_id = 'c1'`);
      expect(written.rowCount).toBe(1);
      // The names the store gives its read and append statements (prepared once per connection by a server's store).
      for (const name of ['nlweb-read', 'nlweb-append-fast']) {
        expect((await other.query({ name, text: 'SELECT 1 AS one' })).rows).toEqual([{ one: 1 }]);
      }
      // Its own statements are its to remove: the next test starts on a clean connection.
      await other.query('DEALLOCATE ALL');
    });

    it('replays, checks, re-runs, exports and lists through PgBouncer (CLI processes)', async () => {
      const check = await runCli(['conv-1', '--storage', spec, '--check', '--rerun']);
      expect(check).toMatchObject({ code: 0, stderr: '' });
      expect(check.stdout).toContain(`rerun OK: conversation conv-1: ${journal.length} records, ${journal.length} compared, 0 divergences`);

      const exported = await runCli(['export', 'long', '--storage', spec]);
      expect(exported).toMatchObject({ code: 0, stderr: '' });
      const [header, ...records] = parseJsonLines(exported.stdout);
      expect(header).toMatchObject({ format: 'nlweb-chat-journal', conversation_id: 'long' });
      expect(records).toEqual(long);

      const list = await runCli(['list', '--storage', spec]);
      expect(list).toMatchObject({ code: 0, stderr: '' });
      expect(list.stdout).toMatch(/^long\t\S+\tactive\t1201 records\ttitle of long$/m);
      expect(list.stdout).toMatch(/^conv-1\t\S+\tactive\t\d+ records\tfaithful$/m);
    });
  },
);
