import { createChatRuntime, createCounterIds, createManualClock, isChatError, type Agent } from '../../actors';
import { PostgresStore } from '../../storage-providers';
import { settle } from '../actors/runtime-helpers';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from './pg-helpers';

/**
 * Regression: PostgreSQL's jsonb cannot hold U+0000 ("unsupported Unicode escape sequence"), and the shared record
 * rule did not know it. A post whose metadata had one was sequenced and delivered, then refused by the journal on
 * every retry: nothing of the conversation was stored after it. Seen before the fix with the post and one more:
 * neither persisted, persistence_lag 3 and growing, health still `healthy`.
 */
describeWithPg(pgReachableSync())('a NUL character in metadata, on PostgreSQL', () => {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(schema));

  test('a post and an agent piece with one are refused before sequencing; the journal goes on', async () => {
    const agent: Agent = {
      id: 'bot',
      displayName: 'Bot',
      wantsTurn: (m) => m.content === 'question',
      async *respond() {
        yield { content: 'answer', metadata: { items: [{ name: 'Oat\u0000s' }] }, final: true };
      },
    };
    const store = new PostgresStore({ url: PG_URL, schema, poolSize: 2 });
    await store.open();
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' } },
      storage: store,
      agents: [agent],
      clock: createManualClock(),
      ids: createCounterIds('c'),
    });
    try {
      await runtime.createConversation({
        conversation_id: 'c1',
        created_by: 'alice',
        participants: [{ participant_id: 'bot', participant_type: 'ai' }],
      });
      const refusal = await runtime
        .post('c1', { sender_id: 'alice', message_id: 'm1', content: 'hi', metadata: { note: 'a\u0000b' } })
        .catch((err: unknown) => err);
      expect(isChatError(refusal, 'CHAT_ERR_INVALID_MESSAGE')).toBe(true);
      expect((refusal as Error).message).toBe('metadata contains a NUL character (U+0000), which PostgreSQL cannot store');

      const asked = await runtime.post('c1', { sender_id: 'alice', message_id: 'm2', content: 'question' });
      await settle();
      await asked.whenPersisted;
      const later = await runtime.post('c1', { sender_id: 'alice', message_id: 'm3', content: 'still stored?' });
      await later.whenPersisted;
      const journal = await store.readMessages('c1', 0, 100);
      expect(journal.map((m) => [m.message_type, m.metadata.code])).toEqual([
        ['join', undefined],
        ['join', undefined],
        ['text', undefined],
        ['agent_job_started', undefined],
        ['agent_job_failed', 'AGENT_ERR_INVALID_OUTPUT'],
        ['text', undefined],
      ]);
      expect(runtime.health()).toMatchObject({ status: 'healthy', persistence_lag: 0 });
    } finally {
      expect(await runtime.close()).toEqual({ flushed: true, unflushed: 0 });
      await store.close();
    }
  });
});
