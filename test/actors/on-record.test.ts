import type { ChatMessage, StoredRecordEvent } from '../../actors';
import { ChatError } from '../../actors/errors';
import { GatedStore, capturedLogger, collector, makeRuntime, settle } from './runtime-helpers';

/** A journal that can refuse its writes (storage down) or hold them (GatedStore), and says what it holds. */
class ProbedJournal extends GatedStore {
  failWrites = false;
  failedWrites = 0;
  /** The highest sequence id stored per conversation, updated once an append has completed. */
  readonly storedUpTo = new Map<string, number>();
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    if (this.failWrites) {
      this.failedWrites++;
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', 'writes are failing');
    }
    await super._appendMessages(conversationId, messages, fenceEpoch);
    this.storedUpTo.set(conversationId, messages[messages.length - 1].sequence_id);
  }
}

/** The events onRecord got, and for each how far the journal had stored at the time of the call. */
function recorder(store: ProbedJournal) {
  const events: StoredRecordEvent[] = [];
  const storedAtCall: number[] = [];
  return {
    events,
    storedAtCall,
    listener: (event: StoredRecordEvent) => {
      events.push(event);
      storedAtCall.push(store.storedUpTo.get(event.conversationId) ?? 0);
    },
    /** [sequence id, type, sender, offline] of each event, for comparing at a glance. */
    get summary() {
      return events.map((e) => [e.record.sequence_id, e.record.message_type, e.record.sender_id, [...e.offline]]);
    },
  };
}

/** Alice (owner), Bob and Carol (humans) and an AI member the embedder posts as: never in `offline`. */
async function team(runtime: Awaited<ReturnType<typeof makeRuntime>>['runtime']): Promise<void> {
  await runtime.createConversation({
    conversation_id: 'team',
    created_by: 'alice',
    participants: [
      { participant_id: 'bob', participant_type: 'human' },
      { participant_id: 'carol', participant_type: 'human' },
      { participant_id: 'bot', participant_type: 'ai', external: true },
    ],
  });
  await settle();
}

const post = (id: string, sender: string, content: string) => ({ sender_id: sender, message_id: id, content });

