import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { ChatError, createChatRuntime, isChatError, type ChatMessage, type PostResult } from '../../actors';
import type { ConversationRegistryRuntime } from '../../actors/chat-runtime';
import { PostgresStore, SqliteStore } from '../../storage-providers';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema, withClient } from '../storage/pg-helpers';
import { expectContiguous, makeTmpDir, outputCollector, readAll, recoveryAppName, within } from './recovery-helpers';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

/** A PostgreSQL store whose journal writes can be made to fail: before the write, or after it committed. */
class FlakyPostgresStore extends PostgresStore {
  /** While true every append throws STORAGE_ERR_UNAVAILABLE without writing. */
  down = false;
  /** The next N appends commit, then throw as if the answer was lost with the connection. */
  loseAnswers = 0;
  failures = 0;
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.down) {
      this.failures++;
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', 'injected outage');
    }
    await super._appendMessages(conversationId, messages);
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      this.failures++;
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', 'injected: committed, answer lost');
    }
  }
}

/** A pino logger whose lines a test can await (the journal writer logs each failed attempt). */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  const logger = pino(
    { level: 'warn' },
    {
      write(text: string) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.match(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      },
    },
  );
  return {
    logger,
    lines,
    next(match: (l: Record<string, unknown>) => boolean): Promise<void> {
      if (lines.some(match)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
const writeFailed = (l: Record<string, unknown>) => l.msg === 'journal write failed; retrying in order';

const HUMANS = ['alice', 'bob', 'carol'] as const;
const PG_PORT = Number(new URL(PG_URL).port || 5432);

function viaProxy(proxy: TcpProxy): string {
  const url = new URL(PG_URL);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

describeWithPg(pgReachableSync())('storage outage (PostgreSQL): delivery continues, nothing acknowledged is lost', () => {
  let schema: string;
  let proxy: TcpProxy;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    schema = uniqueSchema();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: PG_PORT });
  });

  afterEach(async () => {
    proxy.accept();
    for (const close of closers.splice(0).reverse()) await close();
    await proxy.close();
    await dropSchema(schema);
  });

  /**
   * Refuses new connections at the proxy, then has PostgreSQL terminate every backend of the pool
   * (by application_name); returns how many were terminated.
   */
  async function startOutage(appName: string): Promise<number> {
    proxy.refuse();
    return withClient(async (c) => {
      const res = await c.query<{ n: string }>(
        'SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      return Number(res.rows[0].n);
    });
  }

  async function startRuntime(store: PostgresStore, queueSize = 1000) {
    await store.open();
    closers.push(() => store.close());
    const log = capturedLogger();
    const runtime = await createChatRuntime({
      config: {
        observability: { log_level: 'silent' },
        chat: { storage: { retry_initial_ms: 5, retry_max_ms: 100, batch_max: 8 }, limits: { queue_size: queueSize } },
      },
      storage: store,
      logger: log.logger,
    });
    closers.push(() => runtime.close({ deadlineMs: 5000 }));
    await runtime.createConversation({
      conversation_id: 'conv',
      created_by: 'alice',
      participants: [
        { participant_id: 'bob', participant_type: 'human' },
        { participant_id: 'carol', participant_type: 'human' },
      ],
    });
    const watcher = outputCollector();
    await runtime.subscribe('conv', 'carol', watcher.listener);
    return { runtime, log, watcher };
  }

  /** Posts `count` messages round-robin from the humans; each must reach the subscriber at once. */
  async function postMany(
    runtime: ConversationRegistryRuntime,
    watcher: ReturnType<typeof outputCollector>,
    prefix: string,
    count: number,
  ): Promise<PostResult[]> {
    const results: PostResult[] = [];
    for (let i = 0; i < count; i++) {
      const sender = HUMANS[i % HUMANS.length];
      const result = await runtime.post('conv', {
        sender_id: sender,
        message_id: `${prefix}-${i}`,
        content: `${prefix} text ${i} from ${sender}`,
      });
      // Delivery never waits for storage.
      expect(watcher.messages[watcher.messages.length - 1]).toMatchObject({
        sequence_id: result.sequence_id,
        message_id: `${prefix}-${i}`,
      });
      results.push(result);
    }
    return results;
  }

  /** Every acknowledged message is in the journal exactly once, at its sequence id, with no gap. */
  async function expectAllStored(results: readonly PostResult[], watcher: ReturnType<typeof outputCollector>): Promise<ChatMessage[]> {
    await within(Promise.all(results.map((r) => r.whenPersisted)), 30_000, 'every acknowledged message to be stored');
    // Read back through an independent connection, straight from the database.
    const reader = new PostgresStore({ url: PG_URL, schema, poolSize: 1 });
    await reader.open();
    try {
      const journal = await readAll(reader, 'conv');
      expectContiguous(journal);
      for (const r of results) {
        const stored = journal.filter((m) => m.message_id === r.message_id);
        expect(stored.map((m) => m.sequence_id)).toEqual([r.sequence_id]);
      }
      // The subscriber saw the same records, each once, in order.
      expect(watcher.messages.map((m) => m.sequence_id)).toEqual(
        journal.slice(journal.length - watcher.messages.length).map((m) => m.sequence_id),
      );
      return journal;
    } finally {
      await reader.close();
    }
  }

  it('appends failing for a while (and answers lost after commit): degraded health, then every message stored in order', async () => {
    const store = new FlakyPostgresStore({ url: PG_URL, schema, poolSize: 4 });
    const { runtime, log, watcher } = await startRuntime(store);
    const before = await postMany(runtime, watcher, 'before', 6);
    await within(Promise.all(before.map((r) => r.whenPersisted)), 20_000, 'first messages stored');
    expect(runtime.health()).toMatchObject({ status: 'healthy', storage: 'connected', persistence_lag: 0 });

    store.down = true;
    const during = await postMany(runtime, watcher, 'during', 24);
    expect(during.every((r) => !r.persisted)).toBe(true);
    await within(log.next(writeFailed), 10_000, 'a failed journal write');
    const degraded = runtime.health();
    expect(degraded).toMatchObject({ status: 'degraded', storage: 'failing' });
    expect(degraded.reasons).toContain('journal writes failing in 1 conversation(s)');
    expect(degraded.persistence_lag).toBeGreaterThanOrEqual(24);
    // More traffic while it is still down: still delivered, still queued in order.
    const more = await postMany(runtime, watcher, 'more', 6);

    // Back, but the first two commits lose their answer: the writer must skip, not duplicate or stall.
    store.loseAnswers = 2;
    store.down = false;
    await expectAllStored([...before, ...during, ...more], watcher);
    expect(store.failures).toBeGreaterThanOrEqual(3);
    expect(store.loseAnswers).toBe(0);
    expect(runtime.health()).toMatchObject({ status: 'healthy', storage: 'connected', persistence_lag: 0 });
    const watermark = watcher.outputs.filter((o) => o.type === 'persisted').pop();
    expect(watermark).toEqual({ type: 'persisted', up_to_sequence_id: more[more.length - 1].sequence_id });
  });

  it('PostgreSQL connections terminated and reconnects refused for a while: no crash, no loss, recovers', async () => {
    const appName = recoveryAppName(schema);
    const store = new PostgresStore({ url: viaProxy(proxy), schema, poolSize: 4, applicationName: appName, connectTimeoutMs: 2000 });
    const { runtime, log, watcher } = await startRuntime(store);
    const before = await postMany(runtime, watcher, 'before', 6);
    await within(Promise.all(before.map((r) => r.whenPersisted)), 20_000, 'first messages stored');
    await store.ping(); // at least one pooled connection to cut

    // The outage: the server kills the pool's connections and the "server" refuses new ones.
    expect(await startOutage(appName)).toBeGreaterThanOrEqual(1);

    const during = await postMany(runtime, watcher, 'during', 30);
    await within(log.next(writeFailed), 15_000, 'a failed journal write');
    expect(runtime.health()).toMatchObject({ status: 'degraded', storage: 'failing' });
    expect(await runtime.checkStorage()).toBe(false);
    expect(runtime.health()).toMatchObject({ status: 'unhealthy', storage: 'disconnected' });
    expect(proxy.refused).toBeGreaterThanOrEqual(1);
    const failedAttempts = log.lines.filter(writeFailed);
    expect(failedAttempts.every((l) => (l.err as { code?: string } | undefined)?.code === 'STORAGE_ERR_UNAVAILABLE')).toBe(true);

    proxy.accept();
    await expectAllStored([...before, ...during], watcher);
    expect(await runtime.checkStorage()).toBe(true);
    expect(runtime.health()).toMatchObject({ status: 'healthy', storage: 'connected', persistence_lag: 0 });
    // And the conversation goes on normally.
    const after = await postMany(runtime, watcher, 'after', 3);
    await within(Promise.all(after.map((r) => r.whenPersisted)), 20_000, 'later messages stored');
  });

  it('with storage down long enough the mailbox bound refuses posts (CHAT_ERR_QUEUE_FULL) instead of growing', async () => {
    const queueSize = 30;
    const appName = recoveryAppName(schema);
    const store = new PostgresStore({ url: viaProxy(proxy), schema, poolSize: 2, applicationName: appName, connectTimeoutMs: 2000 });
    const { runtime, log, watcher } = await startRuntime(store, queueSize);
    const before = await postMany(runtime, watcher, 'before', 3);
    await within(Promise.all(before.map((r) => r.whenPersisted)), 20_000, 'first messages stored');
    await store.ping();

    expect(await startOutage(appName)).toBeGreaterThanOrEqual(1);
    const accepted: PostResult[] = [];
    let refusal: unknown;
    for (let i = 0; i < 3 * queueSize && refusal === undefined; i++) {
      try {
        accepted.push(await runtime.post('conv', { sender_id: HUMANS[i % 3], message_id: `m-${i}`, content: `queued ${i}` }));
      } catch (err) {
        refusal = err;
      }
    }
    expect(isChatError(refusal, 'CHAT_ERR_QUEUE_FULL')).toBe(true);
    expect((refusal as ChatError).retryAfterMs).toBeGreaterThan(0);
    expect(accepted.length).toBe(queueSize);
    await within(log.next(writeFailed), 15_000, 'a failed journal write');
    const full = runtime.health();
    expect(full.queue_depths.conv).toBe(queueSize);
    expect(full.persistence_lag).toBe(queueSize);
    expect(full.reasons.some((r) => r.includes('mailbox'))).toBe(true);

    // Still full: new messages are refused and nothing accumulates; a retry of an accepted one is answered.
    for (let i = 0; i < 10; i++) {
      await expect(runtime.post('conv', { sender_id: 'bob', message_id: `extra-${i}`, content: 'x' })).rejects.toMatchObject({
        code: 'CHAT_ERR_QUEUE_FULL',
      });
    }
    const retry = await runtime.post('conv', { sender_id: HUMANS[0], message_id: 'm-0', content: 'queued 0' });
    expect(retry).toMatchObject({ duplicate: true, sequence_id: accepted[0].sequence_id });
    expect(runtime.health().queue_depths.conv).toBe(queueSize);

    proxy.accept();
    const journal = await expectAllStored([...before, ...accepted], watcher);
    expect(journal.some((m) => m.message_id.startsWith('extra-'))).toBe(false);
    const later = await runtime.post('conv', { sender_id: 'bob', message_id: 'later', content: 'room again' });
    expect(later.sequence_id).toBe(journal[journal.length - 1].sequence_id + 1);
    await within(later.whenPersisted, 20_000, 'post after recovery stored');
  });
});

/**
 * KNOWN LIMITATION (reported): better-sqlite3 is synchronous and the provider opens the file with a
 * 5 s busy timeout, so while another process (a backup, a VACUUM, a second server) holds the write lock,
 * every journal write attempt blocks the whole event loop for up to 5 s: delivery, acks and heartbeats
 * of every conversation stall. `it.failing` keeps the reproduction: it passes while the stall exists
 * and fails (so the marker must go) once a locked file no longer blocks delivery.
 */
describe('storage outage (SQLite): the file locked by another connection', () => {
  it.failing(
    'does not stall delivery while the journal cannot be written',
    async () => {
      const dir = makeTmpDir();
      const file = path.join(dir, 'chat.db');
      const store = new SqliteStore({ path: file });
      await store.open();
      const runtime = await createChatRuntime({ config: { observability: { log_level: 'silent' } }, storage: store });
      const other = new Database(file);
      try {
        await runtime.createConversation({
          conversation_id: 'locked',
          created_by: 'alice',
          participants: [{ participant_id: 'bob', participant_type: 'human' }],
        });
        const first = await runtime.post('locked', { sender_id: 'alice', message_id: 'm0', content: 'before' });
        await within(first.whenPersisted, 10_000, 'first record stored');
        const watcher = outputCollector();
        await runtime.subscribe('locked', 'bob', watcher.listener);

        other.prepare('BEGIN IMMEDIATE').run(); // another writer holds the lock
        const started = performance.now();
        for (let i = 1; i <= 3; i++)
          await runtime.post('locked', { sender_id: 'alice', message_id: `m${i}`, content: `while locked ${i}` });
        const elapsedMs = performance.now() - started;
        other.prepare('ROLLBACK').run();
        expect(watcher.messages.map((m) => m.message_id)).toEqual(['m1', 'm2', 'm3']);
        // Three posts on an idle machine take well under a millisecond each.
        expect(elapsedMs).toBeLessThan(1000);
      } finally {
        if (other.inTransaction) other.prepare('ROLLBACK').run();
        other.close();
        await runtime.close({ deadlineMs: 10_000 });
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
