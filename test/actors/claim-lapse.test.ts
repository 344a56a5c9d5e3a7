import { createManualClock, type ManualClock } from '../../actors';
import type { ChatRuntime, PostResult } from '../../actors/runtime-types';
import type { ChatStore } from '../../storage-providers/chat-store';
import { describeWithPg, pgReachableSync } from '../storage/pg-helpers';
import { collector, settle } from './runtime-helpers';
import { ownershipRuntime, refusal, sharedPostgres, sharedSqlite, type SharedDatabase } from './shared-database';

/**
 * Lease semantics of conversation claims (actors/claim-keeper.ts): a runtime whose own clock says its claim may
 * have expired sequences nothing (delivers nothing, acknowledges nothing) until a renewal answers. Found with real
 * processes on PostgreSQL: an owner paused with SIGSTOP past its claim TTL while another server took its
 * conversations over delivered, after SIGCONT, 16 records per conversation to its clients before its journal write
 * was fenced. Here runtime a's clock is advanced past the claim's validity while its renewal is held in the store,
 * as the renewal under way when a paused process wakes.
 */
const TTL_S = 15;
const TTL_MS = TTL_S * 1000;

/**
 * Holds the store's claim renewals until release(); each then runs against the store as it is at that time. fail()
 * makes the held ones and every later one throw instead, as a store that cannot be reached.
 */
function holdRenewals(store: ChatStore) {
  const renew = store.renewClaims.bind(store);
  const held: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  let holding = true;
  let unreachable: Error | undefined;
  let calls = 0;
  store.renewClaims = async (ownerId: string, ttlMs: number) => {
    calls++;
    if (holding) await new Promise<void>((resolve, reject) => held.push({ resolve, reject }));
    if (unreachable) throw unreachable;
    return renew(ownerId, ttlMs);
  };
  return {
    get calls(): number {
      return calls;
    },
    get waiting(): number {
      return held.length;
    },
    release(): void {
      holding = false;
      for (const { resolve } of held.splice(0)) resolve();
    },
    fail(): void {
      holding = false;
      unreachable = new Error('connect ECONNREFUSED 127.0.0.1:5432');
      for (const { reject } of held.splice(0)) reject(unreachable);
    },
    /** The held renewals fail (their client's timeout, firing as a paused process wakes); later ones reach the store. */
    failHeld(): void {
      holding = false;
      for (const { reject } of held.splice(0)) reject(new Error('no answer from PostgreSQL within 15000 ms'));
    },
  };
}

