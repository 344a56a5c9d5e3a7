import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChatRuntime, createCounterIds, createManualClock, type ManualClock } from '../../actors';
import { isChatError, type ChatError } from '../../actors/errors';
import type { ChatRuntime, PostResult } from '../../actors/runtime-types';
import type { ChatStore } from '../../storage-providers/chat-store';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema, withClient } from '../storage/pg-helpers';
import { collector, settle } from './runtime-helpers';

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

/** Two stores (two servers' connections) on one database, and how to let the claims in it expire. */
interface SharedDatabase {
  readonly a: ChatStore;
  readonly b: ChatStore;
  /** Time passes for the database (and the other server) beyond every claim's TTL. */
  expireClaims(): Promise<void>;
  close(): Promise<void>;
}

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

async function refusal(promise: Promise<unknown>): Promise<ChatError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isChatError(err)) throw new Error(`expected a ChatError, got ${String(err)}`);
  return err;
}

function claimLapseTests(openDatabase: () => Promise<SharedDatabase>): void {
  let db: SharedDatabase;
  const runtimes: ChatRuntime[] = [];

  async function server(name: string, store: ChatStore, clock: ManualClock): Promise<ChatRuntime> {
    const runtime = await createChatRuntime({
      config: {
        observability: { log_level: 'silent' },
        chat: { ownership: { instance_id: name, address: `ws://${name}.example:8000`, claim_ttl_s: TTL_S } },
      },
      storage: store,
      clock,
      ids: createCounterIds(name),
    });
    runtimes.push(runtime);
    return runtime;
  }

  /** Runtime a holds conversation c (alice and bob), one post stored, bob subscribed there; a's renewals are held. */
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
    // Past the validity of a's claim by a's clock; the renewal due at a third of the TTL started and hangs.
    clockA.advance(TTL_MS);
    expect(renewals.waiting).toBe(1);
    return { a, clockA, first, bob, renewals };
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

  test('the store cannot be reached: delivery goes on once the renewal fails, and goes on through the outage', async () => {
    // Issue 5: "when storage is slow or down, delivery continues". Only an answer naming another holder stops it.
    const { a, clockA, first, bob, renewals } = await ownerWithHeldRenewals();
    const during = a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'during the outage' });
    await settle();
    expect(bob.messages).toEqual([]);

    renewals.fail();
    expect((await during).sequence_id).toBe(first.sequence_id + 1);
    expect(bob.messages.map((m) => m.content)).toEqual(['during the outage']);
    // Two TTLs later, the renewals failing every second meanwhile: still delivering, nothing waits on the claim.
    for (let s = 0; s < 2 * TTL_S; s++) {
      clockA.advance(1000);
      await settle();
    }
    const callsBefore = renewals.calls;
    const later = await a.post('c', { sender_id: 'alice', message_id: 'a3', content: 'still down' });
    expect(later.sequence_id).toBe(first.sequence_id + 2);
    expect(bob.messages.map((m) => m.content)).toEqual(['during the outage', 'still down']);
    expect(callsBefore).toBeGreaterThanOrEqual(2 * TTL_S);
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
  claimLapseTests(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-claim-lapse-'));
    const file = path.join(dir, 'chat.db');
    // The database's clock: claims expire on it, apart from either runtime's.
    let now = Date.UTC(2026, 0, 1);
    const a = new SqliteStore({ path: file, now: () => now });
    const b = new SqliteStore({ path: file, now: () => now });
    await Promise.all([a.open(), b.open()]);
    return {
      a,
      b,
      expireClaims: async () => void (now += TTL_MS + 1),
      close: async () => {
        await a.close();
        await b.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describeWithPg(pgReachableSync())('a claim lapsed by the owner clock (PostgreSQL, two pools on one schema)', () => {
  claimLapseTests(async () => {
    const schema = uniqueSchema();
    const a = new PostgresStore({ url: PG_URL, poolSize: 4, schema });
    const b = new PostgresStore({ url: PG_URL, poolSize: 4, schema });
    await Promise.all([a.open(), b.open()]);
    return {
      a,
      b,
      // Claims expire on the database's clock: moved back instead of waiting a TTL.
      expireClaims: async () =>
        void (await withClient((c) => c.query(`UPDATE "${schema}".conversations SET owner_expires_at = 0 WHERE owner_id IS NOT NULL`))),
      close: async () => {
        await a.close();
        await b.close();
        await dropSchema(schema);
      },
    };
  });
});
