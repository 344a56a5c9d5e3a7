import { createManualClock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import { PersistenceQueue } from '../../actors/persistence-queue';
import { MemoryStore } from '../../storage-providers';

const record = (seq: number): ChatMessage =>
  Object.freeze({
    message_id: `m${seq}`,
    conversation_id: 'c',
    sequence_id: seq,
    sender_id: 'alice',
    sender_type: 'human',
    message_type: 'text',
    content: `text ${seq}`,
    timestamp: new Date(0).toISOString(),
    metadata: Object.freeze({}),
  }) as ChatMessage;

/** Resolves once the promise callbacks queued so far (and those they queue) have run. */
const afterMicrotasks = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function makeQueue(): Promise<{ queue: PersistenceQueue; store: MemoryStore }> {
  const store = new MemoryStore();
  await store.open();
  await store.createConversation(
    { conversation_id: 'c', title: 'c', created_at: new Date(0).toISOString(), created_by: 'alice', settings: {}, status: 'active' },
    [],
  );
  const queue = new PersistenceQueue(
    {
      conversationId: 'c',
      store,
      clock: createManualClock(),
      batchMax: 100,
      retryInitialMs: 10,
      retryMaxMs: 100,
      onPersisted: () => undefined,
    },
    0,
  );
  return { queue, store };
}

describe('PersistenceQueue write timing', () => {
  it('writes `soon` records within the turn, before any tick (a post is acked persisted in the same write)', async () => {
    const { queue, store } = await makeQueue();
    queue.enqueue([record(1), record(2)]);
    await afterMicrotasks();
    expect(queue.persistedUpTo).toBe(2);
    expect(await store.lastSequenceId('c')).toBe(2);
  });

  it('defers other records to the next turn, and a `soon` record queued meanwhile writes everything at once', async () => {
    const { queue, store } = await makeQueue();
    queue.enqueue([record(1)], false);
    await afterMicrotasks();
    expect(queue.persistedUpTo).toBe(0);
    await nextTurn();
    expect(queue.persistedUpTo).toBe(1);

    queue.enqueue([record(2)], false);
    queue.enqueue([record(3)]);
    await afterMicrotasks();
    expect(queue.persistedUpTo).toBe(3);
    expect(await store.lastSequenceId('c')).toBe(3);
  });

  it('whenIdle waits for a deferred write; close drops it', async () => {
    const { queue } = await makeQueue();
    queue.enqueue([record(1)], false);
    await queue.whenIdle();
    expect(queue.persistedUpTo).toBe(1);
    queue.enqueue([record(2)], false);
    queue.close();
    await nextTurn();
    expect(queue.persistedUpTo).toBe(1);
    expect(queue.depth).toBe(1);
  });
});