/** Whether a promise has settled, read without waiting on it. */
function watch<T>(promise: Promise<T>) {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

function claimLapseTests(openDatabase: () => Promise<SharedDatabase>): void {
  let db: SharedDatabase;
  const runtimes: ChatRuntime[] = [];

  async function server(name: string, store: ChatStore, clock: ManualClock): Promise<ChatRuntime> {
    const runtime = await ownershipRuntime(name, store, clock, TTL_S);
    runtimes.push(runtime);
    return runtime;
  }

  /** Runtime a holds conversation c (alice and bob), bob subscribed there; no pause. */
  async function owner() {
    const clockA = createManualClock();
    const a = await server('a', db.a, clockA);
    await a.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const bob = collector();
    await a.subscribe('c', 'bob', bob.listener);
    return { a, clockA, bob };
  }

  /** owner() with one post stored before bob subscribed; then a's renewals are held, and a is paused past its claim. */
  async function ownerWithHeldRenewals() {
    const clockA = createManualClock();
    const a = await server('a', db.a, clockA);
    await a.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const first = await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'before the pause' });
    await first.whenPersisted;
    const bob = collector();
    await a.subscribe('c', 'bob', bob.listener);
    const renewals = holdRenewals(db.a);
    // The renewal due at a third of the TTL starts and hangs; then a is paused (no timer runs) past its claim's
    // validity, and wakes: its timers run late, which is how it knows it was paused (actors/pause-evidence.ts).
    clockA.advance(TTL_MS / 3);
    expect(renewals.waiting).toBe(1);
    clockA.jump(TTL_MS);
    clockA.advance(0);
    return { a, clockA, first, bob, renewals };
  }

  /** Posts one message on `runtime` and steps `clock` by 500 ms until bob has it; returns how long that took. */
  async function deliveryWait(runtime: ChatRuntime, clock: ManualClock, bob: ReturnType<typeof collector>, id: string): Promise<number> {
    const before = bob.messages.length;
    const startedAt = clock.now();
    const post = runtime.post('c', { sender_id: 'alice', message_id: id, content: id });
    await settle();
    while (bob.messages.length === before && clock.now() - startedAt < 2 * TTL_MS) {
      clock.advance(500);
      await settle();
    }
    await post;
    return clock.now() - startedAt;
  }

  /** Two TTLs of a post every 3 s (the renewals failing or hanging meanwhile): how long each took to reach bob. */
  async function deliveryWaitsOverTwoTtls(runtime: ChatRuntime, clock: ManualClock, bob: ReturnType<typeof collector>): Promise<number[]> {
    const waits: number[] = [];
    for (let i = 0; i < (2 * TTL_S) / 3; i++) {
      clock.advance(2500);
      await settle();
      waits.push(await deliveryWait(runtime, clock, bob, `m-${i}`));
    }
    return waits;
  }

  beforeEach(async () => {
    db = await openDatabase();
  });
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close({ deadlineMs: 1000 });
    await db.close();
  });

  test('taken over meanwhile: the post is neither delivered nor acknowledged, then refused naming the new owner', async () => {
    const { a, bob, renewals } = await ownerWithHeldRenewals();
    await db.expireClaims();
    const b = await server('b', db.b, createManualClock());
    await (
      await b.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from b' })
    ).whenPersisted;

    const late = a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'late on a' });
    const lateState = watch(late);
    await settle();
    expect(bob.messages.map((m) => m.content)).toEqual([]);
    expect(lateState.settled).toBe(false);

    renewals.release();
    const refused = await refusal(late);
    expect(refused.code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
    expect(refused.details).toMatchObject({ conversation_id: 'c', owner_id: 'b', owner_address: 'ws://b.example:8000' });
    expect(bob.messages).toEqual([]);
    expect(bob.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    const journal = await db.b.readMessages('c', 0, 100);
    expect(journal.map((m) => m.content)).toContain('from b');
    expect(journal.map((m) => m.content)).not.toContain('late on a');
  });

  test('taken over meanwhile: a waiting join, leave, edit and redaction change nothing and are refused naming the new owner', async () => {
    const { a, first, bob, renewals } = await ownerWithHeldRenewals();
    await db.expireClaims();
    const b = await server('b', db.b, createManualClock());
    await (
      await b.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from b' })
    ).whenPersisted;

    // Each would have been refused CHAT_ERR_CLOSED, which tells the caller neither that nor where to go.
    const changes = [
      a.join('c', { participant_id: 'carol', participant_type: 'human' }),
      a.leave('c', 'bob'),
      a.edit('c', 'alice', first.message_id, 'edited on a'),
      a.redact('c', { messageIds: [first.message_id] }, 'alice'),
    ];
    await settle();
    renewals.release();
    for (const change of changes) {
      const refused = await refusal(change);
      expect(refused.code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
      expect(refused.details).toMatchObject({ conversation_id: 'c', owner_id: 'b', owner_address: 'ws://b.example:8000' });
    }
    expect(bob.messages).toEqual([]);
    const journal = await db.b.readMessages('c', 0, 100);
    expect(journal.map((m) => m.message_type)).not.toContain('leave');
    // Nothing was changed in the store by a, which no longer held the conversation: its redaction used to be stored
    // (the holder's cache then went on replaying the record as it was, and no redaction record told anyone).
    expect(journal.map((m) => m.content)).toContain('before the pause');
    expect(journal.map((m) => m.content)).not.toContain('edited on a');
  });

  test('still held: the posts wait for the renewal, then are delivered in order and acknowledged', async () => {
    const { a, first, bob, renewals } = await ownerWithHeldRenewals();
    const posts: Array<Promise<PostResult>> = [];
    for (const n of [2, 3, 4]) posts.push(a.post('c', { sender_id: 'alice', message_id: `a${n}`, content: `after the pause ${n}` }));
    const states = posts.map(watch);
    await settle();
    expect(bob.messages).toEqual([]);
    expect(states.map((s) => s.settled)).toEqual([false, false, false]);

    renewals.release();
    const results = await Promise.all(posts);
    expect(results.map((r) => r.sequence_id)).toEqual([1, 2, 3].map((i) => first.sequence_id + i));
    expect(bob.messages.map((m) => m.content)).toEqual(['after the pause 2', 'after the pause 3', 'after the pause 4']);
    await Promise.all(results.map((r) => r.whenPersisted));
    const stored = await db.a.readMessages('c', first.sequence_id, 100);
    expect(stored.map((m) => m.content)).toEqual(['after the pause 2', 'after the pause 3', 'after the pause 4']);
  });

  test('paused, and the renewal asked before the pause fails on waking: nothing is delivered, the next answer moves it away', async () => {
    // The store client's own timeout fires as the process wakes: a failure that says nothing of who holds the claim.
    const { a, clockA, bob, renewals } = await ownerWithHeldRenewals();
    await db.expireClaims();
    const b = await server('b', db.b, createManualClock());
    await (
      await b.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from b' })
    ).whenPersisted;
    const late = a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'late on a' });
    await settle();
    renewals.failHeld();
    await settle();
    expect(bob.messages).toEqual([]);
    // The retry, a second later, reaches the store: b holds the claim.
    clockA.advance(1000);
    const refused = await refusal(late);
    expect(refused.code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
    expect(bob.messages).toEqual([]);
  });

  test('the store refuses every renewal (an outage, no pause): delivery goes on, nothing waits on the claim', async () => {
    // Issue 5: "when storage is slow or down, delivery continues". Only an answer naming another holder stops it.
    const { a, clockA, bob } = await owner();
    db.a.renewClaims = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    const waits = await deliveryWaitsOverTwoTtls(a, clockA, bob);
    expect(waits).toEqual(waits.map(() => 0));
    expect(bob.messages).toHaveLength(waits.length);
  });

  test('the store hangs (no answer until its client gives up after 15 s): delivery goes on meanwhile', async () => {
    const { a, clockA, bob } = await owner();
    db.a.renewClaims = () =>
      new Promise((_resolve, reject) => clockA.setTimeout(() => reject(new Error('no answer from PostgreSQL within 15000 ms')), 15_000));
    const waits = await deliveryWaitsOverTwoTtls(a, clockA, bob);
    expect(waits).toEqual(waits.map(() => 0));
  });

  test('a renewal that started before a long pause does not vouch for the claim after it: another one is asked for', async () => {
    const { a, clockA, first, bob, renewals } = await ownerWithHeldRenewals();
    // The held renewal started at a third of the TTL; its answer is good until a TTL later, long past by now.
    clockA.advance(2 * TTL_MS);
    const post = a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'after a long pause' });
    await settle();
    expect(bob.messages).toEqual([]);
    expect(renewals.calls).toBe(1);

    renewals.release();
    const result = await post;
    expect(renewals.calls).toBe(2);
    expect(result.sequence_id).toBe(first.sequence_id + 1);
    expect(bob.messages.map((m) => m.content)).toEqual(['after a long pause']);
  });
}

describe('a claim lapsed by the owner clock (SQLite, two connections on one file)', () => {
  claimLapseTests(() => sharedSqlite(TTL_MS));
});

describeWithPg(pgReachableSync())('a claim lapsed by the owner clock (PostgreSQL, two pools on one schema)', () => {
  claimLapseTests(sharedPostgres);
});
