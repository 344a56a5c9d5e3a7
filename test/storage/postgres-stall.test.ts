import { isChatError } from '../../actors/errors';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { expectCode } from '../../testing';
import { meta, msg } from '../../testing/store-contract/fixtures';
import { startTcpProxy, type TcpProxy } from '../recovery/tcp-proxy';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from './pg-helpers';

/**
 * A PostgreSQL that stops answering without closing its connections (a partition, a frozen host), in front
 * of a real PostgresStore. Before the operation bound an append on such a connection waited until TCP gave
 * up (minutes): the journal writes of that conversation queued behind it and never failed, so they were never
 * retried and health never called the journal failing.
 */
const reachable = pgReachableSync();
const PG_PORT = Number(new URL(PG_URL).port || 5432);

describeWithPg(reachable)('PostgresStore when PostgreSQL stalls', () => {
  const schema = uniqueSchema();
  let proxy: TcpProxy;
  let store: PostgresStore;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: PG_PORT });
    const url = new URL(PG_URL);
    url.port = String(proxy.port);
    store = new PostgresStore({ url: url.toString(), schema, poolSize: 2, operationTimeoutMs: 300 });
    await store.open();
    await store.createConversation(meta('c1'));
  });
  afterAll(async () => {
    proxy.resume();
    await store.close();
    await proxy.close();
    if (reachable) await dropSchema(schema);
  });

  it('an operation left without an answer fails STORAGE_ERR_UNAVAILABLE after operation_timeout_ms; the store works once PostgreSQL answers', async () => {
    await store.appendMessages('c1', [msg('c1', 1)]);

    proxy.stall();
    const started = Date.now();
    await expectCode(store.appendMessages('c1', [msg('c1', 2)]), 'STORAGE_ERR_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2_000);

    proxy.resume();
    // The stuck connection was discarded; the retry gets a working one. The stalled append's bytes flow once the
    // proxy resumes and may commit at any moment (before or after the retry reads anything), so the retry sends
    // the same record again, as the journal writer does: it is stored now, or found stored, never twice.
    await store.appendMessages('c1', [msg('c1', 2)]).catch((err: unknown) => {
      if (!isChatError(err, 'STORAGE_ERR_DUPLICATE_SEQUENCE') && !isChatError(err, 'STORAGE_ERR_DUPLICATE_MESSAGE')) throw err;
    });
    await store.appendMessages('c1', [msg('c1', 3)]);
    expect(await store.lastSequenceId('c1')).toBe(3);
    expect((await store.readMessages('c1', 0, 10)).map((m) => m.sequence_id)).toEqual([1, 2, 3]);
  }, 20_000);
});
