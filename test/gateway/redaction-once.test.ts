/**
 * A redaction is announced exactly once (docs/conversations.md, Edits and deletes): redacting what is redacted
 * already appends no second `redaction` record and answers which ids were redacted already; a redaction stored but
 * never announced (its record lost to a stop) is announced when it is sent again, once; an older journal's
 * redaction records (ids `redaction-<own sequence id>`) still count. Real server on 127.0.0.1 port 0, real sockets,
 * on the memory, SQLite and PostgreSQL stores.
 */
import { createManualClock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import type { ChatStore } from '../../storage-providers';
import { memoryFixture, postgresFixture, sqliteFixture, type ProviderFixture } from '../recovery/recovery-helpers';
import { describeWithPg, pgReachableSync } from '../storage/pg-helpers';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';

const IDLE_TIMEOUT_S = 60;

const fixtures: [string, () => ProviderFixture, jest.Describe][] = [
  ['memory', memoryFixture, describe],
  ['sqlite', sqliteFixture, describe],
  ['postgres', postgresFixture, describeWithPg(pgReachableSync())],
];

/** Sends one post through the runtime and waits until the journal has it (a store change must find it). */
async function stored(h: Harness, conv: string, sender: string, messageId: string, content: string): Promise<number> {
  const posted = await h.runtime.post(conv, { sender_id: sender, message_id: messageId, content });
  await posted.whenPersisted;
  return posted.sequence_id;
}

async function journal(h: Harness, conv: string): Promise<ChatMessage[]> {
  const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'alice');
  expect(page.status).toBe(200);
  return page.body.messages as ChatMessage[];
}

async function redactionRecords(h: Harness, conv: string): Promise<[string, unknown][]> {
  return (await journal(h, conv))
    .filter((m) => m.message_type === 'redaction')
    .map((m) => [m.message_id, m.metadata.redacted_sequence_ids]);
}

