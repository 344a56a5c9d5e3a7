import { createManualClock } from '../../actors/clock';
import { ChatError } from '../../actors/errors';
import type { ChatMessage } from '../../actors/message-types';
import { PersistenceQueue, type PersistenceQueueOptions } from '../../actors/persistence-queue';
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

async function makeQueue(options: Partial<PersistenceQueueOptions> = {}): Promise<{ queue: PersistenceQueue; store: MemoryStore }> {
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
      ...options,
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

describe('PersistenceQueue and records the store refuses as invalid', () => {
  it('stores a lost record in place of each invalid one, reports it, and writes on: the journal is not blocked', async () => {
    const refused: Array<[number, string]> = [];
    const { queue, store } = await makeQueue({ onRefused: (m, problem) => void refused.push([m.sequence_id, problem]) });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    queue.enqueue([record(1), { ...record(2), content: 42 as unknown as string }, { ...record(3), metadata: cycle }, record(4)]);
    await nextTurn();
    expect(queue.persistedUpTo).toBe(4);
    expect(queue.failing).toBe(false);
    const stored = await store.readMessages('c', 0, 10);
    expect(stored.map((m) => [m.sequence_id, m.message_type, m.sender_type])).toEqual([
      [1, 'text', 'human'],
      [2, 'lost', 'system'],
      [3, 'lost', 'system'],
      [4, 'text', 'human'],
    ]);
    expect(stored[1]).toMatchObject({ message_id: 'lost-2', sender_id: 'system', metadata: { reason: 'refused' } });
    expect(refused).toEqual([
      [2, 'message m2 has a non-string field'],
      [3, 'metadata is not JSON-serialisable'],
    ]);
  });

  it('a batch refused for a reason no record shows is written one by one; the record the store refuses alone is replaced', async () => {
    const refused: Array<[number, string]> = [];
    const { queue, store } = await makeQueue({ onRefused: (m, problem) => void refused.push([m.sequence_id, problem]) });
    const append = store.appendMessages.bind(store);
    // The provider's own rule: no record 2 (all or nothing, per batch).
    jest
      .spyOn(store, 'appendMessages')
      .mockImplementation((id, batch, fence) =>
        batch.some((m) => m.message_id === 'm2')
          ? Promise.reject(new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'odd'))
          : append(id, batch, fence),
      );
    queue.enqueue([record(1), record(2), record(3)]);
    await nextTurn();
    expect(queue.failing).toBe(false);
    const stored = await store.readMessages('c', 0, 10);
    expect(stored.map((m) => [m.sequence_id, m.message_type])).toEqual([
      [1, 'text'],
      [2, 'lost'],
      [3, 'text'],
    ]);
    expect(refused).toEqual([[2, 'the store refused it: odd']]);
  });

  it('keeps retrying, with backoff, a placeholder the store refuses in turn (nothing replaced again)', async () => {
    const refused: Array<[number, string]> = [];
    const { queue, store } = await makeQueue({ onRefused: (m, problem) => void refused.push([m.sequence_id, problem]) });
    jest.spyOn(store, 'appendMessages').mockRejectedValue(new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'refuses everything'));
    queue.enqueue([record(1)]);
    await nextTurn();
    expect(queue.failing).toBe(true);
    expect(refused).toEqual([[1, 'the store refused it: refuses everything']]);
    expect(await store.lastSequenceId('c')).toBe(0);
  });
});
