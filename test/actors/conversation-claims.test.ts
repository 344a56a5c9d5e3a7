import { createManualClock, type ManualClock } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import { MemoryStore } from '../../storage-providers';
import type { Logger } from '../../observability/logger';
import { capturedLogger, collector, settle } from './runtime-helpers';
import { ownershipRuntime, refusal } from './shared-database';

/**
 * Two runtimes on one store (two servers on one database, or the old and new process of a rolling deploy):
 * only the one holding a conversation's claim sequences it (actors/claim-keeper.ts).
 */
const TTL_S = 15;

function server(name: string, store: MemoryStore, clock: ManualClock, logger?: Logger): Promise<ChatRuntime> {
  return ownershipRuntime(name, store, clock, TTL_S, logger);
}

describe('conversation claims: several runtimes on one store', () => {
  const opened: ChatRuntime[] = [];

  /** What the runtime logs once it finds a twin on its instance id. */
  const SHARED_ID_REPORT = expect.objectContaining({
    level: 'error',
    conversation_id: 'c',
    instance_id: 'replica',
    msg: 'another live runtime uses this chat.ownership.instance_id: give every server its own (the two take conversations from each other)',
  });

  /** Two live runtimes configured with one instance id on one claims store; `a` holds conversation c, alice subscribed. */
  async function twinsOnOneInstanceId() {
    const { logger, logged } = capturedLogger('error');
    const clock = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clock.now() });
    const a = await server('replica', store, clock, logger);
    const twin = await server('replica', store, clock);
    opened.push(a, twin);
    await a.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const aliceOnA = collector();
    await a.subscribe('c', 'alice', aliceOnA.listener);
    return { clock, logged, a, twin, aliceOnA };
  }
  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close();
  });

  test('a conversation live in one runtime is refused by the other, which says where it lives', async () => {
    const clock = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clock.now() });
    const a = await server('a', store, clock);
    const b = await server('b', store, clock);
    opened.push(a, b);
    await a.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });

    const refused = await refusal(b.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from b' }));
    expect(refused.code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
    expect(refused.spec).toMatchObject({ http: 421, close: 4421 });
    expect(refused.details).toEqual({ conversation_id: 'c', owner_id: 'a', owner_address: 'ws://a.example:8000' });
    expect(refused.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect((await refusal(b.subscribe('c', 'bob', () => undefined))).code).toBe('CHAT_ERR_OWNED_ELSEWHERE');

    // Through the owner, both humans share one order, as before.
    const bob = collector();
    await a.subscribe('c', 'bob', bob.listener);
    const posted = await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'from a' });
    await posted.whenPersisted;
    expect(bob.messages.map((m) => m.content)).toContain('from a');
    expect((await store.readMessages('c', 0, 100)).filter((m) => m.message_type === 'lost')).toEqual([]);
  });

  test('after a clean stop the other runtime takes over at once and numbering goes on without lost ids', async () => {
    const clock = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clock.now() });
    const a = await server('a', store, clock);
    const b = await server('b', store, clock);
    opened.push(b);
    await a.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const first = await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'one' });
    await first.whenPersisted;
    await a.close();

    const next = await b.post('c', { sender_id: 'alice', message_id: 'a2', content: 'two' });
    await next.whenPersisted;
    expect(next.sequence_id).toBe(first.sequence_id + 1);
    const journal = await store.readMessages('c', 0, 100);
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => i + 1));
    expect(journal.filter((m) => m.message_type === 'lost')).toEqual([]);
  });

  test('a load that fails after claiming (a store read failing) gives the claim back: the other runtime takes over at once', async () => {
    // The claim was released only when restoring the journal failed: a failing sequence reservation or read-position
    // read, or a failed conversation, kept it until the TTL, refusing the conversation on every other server meanwhile.
    const clock = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clock.now() });
    const a = await server('a', store, clock);
    await a.createConversation({ conversation_id: 'c', created_by: 'alice' });
    await (
      await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'one' })
    ).whenPersisted;
    await a.close();

    const b = await server('b', store, clock);
    const c = await server('c', store, clock);
    opened.push(b, c);
    const read = store.getReadPositions.bind(store);
    let failNext = true;
    store.getReadPositions = (conversationId: string) => {
      if (!failNext) return read(conversationId);
      failNext = false;
      return Promise.reject(new Error('read positions unavailable'));
    };
    await expect(b.post('c', { sender_id: 'alice', message_id: 'b1', content: 'from b' })).rejects.toThrow('read positions unavailable');
    const fromC = await c.post('c', { sender_id: 'alice', message_id: 'c1', content: 'from c' });
    expect(fromC.sequence_id).toBeGreaterThan(1);
  });

  test('a holder that stopped renewing loses the conversation after the TTL; its late writes never reach the journal', async () => {
    // a runs on a clock nobody advances: it is paused (a long GC, a frozen VM) while time goes on for b and the store.
    const clockA = createManualClock();
    const clockB = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clockB.now() });
    const a = await server('a', store, clockA);
    const b = await server('b', store, clockB);
    opened.push(a, b);
    await a.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const before = await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'stored by a' });
    await before.whenPersisted;
    const aliceOnA = collector();
    await a.subscribe('c', 'alice', aliceOnA.listener);

    expect((await refusal(b.post('c', { sender_id: 'bob', message_id: 'b0', content: 'too early' }))).code).toBe(
      'CHAT_ERR_OWNED_ELSEWHERE',
    );
    clockB.advance(TTL_S * 1000);
    const taken = await b.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from b' });
    await taken.whenPersisted;

    // a wakes up and accepts a post: its journal write is refused, so it stops the conversation here.
    await a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'late write of a' });
    await settle();
    expect(aliceOnA.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    const journal = await store.readMessages('c', 0, 100);
    expect(journal.map((m) => m.content)).not.toContain('late write of a');
    expect(journal.map((m) => m.content)).toContain('stored by a');
    expect(journal.map((m) => m.content)).toContain('from b');
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => i + 1));
    // b marked the ids a had reserved as lost, so the one a handed out for its late post was never reused.
    const late = journal.find((m) => m.sequence_id > before.sequence_id && m.message_type !== 'lost');
    expect(late?.content).toBe('from b');
    expect(taken.sequence_id).toBeGreaterThan(before.sequence_id + 1);
  });

  test('a renewal that finds its claim taken over stops the conversation here even without a write', async () => {
    const clockA = createManualClock();
    const clockB = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clockB.now() });
    const a = await server('a', store, clockA);
    const b = await server('b', store, clockB);
    opened.push(a, b);
    await a.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const aliceOnA = collector();
    await a.subscribe('c', 'alice', aliceOnA.listener);
    clockB.advance(TTL_S * 1000);
    await b.post('c', { sender_id: 'alice', message_id: 'b1', content: 'from b' });
    expect(aliceOnA.outputs).not.toContainEqual({ type: 'closed', reason: 'moved' });

    clockA.advance((TTL_S * 1000) / 3);
    await settle();
    expect(aliceOnA.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    // A takeover by another id is normal: not reported as a shared instance_id.
    expect(a.health().reasons).toEqual([]);
    // The conversation is b's: a now refuses it like any other runtime would.
    expect((await refusal(a.post('c', { sender_id: 'alice', message_id: 'a9', content: 'x' }))).code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
  });

  test('a renewal keeps a live conversation: the other runtime is still refused long after the TTL', async () => {
    const clock = createManualClock();
    const store = new MemoryStore({ claims: true, now: () => clock.now() });
    const a = await server('a', store, clock);
    const b = await server('b', store, clock);
    opened.push(a, b);
    await a.createConversation({ conversation_id: 'c', created_by: 'alice' });
    for (let i = 0; i < 6; i++) {
      clock.advance((TTL_S * 1000) / 3);
      await settle();
    }
    expect((await refusal(b.post('c', { sender_id: 'alice', message_id: 'b1', content: 'x' }))).code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
    const ok = await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'still here' });
    expect(ok.sequence_id).toBeGreaterThan(0);
  });

  test('two live runtimes with one instance_id: the one whose claim is raised under its own id says so (log, health)', async () => {
    // Before: both claimed each conversation from the other (a claim by the same id always succeeds), and the one
    // that lost it only saw "claim taken over by another runtime", the same as a normal takeover.
    const { clock, logged, a, twin, aliceOnA } = await twinsOnOneInstanceId();
    // The twin is not refused: the claim names its own id.
    await twin.post('c', { sender_id: 'alice', message_id: 't1', content: 'from the twin' });
    expect(a.health().status).toBe('healthy');

    clock.advance((TTL_S * 1000) / 3);
    await settle();
    expect(aliceOnA.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    expect(a.health()).toMatchObject({ status: 'degraded', reasons: ['another live runtime uses chat.ownership.instance_id "replica"'] });
    expect(logged).toEqual([SHARED_ID_REPORT]);
    // It stays visible for three claim TTLs after the last sighting, then clears.
    clock.advance(3 * TTL_S * 1000 + 1);
    await settle();
    expect(a.health().status).toBe('healthy');
  });

  test('two live runtimes with one instance_id: a busy conversation, whose next write is fenced before any renewal, is reported too', async () => {
    // Reproduced with two server processes given one NLWEB_CHAT_INSTANCE_ID and posts alternating between them: each
    // post's journal write was fenced before the next renewal, so the conversation moved away quietly (a warn line)
    // and both servers stayed 'healthy' while they took the conversation from each other at every post.
    const { clock, logged, a, twin, aliceOnA } = await twinsOnOneInstanceId();
    await twin.post('c', { sender_id: 'alice', message_id: 't1', content: 'from the twin' });
    // a still thinks it holds the conversation: its next post's write is refused (fenced) and it moves away.
    await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'from a' });
    await settle();
    expect(aliceOnA.outputs).toContainEqual({ type: 'closed', reason: 'moved' });

    clock.advance((TTL_S * 1000) / 3);
    await settle();
    expect(a.health()).toMatchObject({ status: 'degraded', reasons: ['another live runtime uses chat.ownership.instance_id "replica"'] });
    expect(logged).toEqual([SHARED_ID_REPORT]);
  });

  test('a fenced write after a takeover by another instance_id is an ordinary move, not a shared instance_id', async () => {
    const clockA = createManualClock();
    const clockB = createManualClock();
    const { logger, logged } = capturedLogger('error');
    const store = new MemoryStore({ claims: true, now: () => clockB.now() });
    const a = await server('a', store, clockA, logger);
    const b = await server('b', store, clockB);
    opened.push(a, b);
    await a.createConversation({ conversation_id: 'c', created_by: 'alice' });
    clockB.advance(TTL_S * 1000);
    await b.post('c', { sender_id: 'alice', message_id: 'b1', content: 'from b' });
    await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'late write of a' });
    await settle();
    clockA.advance((TTL_S * 1000) / 3);
    await settle();
    expect(a.health()).toMatchObject({ status: 'healthy', reasons: [] });
    expect(logged).toEqual([]);
  });
});