/** Every call of runtime.redact the gateway makes, so a test can wait for a frame's redaction to end. */
function watchRedactions(h: Harness): { settled(n: number): Promise<PromiseSettledResult<unknown>[]> } {
  const calls: Promise<unknown>[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  const runtime = h.runtime as unknown as { redact: (...args: unknown[]) => Promise<unknown> };
  const original = runtime.redact.bind(runtime);
  runtime.redact = (...args: unknown[]) => {
    const call = original(...args);
    calls.push(call);
    for (const w of waiting) if (calls.length >= w.n) w.resolve();
    return call;
  };
  return {
    async settled(n) {
      if (calls.length < n) await new Promise<void>((resolve) => waiting.push({ n, resolve }));
      return Promise.allSettled(calls.slice(0, n));
    },
  };
}

for (const [name, fixture, describeStore] of fixtures) {
  describeStore(`${name}: a redaction is announced once`, () => {
    let location: ProviderFixture;
    let store: ChatStore;
    beforeEach(async () => {
      location = fixture();
      store = await location.open();
    });
    afterEach(async () => {
      const invalid = invalidFrames();
      await closeAll();
      await location.dispose();
      expect(invalid).toEqual([]);
    });

    test("the owner's repeated redaction appends no second record and answers which ids were redacted already", async () => {
      const h = await startHarness({}, { store });
      const conv = await h.createConversation('alice', ['bob']);
      const m1 = await stored(h, conv, 'alice', 'm1', 'hello');
      const b1 = await stored(h, conv, 'bob', 'b1', 'secret');
      const redact = (body: object) => h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', body);

      expect((await redact({ message_ids: ['m1'] })).body).toEqual({
        conversation_id: conv,
        redacted_sequence_ids: [m1],
        already_redacted_sequence_ids: [],
        changed: true,
      });
      const again = await redact({ message_ids: ['m1'] });
      expect([again.status, again.body]).toEqual([
        200,
        { conversation_id: conv, redacted_sequence_ids: [m1], already_redacted_sequence_ids: [m1], changed: false },
      ]);
      // Some new, some redacted already: only the new one is redacted and announced.
      expect((await redact({ message_ids: ['m1', 'b1'] })).body).toEqual({
        conversation_id: conv,
        redacted_sequence_ids: [m1, b1],
        already_redacted_sequence_ids: [m1],
        changed: true,
      });
      // By sender: bob's join record (its sender is bob) is new, his message is redacted already.
      const join = (await journal(h, conv)).find((m) => m.message_type === 'join' && m.sender_id === 'bob')!.sequence_id;
      expect((await redact({ sender_id: 'bob' })).body).toMatchObject({ already_redacted_sequence_ids: [b1], changed: true });
      expect((await redact({ sender_id: 'bob' })).body).toMatchObject({ already_redacted_sequence_ids: [join, b1], changed: false });
      expect(await redactionRecords(h, conv)).toEqual([
        [`redaction-of-${m1}`, [m1]],
        [`redaction-of-${b1}`, [b1]],
        [`redaction-of-${join}`, [join]],
      ]);
    });

    test('a delete frame sent twice, by a member and by the owner, sequences one redaction record each', async () => {
      const h = await startHarness({}, { store });
      const conv = await h.createConversation('alice', ['bob']);
      const m1 = await stored(h, conv, 'alice', 'm1', 'hello');
      const b1 = await stored(h, conv, 'bob', 'b1', 'secret');
      const edited = await h.request('POST', `/chat/conversations/${conv}/edit`, 'bob', { message_id: 'b1', content: 'secret, edited' });
      expect(edited.body.changed).toBe(true);
      const editRecord = (await journal(h, conv)).find((m) => m.message_type === 'edit')!.sequence_id;
      const alice = await h.connect(conv, 'alice');
      const bob = await h.connect(conv, 'bob');
      const watched = watchRedactions(h);

      bob.send({ type: 'delete', message_id: 'b1' });
      bob.send({ type: 'delete', message_id: 'b1' });
      const byBob = await watched.settled(2);
      alice.send({ type: 'delete', message_id: 'm1' });
      alice.send({ type: 'delete', message_id: 'm1' });
      const byAlice = (await watched.settled(4)).slice(2);
      const [bobRecord, aliceRecord] = (await journal(h, conv)).filter((m) => m.message_type === 'redaction').map((m) => m.sequence_id);
      expect([...byBob, ...byAlice].map((a) => (a.status === 'fulfilled' ? a.value : a.reason))).toEqual([
        { redacted: [b1, editRecord], alreadyRedacted: [], changed: true, recordSequenceId: bobRecord },
        { redacted: [b1, editRecord], alreadyRedacted: [b1, editRecord], changed: false },
        { redacted: [m1], alreadyRedacted: [], changed: true, recordSequenceId: aliceRecord },
        { redacted: [m1], alreadyRedacted: [m1], changed: false },
      ]);
      expect(await redactionRecords(h, conv)).toEqual([
        [`redaction-of-${b1}`, [b1, editRecord]],
        [`redaction-of-${m1}`, [m1]],
      ]);
    });

    test("an owner's redaction stored but never announced is announced when sent again, and only once", async () => {
      const h = await startHarness({}, { store });
      const conv = await h.createConversation('alice', ['bob']);
      const m1 = await stored(h, conv, 'alice', 'm1', 'hello');
      const bob = await h.connect(conv, 'bob');
      // What a stop between storing the redaction and sequencing its record leaves: redacted, and no record says so.
      expect(await store.redactMessages(conv, { messageIds: ['m1'] })).toEqual({ redacted: [m1], alreadyRedacted: [] });

      const redact = () => h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['m1'] });
      expect((await redact()).body).toMatchObject({ redacted_sequence_ids: [m1], already_redacted_sequence_ids: [m1], changed: true });
      const { message } = await bob.waitFor('message', (f) => f.message.message_type === 'redaction');
      expect(message).toMatchObject({
        message_id: `redaction-of-${m1}`,
        sender_id: 'system',
        metadata: { redacted_sequence_ids: [m1], requested_by: 'alice' },
      });
      expect((await redact()).body).toMatchObject({ changed: false });
      expect(await redactionRecords(h, conv)).toEqual([[`redaction-of-${m1}`, [m1]]]);
      expect((await journal(h, conv)).find((m) => m.sequence_id === m1)?.content).toBe('[redacted]');
    });

    test("a member's delete stored only in part is finished and announced when the delete frame comes again", async () => {
      const h = await startHarness({}, { store });
      const conv = await h.createConversation('alice', ['bob']);
      const b1 = await stored(h, conv, 'bob', 'b1', 'secret');
      await h.request('POST', `/chat/conversations/${conv}/edit`, 'bob', { message_id: 'b1', content: 'secret, edited' });
      const editRecord = (await journal(h, conv)).find((m) => m.message_type === 'edit')!.sequence_id;
      const alice = await h.connect(conv, 'alice');
      const bob = await h.connect(conv, 'bob');
      // The delete stopped after redacting the message, before its edit record and before the redaction record.
      const deleted = await store.replaceMessageContent(conv, b1, { senderId: 'bob', content: '[redacted]', metadata: { redacted: true } });
      expect(deleted?.metadata.redacted).toBe(true);

      const watched = watchRedactions(h);
      bob.send({ type: 'delete', message_id: 'b1' });
      const { message } = await alice.waitFor('message', (f) => f.message.message_type === 'redaction');
      expect(message).toMatchObject({
        message_id: `redaction-of-${b1}`,
        metadata: { redacted_sequence_ids: [b1, editRecord], requested_by: 'bob' },
      });
      bob.send({ type: 'delete', message_id: 'b1' });
      const answers = await watched.settled(2);
      expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : a.reason))).toEqual([
        { redacted: [b1, editRecord], alreadyRedacted: [b1], changed: true, recordSequenceId: message.sequence_id },
        { redacted: [b1, editRecord], alreadyRedacted: [b1, editRecord], changed: false },
      ]);
      const records = await journal(h, conv);
      expect(records.find((m) => m.sequence_id === editRecord)?.content).toBe('[redacted]');
      expect(records.filter((m) => m.message_type === 'redaction')).toHaveLength(1);
    });

    test("an older journal's redaction record (id redaction-<its sequence id>) still counts: sending it again adds none", async () => {
      const runtimeClock = createManualClock();
      const h = await startHarness({ chat: { supervision: { idle_timeout_s: IDLE_TIMEOUT_S } } }, { store, runtimeClock });
      const conv = await h.createConversation('alice', ['bob']);
      const m1 = await stored(h, conv, 'alice', 'm1', 'hello');
      const m2 = await stored(h, conv, 'alice', 'm2', 'world');
      runtimeClock.advance(IDLE_TIMEOUT_S * 1000);
      expect(h.runtime.health().conversations).toBe(0);
      // What a server before predictable redaction ids wrote: m1 and m2 redacted, one record named after its own id.
      await store.redactMessages(conv, { messageIds: ['m1', 'm2'] });
      const seq = (await store.lastSequenceId(conv)) + 1;
      await store.appendMessages(conv, [
        {
          message_id: `redaction-${seq}`,
          conversation_id: conv,
          sequence_id: seq,
          sender_id: 'system',
          sender_type: 'system',
          message_type: 'redaction',
          content: '2 message(s) redacted',
          timestamp: new Date(runtimeClock.now()).toISOString(),
          metadata: { redacted_sequence_ids: [m1, m2], requested_by: 'alice' },
        },
      ]);

      const again = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['m2'] });
      expect(again.body).toMatchObject({ redacted_sequence_ids: [m2], already_redacted_sequence_ids: [m2], changed: false });
      expect(await redactionRecords(h, conv)).toEqual([[`redaction-${seq}`, [m1, m2]]]);
    });
  });
}
