import { GatedStore, makeRuntime, settle } from './runtime-helpers';

/**
 * /health's persistence lag while the store holds a write: the record count stays where it was (one post, one
 * unstored record) until the store's own timeout fails the write, so a stalled store looked like a small steady lag.
 * persistence_lag_ms is the age of the oldest unstored record at the time of the read, so it grows meanwhile.
 */
describe('persistence lag age', () => {
  test('grows with the clock while an append hangs, is the oldest record of every conversation, and is 0 once stored', async () => {
    const store = new GatedStore();
    const { runtime, clock } = await makeRuntime({ store, agents: [] });
    try {
      await runtime.createConversation({ conversation_id: 'c1', created_by: 'alice' });
      await runtime.createConversation({ conversation_id: 'c2', created_by: 'bob' });
      // The joins' journal writes.
      await settle();
      expect(runtime.health()).toMatchObject({ persistence_lag: 0, persistence_lag_ms: 0 });

      store.block();
      const first = await runtime.post('c1', { sender_id: 'alice', message_id: 'm1', content: 'held by the store' });
      expect(runtime.health()).toMatchObject({ persistence_lag: 1, persistence_lag_ms: 0 });
      clock.advance(5000);
      expect(runtime.health()).toMatchObject({ persistence_lag: 1, persistence_lag_ms: 5000 });
      // A newer record elsewhere does not hide the older one.
      await runtime.post('c2', { sender_id: 'bob', message_id: 'm2', content: 'also held' });
      clock.advance(7000);
      expect(runtime.health()).toMatchObject({ persistence_lag: 2, persistence_lag_ms: 12_000 });

      store.release();
      await first.whenPersisted;
      await runtime.post('c2', { sender_id: 'bob', message_id: 'm3', content: 'after' }).then((r) => r.whenPersisted);
      expect(runtime.health()).toMatchObject({ persistence_lag: 0, persistence_lag_ms: 0 });
    } finally {
      store.release();
      await runtime.close({ deadlineMs: 1000 });
    }
  });
});
