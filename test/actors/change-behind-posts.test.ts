import { GatedStore, makeRuntime, settle } from './runtime-helpers';

/**
 * An edit or delete waits for the journal to store what was sequenced before it (message-edits.ts, catchUp), not
 * for the journal to be empty. Found by the random gateway sessions (seed -1740109663): a `delete` frame and a
 * `message` frame arriving together made the delete's catch-up find the post queued and answer
 * STORAGE_ERR_UNAVAILABLE "the journal is behind"; in a room that keeps posting the queue is never empty, and every
 * change waited out the deadline to be refused so.
 */
test('a delete waits only for the records before it: posts queued after it neither hold nor refuse it', async () => {
  const store = new GatedStore();
  const { runtime, clock } = await makeRuntime({ store, agents: [] });
  try {
    await runtime.createConversation({
      conversation_id: 'c1',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    await settle();
    store.block();
    const b1 = await runtime.post('c1', { sender_id: 'bob', message_id: 'b1', content: 'to delete' });
    const deleted = runtime.redact('c1', { messageIds: ['b1'] }, 'bob', { ownMessagesOnly: true });
    let answered = false;
    void deleted.then(
      () => (answered = true),
      () => (answered = true),
    );
    await settle();
    // Another post, queued behind b1's write; its own write is held once b1's is done.
    await runtime.post('c1', { sender_id: 'bob', message_id: 'b2', content: 'still being stored' });
    store.release();
    store.block();
    await b1.whenPersisted;
    await settle();
    expect(answered).toBe(true);
    // Past the change's deadline (observability.shutdown_deadline_s): before, the delete was refused here.
    clock.advance(10_000);
    await expect(deleted).resolves.toMatchObject({ redacted: [b1.sequence_id], changed: true });
  } finally {
    store.release();
    await runtime.close({ deadlineMs: 1000 });
  }
});
