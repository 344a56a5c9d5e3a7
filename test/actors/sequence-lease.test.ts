import { createChatRuntime, type ChatMessage } from '../../actors';
import { createManualClock } from '../../actors';
import { LEASE_BLOCK, SequenceLease } from '../../actors/sequence-lease';
import { MemoryStore } from '../../storage-providers';
import { collector, settle } from './runtime-helpers';

/** A store whose journal writes can be held forever: the process "dies" before they happen. */
class HeldStore extends MemoryStore {
  held = false;
  reservationWrites = 0;
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.held) await new Promise<never>(() => undefined);
    return super._appendMessages(conversationId, messages);
  }
  protected override async _setSequenceReservation(conversationId: string, upTo: number): Promise<void> {
    this.reservationWrites++;
    return super._setSequenceReservation(conversationId, upTo);
  }
}

const config = { observability: { log_level: 'silent' as const } };

describe('sequence reservation (no id reuse after a crash)', () => {
  it('a turn with more posts than the lease keeps free is sequenced in arrival order, in chunks, none lost', async () => {
    const store = new HeldStore();
    const runtime = await createChatRuntime({ config, storage: store, agents: [] });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const bob = collector();
    await runtime.subscribe('c', 'bob', bob.listener);
    const writesBefore = store.reservationWrites;
    // 3 x LEASE_BLOCK posts in one turn: they need several reservation writes while the callers wait.
    const count = LEASE_BLOCK * 3;
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        runtime.post('c', { sender_id: i % 2 ? 'alice' : 'bob', message_id: `p${i}`, content: `${i}` }),
      ),
    );
    const ids = results.map((r) => r.sequence_id);
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    expect(store.reservationWrites - writesBefore).toBeGreaterThanOrEqual(2);
    await Promise.all(results.map((r) => r.whenPersisted));
    const journal = await store.readMessages('c', ids[0]! - 1, count);
    expect(journal.map((m) => m.content)).toEqual(results.map((_, i) => `${i}`));
    expect(bob.messages.filter((m) => m.message_id.startsWith('p')).map((m) => m.sequence_id)).toEqual(ids);
    await runtime.close();
  });

  it('never hands out again an id that was delivered but not stored before a crash; the gap is journaled as lost', async () => {
    const store = new HeldStore();
    const first = await createChatRuntime({ config, storage: store, agents: [] });
    await first.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const stored = await first.post('c', { sender_id: 'alice', message_id: 'm1', content: 'stored' });
    await stored.whenPersisted;
    const bob = collector();
    await first.subscribe('c', 'bob', bob.listener);
    store.held = true; // the process dies with these writes pending
    await first.post('c', { sender_id: 'alice', message_id: 'm2', content: 'seen by bob, lost' });
    await first.post('c', { sender_id: 'alice', message_id: 'm3', content: 'seen by bob, lost too' });
    const bobSaw = bob.messages.at(-1)!.sequence_id;
    store.held = false;

    const second = await createChatRuntime({ config, storage: store, agents: [] });
    const next = await second.post('c', { sender_id: 'alice', message_id: 'm4', content: 'after the restart' });
    expect(next.sequence_id).toBeGreaterThan(bobSaw);
    await next.whenPersisted;
    const journal = await store.readMessages('c', 0, 1000);
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => i + 1));
    const lost = journal.filter((m) => m.message_type === 'lost').map((m) => m.sequence_id);
    expect(lost[0]).toBe(stored.sequence_id + 1);
    expect(lost.length).toBeLessThanOrEqual(LEASE_BLOCK);
    expect(lost).toContain(bobSaw);
    // the unacknowledged messages can be re-sent and get fresh ids
    const resent = await second.post('c', { sender_id: 'alice', message_id: 'm2', content: 'seen by bob, lost' });
    expect(resent).toMatchObject({ duplicate: false });
    expect(resent.sequence_id).toBeGreaterThan(next.sequence_id);
    await second.close();
    await first.close({ deadlineMs: 10 });
  });

  it('reserves ahead in blocks (one reservation write per ~half block), and a clean stop leaves nothing to mark lost', async () => {
    const store = new HeldStore();
    const first = await createChatRuntime({ config, storage: store, agents: [] });
    await first.createConversation({ conversation_id: 'c', created_by: 'alice' });
    for (let i = 0; i < 5 * LEASE_BLOCK; i++) {
      await first.post('c', { sender_id: 'alice', message_id: `m${i}`, content: 'x' });
      await settle(1);
    }
    expect(store.reservationWrites).toBeGreaterThanOrEqual(5);
    expect(store.reservationWrites).toBeLessThanOrEqual(12);
    expect(await store.getSequenceReservation('c')).toBeGreaterThan(5 * LEASE_BLOCK);
    await first.close();
    expect(await store.getSequenceReservation('c')).toBe(5 * LEASE_BLOCK + 1);
    const second = await createChatRuntime({ config, storage: store, agents: [] });
    const next = await second.post('c', { sender_id: 'alice', message_id: 'after', content: 'y' });
    expect(next.sequence_id).toBe(5 * LEASE_BLOCK + 2);
    expect((await store.readMessages('c', 0, 1000)).some((m) => m.message_type === 'lost')).toBe(false);
    await second.close();
  });

  it('holds sequencing (in arrival order) while the reservation cannot be extended, then carries on', async () => {
    class SlowReservationStore extends MemoryStore {
      gate: Promise<void> | undefined;
      open_: (() => void) | undefined;
      protected override async _setSequenceReservation(conversationId: string, upTo: number): Promise<void> {
        if (this.gate) await this.gate;
        return super._setSequenceReservation(conversationId, upTo);
      }
    }
    const store = new SlowReservationStore();
    const runtime = await createChatRuntime({ config, storage: store, agents: [] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    store.gate = new Promise((resolve) => (store.open_ = resolve));
    const posts: Array<Promise<{ sequence_id: number }>> = [];
    for (let i = 0; i < LEASE_BLOCK; i++) posts.push(runtime.post('c', { sender_id: 'alice', message_id: `m${i}`, content: 'x' }));
    await settle();
    const reserved = await store.getSequenceReservation('c');
    expect(reserved).toBe(LEASE_BLOCK);
    let settled = 0;
    posts.forEach((p) => void p.then(() => settled++));
    await settle();
    expect(settled).toBeLessThan(LEASE_BLOCK); // some wait for the reservation
    store.gate = undefined;
    store.open_!();
    const results = await Promise.all(posts);
    expect(results.map((r) => r.sequence_id)).toEqual(results.map((_, i) => i + 2));
    await runtime.close();
  });

  it('keeps delivering when the reservation cannot be renewed (storage down): delivery never waits on a failing store', async () => {
    class FailingReservationStore extends MemoryStore {
      failing = false;
      protected override async _setSequenceReservation(conversationId: string, upTo: number): Promise<void> {
        if (this.failing) throw new Error('connection refused');
        return super._setSequenceReservation(conversationId, upTo);
      }
    }
    const store = new FailingReservationStore();
    const runtime = await createChatRuntime({ config, storage: store, agents: [] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    store.failing = true;
    const results = [];
    for (let i = 0; i < 2 * LEASE_BLOCK; i++) {
      results.push(await runtime.post('c', { sender_id: 'alice', message_id: `m${i}`, content: 'x' }));
      await settle(2);
    }
    expect(results.at(-1)!.sequence_id).toBe(2 * LEASE_BLOCK + 1);
    store.failing = false;
    await runtime.close();
  });
});

describe('sequence lease after close', () => {
  it('work that arrives after close with no room left runs at once (the stopped conversation refuses it) instead of waiting forever', () => {
    const store = new HeldStore();
    let stopped = false;
    const lease = new SequenceLease({
      conversationId: 'c',
      store,
      clock: createManualClock(),
      initialUpTo: 10,
      lastSequenceId: () => 10, // no room: every id of the reservation is used
      canRunWaiting: () => stopped,
    });
    const ran: string[] = [];
    lease.whenRoom(() => ran.push('before close'));
    expect(ran).toEqual([]); // waits for the reservation to grow
    stopped = true;
    lease.close();
    expect(ran).toEqual(['before close']); // close drains what waited
    lease.whenRoom(() => ran.push('after close'));
    expect(ran).toEqual(['before close', 'after close']);
  });
});

describe('sequence lease and the claim validity', () => {
  it('past the claim validity work waits, in order, asking for a renewal; a confirmation runs it, a stale one asks again', () => {
    const clock = createManualClock();
    const validUntil = clock.now() + 1000;
    let asked = 0;
    const lease = new SequenceLease({
      conversationId: 'c',
      store: new HeldStore(),
      clock,
      initialUpTo: Infinity,
      lastSequenceId: () => 0,
      canRunWaiting: () => false,
      claimValidUntil: validUntil,
      claimLapsed: () => asked++,
    });
    const ran: number[] = [];
    lease.whenRoom(() => ran.push(1));
    expect([ran, asked]).toEqual([[1], 0]);
    // A pause: the clock moves far past the validity.
    clock.advance(5000);
    expect(lease.canRunNow()).toBe(false);
    lease.whenRoom(() => ran.push(2));
    lease.whenRoom(() => ran.push(3));
    expect([ran, asked]).toEqual([[1], 2]);
    // A renewal asked before the pause, answering now: its validity is over already, so another is asked for.
    lease.claimConfirmed(validUntil + 500);
    expect([ran, asked]).toEqual([[1], 3]);
    lease.claimConfirmed(clock.now() + 1000);
    expect(ran).toEqual([1, 2, 3]);
    expect(lease.canRunNow()).toBe(true);
  });
});