describe('onRecord: every stored record of every live conversation', () => {
  it('gets each record once the journal stored it, in order, with the human members nothing reaches live', async () => {
    const store = new ProbedJournal();
    const seen = recorder(store);
    const { runtime } = await makeRuntime({ store, onRecord: seen.listener });
    await team(runtime);
    // The joins and the mode change: nobody is subscribed yet, and a member who joined after a record is not told of it.
    expect(seen.summary).toEqual([
      [1, 'join', 'alice', []],
      [2, 'join', 'bob', ['alice']],
      [3, 'mode_change', 'system', ['alice', 'bob']],
      [4, 'join', 'carol', ['alice', 'bob']],
      [5, 'join', 'bot', ['alice', 'bob', 'carol']],
    ]);

    const alice = collector();
    await runtime.subscribe('team', 'alice', alice.listener);
    // Bob's tab closed just now: the others still see him online (the grace), but nothing reaches him live.
    (await runtime.subscribe('team', 'bob', () => undefined)).close();
    expect((await runtime.getConversation('team')).online).toContain('bob');

    store.block();
    const hi = await runtime.post('team', post('m1', 'alice', 'hi all'));
    await settle();
    expect(alice.messages.map((m) => m.content)).toContain('hi all');
    // Delivered, not stored: no call yet.
    expect(seen.events).toHaveLength(5);
    store.release();
    await hi.whenPersisted;
    expect(seen.summary.slice(5)).toEqual([[6, 'text', 'alice', ['bob', 'carol']]]);

    // The sender is never offline for its own record, connected or not.
    await (
      await runtime.post('team', post('m2', 'bob', 'back later'))
    ).whenPersisted;
    expect(seen.summary.slice(6)).toEqual([[7, 'text', 'bob', ['carol']]]);

    // A burst and a leave: the calls follow the journal's order, each record once, each after its write.
    const burst = await Promise.all([1, 2, 3].map((n) => runtime.post('team', post(`b${n}`, 'alice', `burst ${n}`))));
    await runtime.leave('team', 'carol');
    await Promise.all(burst.map((r) => r.whenPersisted));
    await settle();
    const journal = await runtime.readHistoryPage('team', 0, 100);
    expect(seen.events.map((e) => e.record)).toEqual(journal.messages);
    expect(seen.summary.slice(-1)).toEqual([[11, 'leave', 'carol', ['bob']]]);
    seen.events.forEach((e, i) => expect(seen.storedAtCall[i]).toBeGreaterThanOrEqual(e.record.sequence_id));

    // Small and frozen: the listener cannot change what it was given (or, through it, the next call's list).
    const event = seen.events[5];
    expect(Object.keys(event).sort()).toEqual(['conversationId', 'offline', 'record']);
    expect(event.conversationId).toBe('team');
    expect(Object.isFrozen(event) && Object.isFrozen(event.offline) && Object.isFrozen(event.record)).toBe(true);
    await runtime.close();
  });

  it('makes no call for a record whose journal write failed, until a retry stores it', async () => {
    const store = new ProbedJournal();
    const seen = recorder(store);
    const { runtime, clock } = await makeRuntime({ store, onRecord: seen.listener });
    await team(runtime);
    const alice = collector();
    await runtime.subscribe('team', 'alice', alice.listener);
    const before = seen.events.length;
    store.failWrites = true;
    const first = await runtime.post('team', post('m1', 'alice', 'one'));
    const second = await runtime.post('team', post('m2', 'alice', 'two'));
    await settle();
    expect(store.failedWrites).toBeGreaterThan(0);
    // Delivered live, refused by the journal: nobody is told of it.
    expect(alice.messages.map((m) => m.content)).toEqual(['one', 'two']);
    expect(seen.events).toHaveLength(before);
    expect(runtime.health().persistence_lag).toBe(2);

    store.failWrites = false;
    clock.advance(50); // chat.storage.retry_initial_ms
    await Promise.all([first.whenPersisted, second.whenPersisted]);
    expect(seen.events.slice(before).map((e) => [e.record.content, e.offline])).toEqual([
      ['one', ['bob', 'carol']],
      ['two', ['bob', 'carol']],
    ]);
    await settle();
    expect(seen.events).toHaveLength(before + 2);
    await runtime.close();
  });

  it('a listener that throws changes nothing for the conversation, and is logged once a minute', async () => {
    const { logger, logged } = capturedLogger('warn');
    let calls = 0;
    const { runtime, clock } = await makeRuntime({
      logger,
      onRecord: () => {
        calls++;
        throw new Error('push service down');
      },
    });
    await team(runtime);
    const alice = collector();
    await runtime.subscribe('team', 'alice', alice.listener);
    const results = [];
    for (const n of [1, 2, 3]) results.push(await runtime.post('team', post(`m${n}`, 'alice', `message ${n}`)));
    await Promise.all(results.map((r) => r.whenPersisted));

    expect(calls).toBe(8); // 5 membership records and 3 posts
    expect(results.map((r) => r.sequence_id)).toEqual([6, 7, 8]);
    expect(alice.messages.map((m) => m.content)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(alice.outputs.filter((o) => o.type === 'failed' || o.type === 'closed')).toEqual([]);
    expect((await runtime.readHistoryPage('team', 0, 100)).messages.map((m) => m.sequence_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(runtime.health().failed_conversations).toEqual([]);
    // One line for eight failures, naming where it failed and carrying the listener's error.
    expect(logged).toEqual([
      expect.objectContaining({
        msg: 'onRecord listener failed; the record is stored and delivered as always',
        level: 'error',
        conversation_id: 'team',
        sequence_id: 1,
        message_type: 'join',
        suppressed: 0,
        err: expect.objectContaining({ message: 'push service down' }),
      }),
    ]);

    // A minute on, the next failure is written with the count of those left out.
    clock.advance(60_000);
    await (
      await runtime.post('team', post('m4', 'alice', 'message 4'))
    ).whenPersisted;
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({ sequence_id: 9, suppressed: 7 });
    expect(alice.messages.map((m) => m.sequence_id)).toEqual([6, 7, 8, 9]);
    await runtime.close();
  });

  it('a listener whose promise rejects, or never settles, does not hold the journal and leaves nothing unhandled', async () => {
    const { logger, logged } = capturedLogger('warn');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const calledFor: number[] = [];
      const { runtime } = await makeRuntime({
        logger,
        onRecord: (event) => {
          calledFor.push(event.record.sequence_id);
          // Odd records: a mail server that refuses; even ones: a push service that never answers.
          if (event.record.sequence_id % 2 === 1) return Promise.reject(new Error('mail server refused'));
          return new Promise<void>(() => undefined);
        },
      });
      await team(runtime);
      const alice = collector();
      await runtime.subscribe('team', 'alice', alice.listener);
      const first = await runtime.post('team', post('m1', 'alice', 'one'));
      const second = await runtime.post('team', post('m2', 'alice', 'two'));
      // Stored and reported as such although every listener promise of theirs is still pending or rejected.
      await Promise.all([first.whenPersisted, second.whenPersisted]);
      await settle();
      expect(calledFor).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(alice.outputs.filter((o) => o.type === 'persisted').pop()).toEqual({ type: 'persisted', up_to_sequence_id: 7 });
      expect(alice.messages.map((m) => m.content)).toEqual(['one', 'two']);
      expect(logged).toEqual([
        expect.objectContaining({ sequence_id: 1, suppressed: 0, err: expect.objectContaining({ message: 'mail server refused' }) }),
      ]);
      expect(unhandled).toEqual([]);
      const { flushed } = await runtime.close();
      expect(flushed).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
