import { Writable } from 'node:stream';
import { createChatRuntime, createCounterIds, createManualClock, type Agent, type AgentOutput } from '../../actors';
import { createLogger } from '../../observability/logger';
import { MemoryStore, SqliteStore, type ChatStore } from '../../storage-providers';
import { settle } from './runtime-helpers';

/**
 * A record the store refuses as invalid no longer blocks a conversation's journal for good. The runtime refuses
 * such input from its callers (runtime-input-validation.test.ts), but an in-process agent's pieces are sequenced
 * as they come: one whose content is not a string, or whose metadata JSON cannot carry, used to be retried at the
 * head of the journal queue forever (health degraded, nothing after it stored, unflushed at close). Now a `lost`
 * record (reason `refused`) takes its id in the journal, the refusal is logged at error, and writing goes on.
 */

const STORES: Array<[string, () => ChatStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SqliteStore', () => new SqliteStore({ path: ':memory:' })],
];

const cyclic = (): Record<string, unknown> => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
};

/** Answers 'question' with one piece the journal cannot hold, then a good final one. */
function careless(bad: Record<string, unknown>): Agent {
  return {
    id: 'careless',
    displayName: 'Careless',
    wantsTurn: (m) => m.content === 'question',
    async *respond() {
      yield { content: 'fine', ...bad } as unknown as AgentOutput;
      yield { content: 'done', final: true };
    },
  };
}

describe.each(STORES)('a record the store refuses as invalid (%s)', (_name, makeStore) => {
  test.each([
    ['content that is not a string', { content: 42 }],
    ['metadata JSON cannot carry', { metadata: cyclic() }],
  ])('an agent piece with %s: a lost record in its place, logged at error; the journal goes on', async (_what, bad) => {
    const logged: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write: (chunk, _encoding, done) => {
        logged.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const store = makeStore();
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' } },
      storage: store,
      agents: [careless(bad)],
      clock: createManualClock(),
      ids: createCounterIds('c'),
      logger: createLogger({ level: 'warn', destination }),
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
    expect(answer.map((m) => m.content)).toEqual(['done']);
    const lost = journal.filter((m) => m.message_type === 'lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ sender_type: 'system', message_id: `lost-${lost[0].sequence_id}`, metadata: { reason: 'refused' } });
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_m, i) => i + 1));
    expect(runtime.health()).toMatchObject({ status: 'healthy', persistence_lag: 0 });
    expect(logged.filter((l) => l.msg === 'journal refused a record as invalid; stored a lost record in its place')).toEqual([
      expect.objectContaining({ level: 'error', conversation_id: 'c1', sequence_id: lost[0].sequence_id }),
    ]);
    expect(await runtime.close()).toEqual({ flushed: true, unflushed: 0 });
    await store.close();
  });
});
