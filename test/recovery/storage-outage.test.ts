import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { ChatError, createChatRuntime, isChatError, type ChatMessage, type PostResult } from '../../actors';
import { LEASE_BLOCK } from '../../actors/sequence-lease';
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
 * A SQLite file whose write lock another connection holds (a backup, a VACUUM, a second server).
 * better-sqlite3 is synchronous; with the driver's busy timeout every journal write attempt used to
 * block the whole event loop for 5 s (3 posts took ≈ 5 s). The provider now runs with busy_timeout 0
 * and waits for the lock on timers (storage-providers/sqlite-lock-wait.ts): a write that cannot get the
 * lock is STORAGE_ERR_UNAVAILABLE after `busyTimeoutMs`, the journal writer and the sequence lease
 * retry it with backoff, and delivery goes on meanwhile.
 */
describe('storage outage (SQLite): the file locked by another connection', () => {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const reservationFailed = (l: Record<string, unknown>) => l.msg === 'sequence reservation failed; retrying';

  /** A runtime on a fresh file with one stored message, a subscriber, and a second connection to lock the file with. */
  async function startWithSecondConnection() {
    const dir = makeTmpDir();
    closers.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'chat.db');
    const store = new SqliteStore({ path: file });
    await store.open();
    closers.push(() => store.close());
    const log = capturedLogger();
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' }, chat: { storage: { retry_initial_ms: 5, retry_max_ms: 100 } } },
      storage: store,
      logger: log.logger,
    });
    closers.push(() => runtime.close({ deadlineMs: 10_000 }));
    const other = new Database(file);
    closers.push(() => {
      if (other.inTransaction) other.prepare('ROLLBACK').run();
      other.close();
    });
    await runtime.createConversation({
      conversation_id: 'locked',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const first = await runtime.post('locked', { sender_id: 'alice', message_id: 'm0', content: 'before' });
    await within(first.whenPersisted, 10_000, 'first record stored');
    const watcher = outputCollector();
    await runtime.subscribe('locked', 'bob', watcher.listener);
    return { file, store, runtime, log, watcher, other, first };
  }

  it('does not stall delivery while the journal cannot be written; once unlocked every record is stored, in order', async () => {
    const { file, store, runtime, log, watcher, other, first } = await startWithSecondConnection();

    other.prepare('BEGIN IMMEDIATE').run(); // another writer holds the lock
    const started = performance.now();
    const locked: PostResult[] = [];
    for (let i = 1; i <= 3; i++) {
      locked.push(await runtime.post('locked', { sender_id: 'alice', message_id: `m${i}`, content: `while locked ${i}` }));
    }
    const elapsedMs = performance.now() - started;
    expect(watcher.messages.map((m) => m.message_id)).toEqual(['m1', 'm2', 'm3']);
    // Three posts on an idle machine take well under a millisecond each; one blocked write attempt took 5 s.
    expect(elapsedMs).toBeLessThan(1000);
    expect(locked.every((r) => !r.persisted)).toBe(true);

    // Reads do not wait for the writer (WAL): history has the stored record, not the queued ones.
    const history = await within(store.readMessages('locked', 0, 100), 1000, 'a read while locked');
    expect(history.map((m) => m.message_id)).toContain('m0');
    expect(history.some((m) => locked.some((r) => r.message_id === m.message_id))).toBe(false);

    // Past the stored sequence reservation: its renewal fails like the journal writes, is retried, and
    // delivery goes on instead of waiting for it (or failing the conversation).
    for (let i = 4; i <= 4 + LEASE_BLOCK; i++) {
      locked.push(await runtime.post('locked', { sender_id: i % 2 ? 'alice' : 'bob', message_id: `m${i}`, content: `more ${i}` }));
    }
    await within(log.next(reservationFailed), 10_000, 'a failed sequence reservation');
    expect(log.lines.filter(reservationFailed).every((l) => (l.err as { code?: string }).code === 'STORAGE_ERR_UNAVAILABLE')).toBe(true);
    expect(watcher.messages.map((m) => m.sequence_id)).toEqual(locked.map((r) => r.sequence_id));
    expect(runtime.health().failed_conversations).toEqual([]);

    other.prepare('ROLLBACK').run();
    await within(Promise.all(locked.map((r) => r.whenPersisted)), 20_000, 'every record stored after the lock is released');
    // Read back through a connection of its own, straight from the file.
    const reader = new SqliteStore({ path: file });
    await reader.open();
    try {
      const journal = await readAll(reader, 'locked');
      expectContiguous(journal);
      const posts = journal.filter((m) => m.sender_type === 'human');
      expect(posts.map((m) => m.message_id)).toEqual([first, ...locked].map((r) => r.message_id));
      expect(posts.map((m) => m.sequence_id)).toEqual([first, ...locked].map((r) => r.sequence_id));
      // The subscriber saw the same records, each once, in order.
      const ids = (ms: readonly ChatMessage[]) => ms.map((m) => `${m.sequence_id}:${m.message_id}`);
      expect(ids(journal.slice(journal.length - watcher.messages.length))).toEqual(ids(watcher.messages));
    } finally {
      await reader.close();
    }
  });

  it('health reports the journal failing while the file is locked and healthy once the lock is released', async () => {
    const { runtime, log, other } = await startWithSecondConnection();
    expect(runtime.health()).toMatchObject({ status: 'healthy', storage: 'connected', persistence_lag: 0 });

    other.prepare('BEGIN IMMEDIATE').run();
    const started = performance.now();
    const locked: PostResult[] = [];
    for (let i = 1; i <= 3; i++) locked.push(await runtime.post('locked', { sender_id: 'bob', message_id: `b${i}`, content: `${i}` }));
    await within(log.next(writeFailed), 10_000, 'a failed journal write');
    // A failed attempt is reported after busyTimeoutMs (100 ms), not after a 5 s blocked call.
    expect(performance.now() - started).toBeLessThan(2500);
    const degraded = runtime.health();
    expect(degraded).toMatchObject({ status: 'degraded', storage: 'failing' });
    expect(degraded.reasons).toContain('journal writes failing in 1 conversation(s)');
    expect(degraded.persistence_lag).toBeGreaterThanOrEqual(3);
    expect(log.lines.filter(writeFailed).every((l) => (l.err as { code?: string }).code === 'STORAGE_ERR_UNAVAILABLE')).toBe(true);
    // The file is reachable (readers are not blocked), so storage is failing, not disconnected.
    expect(await runtime.checkStorage()).toBe(true);
    expect(runtime.health().storage).toBe('failing');

    other.prepare('ROLLBACK').run();
    await within(Promise.all(locked.map((r) => r.whenPersisted)), 20_000, 'the queued records stored');
    expect(runtime.health()).toMatchObject({ status: 'healthy', storage: 'connected', persistence_lag: 0 });
  });
});
