import { ChatError, createChatRuntime, createCounterIds, createManualClock, type Agent } from '../../actors';
import { MemoryStore, SqliteStore, type ChatStore } from '../../storage-providers';
import { capturedLogger, settle } from './runtime-helpers';

/**
 * A record the store refuses as invalid never blocks a conversation's journal for good. The runtime refuses what
 * the shared rule foresees before sequencing it (runtime-input-validation.test.ts, agent-output-rules.test.ts), so
 * what remains is a provider of the embedder's with a stricter rule of its own. Before, a record the shared rule
 * could not blame was retried at the head of the journal queue forever (health degraded, nothing after it stored,
 * unflushed at close). Now the batch is written again one record at a time, and a lone record the store refuses
 * gets a `lost` record (reason `refused`, the store's reason logged at error) in its place; writing goes on.
 */

/** A provider with a content policy of its own: no record saying "forbidden" (all or nothing, per batch). */
function withContentPolicy<T extends ChatStore>(store: T): T {
  const append = store.appendMessages.bind(store);
  store.appendMessages = async (id, batch, fence) => {
    if (batch.some((m) => m.sender_type !== 'system' && m.content.includes('forbidden')))
      throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', 'content policy: forbidden');
    return append(id, batch, fence);
  };
  return store;
}

const STORES: Array<[string, () => ChatStore]> = [
  ['MemoryStore', () => withContentPolicy(new MemoryStore())],
  ['SqliteStore', () => withContentPolicy(new SqliteStore({ path: ':memory:' }))],
];

/** Answers 'question' with three pieces in one turn, the middle one refused by the provider's policy. */
const careless: Agent = {
  id: 'careless',
  displayName: 'Careless',
  wantsTurn: (m) => m.content === 'question',
  async *respond() {
    yield { content: 'fine' };
    yield { content: 'a forbidden word' };
    yield { content: 'done', final: true };
  },
};

describe.each(STORES)('a record the store refuses as invalid (%s)', (_name, makeStore) => {
  test('a piece the provider refuses: a lost record in its place, logged at error; the journal goes on', async () => {
    const { logger, logged } = capturedLogger('warn');
    const store = makeStore();
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' } },
      storage: store,
      agents: [careless],
      clock: createManualClock(),
      ids: createCounterIds('c'),
      logger: logger,
    });
    await runtime.createConversation({
      conversation_id: 'c1',
      created_by: 'alice',
      participants: [{ participant_id: 'careless', participant_type: 'ai' }],
    });
    await runtime.post('c1', { sender_id: 'alice', message_id: 'q', content: 'question' });
    await settle();
    const later = await runtime.post('c1', { sender_id: 'alice', message_id: 'later', content: 'still stored?' });
    await later.whenPersisted;
    await settle();

    const journal = await store.readMessages('c1', 0, 100);
    const answer = journal.filter((m) => m.sender_id === 'careless' && m.message_type !== 'join');
    expect(answer.map((m) => m.content)).toEqual(['fine', 'done']);
    const lost = journal.filter((m) => m.message_type === 'lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ sender_type: 'system', message_id: `lost-${lost[0].sequence_id}`, metadata: { reason: 'refused' } });
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_m, i) => i + 1));
    expect(runtime.health()).toMatchObject({ status: 'healthy', persistence_lag: 0 });
    expect(logged.filter((l) => l.msg === 'journal refused a record as invalid; stored a lost record in its place')).toEqual([
      expect.objectContaining({
        level: 'error',
        conversation_id: 'c1',
        sequence_id: lost[0].sequence_id,
        problem: 'the store refused it: content policy: forbidden',
      }),
    ]);
    expect(await runtime.close()).toEqual({ flushed: true, unflushed: 0 });
    await store.close();
  });
});
