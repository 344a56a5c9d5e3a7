import { execFile } from 'node:child_process';
import path from 'node:path';
import {
  ChatError,
  createChatRuntime,
  createCounterIds,
  createManualClock,
  isChatError,
  type ChatMessage,
  type ManualClock,
} from '../../actors';
import type { ConversationRegistryRuntime } from '../../actors/chat-runtime';
import { loadConfig } from '../../config';
import type { ConfigInput } from '../../config/config-types';
import { createChatServer, type ChatServer } from '../../gateway';
import { MemoryStore, REDACTION_MARKER, type ChatStore } from '../../storage-providers';
import { describeWithPg, pgReachableSync } from '../storage/pg-helpers';
import {
  expectContiguous,
  memoryFixture,
  outputCollector,
  postgresFixture,
  readAll,
  sqliteFixture,
  within,
  type ProviderFixture,
} from './recovery-helpers';

const DAY_MS = 86_400_000;
const ROOT = path.resolve(__dirname, '../..');
const REPLAY_CLI = path.join(ROOT, 'dist/bin/replay.js');

function runReplay(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [REPLAY_CLI, ...args],
      { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function expectChatError(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isChatError(err) ? err.code : err).toBe(code);
}

/** Posts and waits until the record is in the journal. */
async function postStored(
  runtime: ConversationRegistryRuntime,
  conversationId: string,
  sender: string,
  messageId: string,
  content: string,
) {
  const result = await runtime.post(conversationId, { sender_id: sender, message_id: messageId, content });
  await within(result.whenPersisted, 20_000, `${messageId} to be stored`);
  return result.sequence_id;
}

/** Everything a fresh connection replays from after `after` (cache and/or journal), up to sync_complete. */
async function replayFrom(
  runtime: ConversationRegistryRuntime,
  conversationId: string,
  who: string,
  after: number,
): Promise<ChatMessage[]> {
  const c = outputCollector();
  const sub = await runtime.subscribe(conversationId, who, c.listener, { afterSequenceId: after });
  const done = await within(
    c.next((o) => o.type === 'sync_complete'),
    20_000,
    'sync_complete',
  );
  sub.close();
  expect(done).toMatchObject({ recovered: true });
  return c.messages;
}

function runProviderSuite(makeFixture: () => ProviderFixture, durable: boolean): void {
  let fixture: ProviderFixture;
  let clock: ManualClock;
  const opened: Array<{ close(): Promise<unknown> }> = [];

  async function start(config: ConfigInput = {}, store?: ChatStore) {
    const s = store ?? (await fixture.open());
    if (!opened.includes(s)) opened.push(s);
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' }, ...config },
      storage: s,
      clock,
      ids: createCounterIds('r'),
    });
    // Runtimes first (they flush into the store), then stores.
    opened.unshift(runtime);
    return { runtime, store: s };
  }

  beforeEach(() => {
    fixture = makeFixture();
    clock = createManualClock(Date.UTC(2026, 0, 1));
  });

  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close();
    await fixture.dispose();
  });

  describe('retention', () => {
    const config: ConfigInput = { chat: { security: { retention_days: 30, sweep_interval_s: 604_800 } } };

    it('the sweeper deletes conversations past retention_days from storage and from the live actor; younger ones stay', async () => {
      const { runtime, store } = await start(config);
      await runtime.createConversation({
        conversation_id: 'old-live',
        created_by: 'alice',
        participants: [{ participant_id: 'bob', participant_type: 'human' }],
      });
      await runtime.createConversation({ conversation_id: 'old-idle', created_by: 'alice' });
      for (let i = 1; i <= 3; i++) await postStored(runtime, 'old-live', 'bob', `ol-${i}`, `old secret ${i}`);
      await postStored(runtime, 'old-idle', 'alice', 'oi-1', 'idle secret');
      const watcher = outputCollector();
      await runtime.subscribe('old-live', 'bob', watcher.listener);

      // 20 days later a new conversation starts; 11 days after that the first two are 31 days old.
      clock.advance(20 * DAY_MS);
      await runtime.createConversation({ conversation_id: 'young', created_by: 'alice' });
      await postStored(runtime, 'young', 'alice', 'y-1', 'young text');
      clock.advance(11 * DAY_MS);

      const deleted = await runtime.sweepRetention();
      expect([...deleted].sort()).toEqual(['old-idle', 'old-live']);

      // The live actor was stopped and its connection told why.
      expect(
        await within(
          watcher.next((o) => o.type === 'closed'),
          10_000,
          'closed output',
        ),
      ).toEqual({ type: 'closed', reason: 'deleted' });
      for (const id of ['old-live', 'old-idle']) {
        expect(await store.getConversation(id)).toBeUndefined();
        expect(await store.readMessages(id, 0, 100)).toEqual([]);
        expect(await store.getParticipants(id)).toEqual([]);
        expect(await store.lastSequenceId(id)).toBe(0);
        await expectChatError(runtime.getConversation(id), 'CHAT_ERR_NOT_FOUND');
        await expectChatError(runtime.post(id, { sender_id: 'alice', message_id: 'late', content: 'x' }), 'CHAT_ERR_NOT_FOUND');
      }
      expect((await store.listConversationsForUser('alice', { includeLeft: true })).map((c) => c.conversation_id)).toEqual(['young']);
      expect((await readAll(store, 'young')).map((m) => m.content)).toContain('young text');
      expect((await runtime.getConversation('young')).last_sequence_id).toBeGreaterThan(0);
      // Idempotent: nothing left to delete.
      expect(await runtime.sweepRetention()).toEqual([]);

      if (fixture.durable) {
        // Nothing comes back from the file / database after a restart.
        await runtime.close();
        const again = await start(config);
        expect(await again.store.getConversation('old-live')).toBeUndefined();
        expect(await again.store.readMessages('old-live', 0, 10)).toEqual([]);
        await expectChatError(again.runtime.getConversation('old-idle'), 'CHAT_ERR_NOT_FOUND');
        expect((await again.runtime.getConversation('young')).conversation_id).toBe('young');
      }
    });

    it('the background sweep runs every sweep_interval_s on the injected clock', async () => {
      const { runtime, store } = await start({ chat: { security: { retention_days: 1, sweep_interval_s: 2 * 86_400 } } });
      await runtime.createConversation({ conversation_id: 'short-lived', created_by: 'alice' });
      await postStored(runtime, 'short-lived', 'alice', 's-1', 'gone soon');
      const watcher = outputCollector();
      await runtime.subscribe('short-lived', 'alice', watcher.listener);
      // Resolve when the sweeper's delete has reached the store (not only the actor).
      let deletedInStore!: () => void;
      const storeDeleted = new Promise<void>((resolve) => (deletedInStore = resolve));
      const original = store.deleteConversation.bind(store);
      jest.spyOn(store, 'deleteConversation').mockImplementation(async (id: string) => {
        await original(id);
        deletedInStore();
      });

      clock.advance(DAY_MS); // the timer is due at 2 days: nothing happens yet
      expect(watcher.outputs.some((o) => o.type === 'closed')).toBe(false);
      clock.advance(DAY_MS);
      await within(storeDeleted, 10_000, 'the background sweep to delete');
      expect(
        await within(
          watcher.next((o) => o.type === 'closed'),
          10_000,
          'closed output',
        ),
      ).toEqual({ type: 'closed', reason: 'deleted' });
      expect(await store.getConversation('short-lived')).toBeUndefined();
      expect(await store.readMessages('short-lived', 0, 10)).toEqual([]);
    });
  });

  describe('redaction', () => {
    // A small cache, so a replay reads the oldest records from storage and the newest from the cache.
    const config: ConfigInput = { chat: { cache: { recent_messages: 4 } } };

    async function seed(runtime: ConversationRegistryRuntime) {
      await runtime.createConversation({
        conversation_id: 'conv',
        created_by: 'alice',
        participants: [
          { participant_id: 'bob', participant_type: 'human' },
          { participant_id: 'carol', participant_type: 'human' },
        ],
      });
      const seq: Record<string, number> = {};
      for (let i = 1; i <= 6; i++) {
        seq[`a${i}`] = await postStored(runtime, 'conv', 'alice', `a${i}`, `alice secret ${i}`);
        if (i % 2 === 0) seq[`b${i / 2}`] = await postStored(runtime, 'conv', 'bob', `b${i / 2}`, `bob secret ${i / 2}`);
      }
      return seq;
    }

    it('runtime.redact replaces content with the marker in the store and the cache, keeping sequence ids; owner only', async () => {
      const { runtime, store } = await start(config);
      const seq = await seed(runtime);
      const before = await readAll(store, 'conv');
      const live = outputCollector();
      await runtime.subscribe('conv', 'carol', live.listener);

      await expectChatError(runtime.redact('conv', { messageIds: ['a1'] }, 'bob'), 'CHAT_ERR_FORBIDDEN');
      // a1 is older than the cache; a6 is in it.
      const { redacted } = await runtime.redact('conv', { messageIds: ['a1', 'a6'] }, 'alice');
      expect(redacted).toEqual([seq.a1, seq.a6].sort((x, y) => x - y));

      // Everyone connected is told which records changed, by a sequenced record.
      const notice = (await within(
        live.next((o) => o.type === 'message' && o.message.message_type === 'redaction'),
        10_000,
        'redaction record',
      )) as {
        message: ChatMessage;
      };
      expect(notice.message.sequence_id).toBe(before.length + 1);
      expect(notice.message.metadata).toMatchObject({
        redacted_sequence_ids: [seq.a1, seq.a6].sort((x, y) => x - y),
        requested_by: 'alice',
      });
      expect(JSON.stringify(notice.message)).not.toContain('alice secret');
      expect(await runtime.redact('conv', { messageIds: [] }, 'alice')).toEqual({ redacted: [], alreadyRedacted: [], changed: false });
      // Let the redaction record reach the journal before comparing.
      await postStored(runtime, 'conv', 'carol', 'c1', 'carol text');

      const after = await readAll(store, 'conv');
      expectContiguous(after);
      expect(after.length).toBe(before.length + 2);
      for (const m of after.slice(0, before.length)) {
        const was = before[m.sequence_id - 1];
        expect([m.message_id, m.sender_id, m.sender_type, m.message_type, m.timestamp]).toEqual([
          was.message_id,
          was.sender_id,
          was.sender_type,
          was.message_type,
          was.timestamp,
        ]);
        if (m.sequence_id === seq.a1 || m.sequence_id === seq.a6) {
          expect(m.content).toBe(REDACTION_MARKER);
          expect(m.metadata.redacted).toBe(true);
        } else {
          expect(m.content).toBe(was.content);
        }
      }

      // A resume replays the marker from storage (a1) and from the actor's cache (a6).
      const fromStart = await replayFrom(runtime, 'conv', 'bob', 0);
      expect(fromStart.map((m) => m.sequence_id)).toEqual(after.map((m) => m.sequence_id));
      expect(fromStart.find((m) => m.sequence_id === seq.a1)?.content).toBe(REDACTION_MARKER);
      expect(fromStart.find((m) => m.sequence_id === seq.a6)?.content).toBe(REDACTION_MARKER);
      const fromCache = await replayFrom(runtime, 'conv', 'bob', seq.a6 - 1);
      expect(fromCache[0]).toMatchObject({ sequence_id: seq.a6, content: REDACTION_MARKER });
      const page = await runtime.readMessages('conv', 0, 1000, 'bob');
      expect(page.filter((m) => m.content.includes('alice secret 1') || m.content.includes('alice secret 6'))).toEqual([]);

      if (fixture.durable) {
        await runtime.close();
        const again = await start(config);
        const replayed = await replayFrom(again.runtime, 'conv', 'bob', 0);
        expect(replayed.map((m) => m.content)).toEqual(after.map((m) => m.content));
        expect(replayed.filter((m) => m.content === REDACTION_MARKER).map((m) => m.sequence_id)).toEqual(
          [seq.a1, seq.a6].sort((x, y) => x - y),
        );
      }
    });

    it('redacting a sender replaces everything that participant wrote, in the journal and the cache', async () => {
      const { runtime, store } = await start(config);
      await seed(runtime);
      const { redacted } = await runtime.redact('conv', { senderId: 'bob' });
      const journal = await readAll(store, 'conv');
      const bobs = journal.filter((m) => m.sender_id === 'bob');
      expect(bobs.length).toBeGreaterThanOrEqual(3);
      expect([...redacted].sort((x, y) => x - y)).toEqual(bobs.map((m) => m.sequence_id));
      for (const m of bobs) expect(m.content).toBe(REDACTION_MARKER);
      expect(journal.filter((m) => m.content.includes('bob secret'))).toEqual([]);
      expect(journal.filter((m) => m.content.startsWith('alice secret')).length).toBe(6);
      const replayed = await replayFrom(runtime, 'conv', 'carol', 0);
      expect(replayed.filter((m) => m.content.includes('bob secret'))).toEqual([]);
      expect(replayed.length).toBeGreaterThanOrEqual(journal.length);
    });

    it('the HTTP endpoint redacts for the owner only (403 for members and strangers) and history shows the marker', async () => {
      const { runtime } = await start(config);
      const seq = await seed(runtime);
      const serverConfig = loadConfig({
        overrides: { server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' } }, observability: { log_level: 'silent' } },
      });
      const server: ChatServer = createChatServer({ runtime, config: serverConfig });
      opened.unshift(server);
      const { url } = await server.listen();
      const redactAs = (user: string, body: unknown) =>
        fetch(`${url}/chat/conversations/conv/redact?user_id=${user}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      for (const user of ['bob', 'mallory']) {
        const refused = await redactAs(user, { message_ids: ['a2'] });
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ error: 'CHAT_ERR_FORBIDDEN' });
      }
      const ok = await redactAs('alice', { message_ids: ['a2', 'b3'] });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({
        conversation_id: 'conv',
        redacted_sequence_ids: [seq.a2, seq.b3].sort((x, y) => x - y),
        already_redacted_sequence_ids: [],
        changed: true,
      });

      const history = await fetch(`${url}/chat/conversations/conv/messages?user_id=bob&limit=500`);
      expect(history.status).toBe(200);
      const messages = ((await history.json()) as { messages: ChatMessage[] }).messages;
      expectContiguous(messages);
      expect(messages.find((m) => m.sequence_id === seq.a2)?.content).toBe(REDACTION_MARKER);
      expect(messages.find((m) => m.sequence_id === seq.b3)?.content).toBe(REDACTION_MARKER);
      expect(messages.find((m) => m.sequence_id === seq.a3)?.content).toBe('alice secret 3');
      expect(messages.some((m) => m.message_type === 'redaction')).toBe(true);

      const bySender = await redactAs('alice', { sender_id: 'carol' });
      expect(bySender.status).toBe(200);
    });

    if (durable) {
      it('the replay CLI shows the marker instead of the content', async () => {
        const { runtime } = await start(config);
        const seq = await seed(runtime);
        await runtime.redact('conv', { messageIds: ['a4'] }, 'alice');
        await runtime.close(); // flushes the redaction record

        const json = await runReplay(['conv', '--storage', fixture.replaySpec!, '--json']);
        expect(json.stderr).toBe('');
        expect(json.code).toBe(0);
        const records = json.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as ChatMessage);
        expectContiguous(records);
        expect(records.find((m) => m.sequence_id === seq.a4)).toMatchObject({ content: REDACTION_MARKER, metadata: { redacted: true } });
        expect(records.find((m) => m.sequence_id === seq.a5)?.content).toBe('alice secret 5');
        expect(records[records.length - 1]).toMatchObject({ message_type: 'redaction', metadata: { redacted_sequence_ids: [seq.a4] } });

        const text = await runReplay(['conv', '--storage', fixture.replaySpec!]);
        expect(text.code).toBe(0);
        expect(text.stdout).not.toContain('alice secret 4');
        expect(text.stdout).toContain('alice secret 5');
        const line = text.stdout.split('\n').find((l) => l.trimStart().startsWith(`${seq.a4} `));
        expect(line).toContain(REDACTION_MARKER);
        // A redacted journal still satisfies every invariant.
        const check = await runReplay(['conv', '--storage', fixture.replaySpec!, '--check']);
        expect(check.code).toBe(0);
      });
    }
  });
}

describe('retention and redaction: memory', () => runProviderSuite(memoryFixture, false));
describe('retention and redaction: sqlite', () => runProviderSuite(sqliteFixture, true));
describeWithPg(pgReachableSync())('retention and redaction: postgres', () => runProviderSuite(postgresFixture, true));

/** A memory store whose journal appends fail while `down` (other operations work): storage that is behind. */
class BehindMemoryStore extends MemoryStore {
  down = false;
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.down) throw new ChatError('STORAGE_ERR_UNAVAILABLE', 'injected: journal writes failing');
    return super._appendMessages(conversationId, messages);
  }
}

describe('redaction while the journal is behind', () => {
  it('refuses (STORAGE_ERR_UNAVAILABLE, retriable) instead of reporting success and storing the text later', async () => {
    const store = new BehindMemoryStore();
    await store.open();
    const runtime = await createChatRuntime({
      config: {
        observability: { log_level: 'silent', shutdown_deadline_s: 0.1 },
        chat: { storage: { retry_initial_ms: 5, retry_max_ms: 20 } },
      },
      storage: store,
    });
    try {
      await runtime.createConversation({ conversation_id: 'behind', created_by: 'alice' });
      store.down = true;
      const posted = await runtime.post('behind', { sender_id: 'alice', message_id: 'pii', content: 'my phone number' });
      // The record is delivered and queued, not stored: a redaction now cannot reach it in the journal.
      await expectChatError(runtime.redact('behind', { messageIds: ['pii'] }, 'alice'), 'STORAGE_ERR_UNAVAILABLE');

      store.down = false;
      await within(posted.whenPersisted, 10_000, 'the record to be stored');
      expect((await runtime.redact('behind', { messageIds: ['pii'] }, 'alice')).redacted).toEqual([posted.sequence_id]);
      const journal = await readAll(store, 'behind');
      expect(journal.find((m) => m.message_id === 'pii')?.content).toBe(REDACTION_MARKER);
      expect(journal.some((m) => m.content.includes('phone'))).toBe(false);
    } finally {
      await runtime.close({ deadlineMs: 2000 });
      await store.close();
    }
  });
});

describe('retention with two processes on one journal', () => {
  it("a conversation deleted by the other process's sweep is closed here at its next write, not retried forever", async () => {
    const fixture = sqliteFixture();
    const storeA = await fixture.open();
    const storeB = await fixture.open();
    // B's clock starts at A's "now" and is moved 31 days ahead.
    const clockB = createManualClock(Date.now());
    const config = { observability: { log_level: 'silent' as const } };
    const a = await createChatRuntime({ config, storage: storeA });
    const b = await createChatRuntime({
      config: { ...config, chat: { security: { retention_days: 30, sweep_interval_s: 604_800 } } },
      storage: storeB,
      clock: clockB,
    });
    try {
      await a.createConversation({
        conversation_id: 'shared',
        created_by: 'alice',
        participants: [{ participant_id: 'bob', participant_type: 'human' }],
      });
      await postStored(a, 'shared', 'alice', 'm1', 'hello');
      const watcher = outputCollector();
      await a.subscribe('shared', 'bob', watcher.listener);

      clockB.advance(31 * DAY_MS);
      expect(await b.sweepRetention()).toEqual(['shared']);

      // Process A still has the actor; its next record cannot be stored because the conversation is gone.
      await a.post('shared', { sender_id: 'alice', message_id: 'm2', content: 'after the sweep' });
      expect(
        await within(
          watcher.next((o) => o.type === 'closed'),
          10_000,
          'closed output',
        ),
      ).toEqual({ type: 'closed', reason: 'deleted' });
      await expectChatError(a.getConversation('shared'), 'CHAT_ERR_NOT_FOUND');
      expect(a.health()).toMatchObject({ status: 'healthy', storage: 'connected', persistence_lag: 0 });
      expect(await storeA.getConversation('shared')).toBeUndefined();
    } finally {
      await a.close({ deadlineMs: 100 });
      await b.close();
      await storeA.close();
      await storeB.close();
      await fixture.dispose();
    }
  });
});
