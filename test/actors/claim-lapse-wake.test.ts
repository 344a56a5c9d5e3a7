import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createManualClock, type ManualClock } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { collector, settle } from './runtime-helpers';
import { ownershipRuntime } from './shared-database';

/**
 * How a paused owner wakes (actors/pause-evidence.ts, claim-keeper.ts), beyond test/actors/claim-lapse.test.ts: the
 * post that arrives during the pause, or the store's answer read on waking, cancels an overdue timer before it runs;
 * a stall of a loaded machine is no pause; a renewal that never settles does not keep a taken claim on for good.
 * Each case but the stall delivered under the other server's claim before the cancelled timer counted as evidence
 * (found by a review of the pause detection). SQLite, two connections on one file, the database's clock by hand.
 */
const TTL_S = 15;
const TTL_MS = TTL_S * 1000;

describe('a paused owner waking, and stalls that are no pause (SQLite, two connections on one file)', () => {
  let dir: string;
  let now: number;
  let storeA: SqliteStore;
  let storeB: SqliteStore;
  const runtimes: ChatRuntime[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-claim-wake-'));
    now = Date.UTC(2026, 0, 1);
    storeA = new SqliteStore({ path: path.join(dir, 'chat.db'), now: () => now });
    storeB = new SqliteStore({ path: path.join(dir, 'chat.db'), now: () => now });
    await Promise.all([storeA.open(), storeB.open()]);
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close({ deadlineMs: 1000 });
    await storeA.close();
    await storeB.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function server(name: string, store: SqliteStore, clock: ManualClock) {
    const runtime = await ownershipRuntime(name, store, clock, TTL_S);
    runtimes.push(runtime);
    return runtime;
  }
  async function owner() {
    const clockA = createManualClock();
    const a = await server('a', storeA, clockA);
    await a.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const bob = collector();
    await a.subscribe('c', 'bob', bob.listener);
    return { a, clockA, bob };
  }
  /** Six posts 2.5 s apart: how long each took to reach bob (the clock stepped by 500 ms, at most 20 s). */
  async function deliveryWaits(a: ChatRuntime, clockA: ManualClock, bob: ReturnType<typeof collector>): Promise<number[]> {
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      clockA.advance(2500);
      await settle();
      const before = bob.messages.length;
      const startedAt = clockA.now();
      void a.post('c', { sender_id: 'alice', message_id: `m${i}`, content: `m${i}` }).catch(() => undefined);
      await settle();
      while (bob.messages.length === before && clockA.now() - startedAt < 20_000) {
        clockA.advance(500);
        await settle();
      }
      waits.push(clockA.now() - startedAt);
    }
    return waits;
  }
  async function takeOverOnB() {
    now += TTL_MS + 1; // the database's clock: a's claim expired
    const b = await server('b', storeB, createManualClock());
    await (
      await b.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from b' })
    ).whenPersisted;
  }

  test('paused between renewals; the post read on waking cancels the overdue renewal timer; the store is down: nothing delivered', async () => {
    const { a, clockA, bob } = await owner();
    clockA.advance(TTL_MS / 3); // a healthy renewal; the next timer is due in 5 s
    await settle();
    clockA.jump(2 * TTL_MS); // SIGSTOP for two TTLs: no timer runs
    await takeOverOnB();
    storeA.renewClaims = () => Promise.reject(new Error('connect ECONNREFUSED')); // the store is really down after the pause
    // I/O runs before the overdue timers on waking: the post arrives first.
    void a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'late on a' }).catch(() => undefined);
    await settle();
    expect(bob.messages.map((m) => m.content)).toEqual([]);
  });

  test('the same, with a store that hangs after the wake: its outage tick does not keep the taken claim on', async () => {
    const { a, clockA, bob } = await owner();
    clockA.advance(TTL_MS / 3);
    await settle();
    clockA.jump(2 * TTL_MS);
    await takeOverOnB();
    storeA.renewClaims = () => new Promise(() => undefined);
    void a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'late on a' }).catch(() => undefined);
    await settle();
    clockA.advance(1000);
    await settle();
    expect(bob.messages.map((m) => m.content)).toEqual([]);
  });

  test("the pre-pause renewal's answer read on waking cancels its overdue outage tick; the next renewal fails: nothing delivered", async () => {
    const { a, clockA, bob } = await owner();
    const renew = storeA.renewClaims.bind(storeA);
    let answer: (() => void) | undefined;
    storeA.renewClaims = async (ownerId, ttlMs) => {
      const held = await renew(ownerId, ttlMs); // the store answered before the pause...
      await new Promise<void>((resolve) => (answer = resolve)); // ...the answer is read after it
      return held;
    };
    clockA.advance(TTL_MS / 3);
    await settle();
    expect(answer).toBeDefined();
    clockA.jump(2 * TTL_MS);
    await takeOverOnB();
    storeA.renewClaims = () => Promise.reject(new Error('connect ECONNREFUSED'));
    answer!(); // poll phase: the socket's answer first
    await settle();
    void a.post('c', { sender_id: 'alice', message_id: 'a2', content: 'late on a' }).catch(() => undefined);
    await settle();
    expect(bob.messages.map((m) => m.content)).toEqual([]);
  });

  test('an outage with one 2.5 s stall of the event loop (a timer 1.5 s late, no pause): delivery goes on', async () => {
    const { a, clockA, bob } = await owner();
    storeA.renewClaims = () => Promise.reject(new Error('connect ECONNREFUSED'));
    clockA.advance(TTL_MS / 3); // first renewal fails; retry due in 1 s
    await settle();
    clockA.jump(2500); // a 2.5 s GC / sync stall under load: the retry runs 1.5 s late
    clockA.advance(0);
    await settle();
    const waits = await deliveryWaits(a, clockA, bob);
    expect(waits).toEqual(waits.map(() => 0));
  });

  test('a pause during a renewal that then confirms the claim is forgotten: a later outage does not stop delivery', async () => {
    const { a, clockA, bob } = await owner();
    const renew = storeA.renewClaims.bind(storeA);
    let answer: (() => void) | undefined;
    storeA.renewClaims = async (ownerId, ttlMs) => {
      const held = await renew(ownerId, ttlMs);
      await new Promise<void>((resolve) => (answer = resolve));
      return held;
    };
    clockA.advance(TTL_MS / 3); // the renewal is asked at 5 s and the store renews the claim
    await settle();
    clockA.jump(8000); // an 8 s pause (its outage tick runs 7 s late): a pause by the rule (a third of the TTL)
    clockA.advance(0);
    answer!(); // read on waking: the claim is good until 5 s + 0.9 TTL, later than now
    await settle();
    storeA.renewClaims = () => Promise.reject(new Error('connect ECONNREFUSED')); // then the store goes down
    const waits = await deliveryWaits(a, clockA, bob);
    expect(waits).toEqual(waits.map(() => 0));
  });

  test('a renewal that never settles (a store client without a timeout) keeps the claim on for a TTL at most', async () => {
    const { a, clockA, bob } = await owner();
    let calls = 0;
    storeA.renewClaims = () => {
      calls++;
      return new Promise(() => undefined);
    };
    clockA.advance(TTL_MS / 3);
    await settle();
    await takeOverOnB();
    for (let i = 0; i < 2; i++) {
      clockA.advance(TTL_MS);
      await settle();
    }
    void a.post('c', { sender_id: 'alice', message_id: 'a2', content: '30 s later on a' }).catch(() => undefined);
    await settle();
    // Still the one renewal (it never settles, so none follows it): the claim lapsed a TTL after it was asked.
    expect({ calls, delivered: bob.messages.map((m) => m.content) }).toEqual({ calls: 1, delivered: [] });
  });
});
