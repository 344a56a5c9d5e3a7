import { isChatError } from '../../actors';
import { makeRuntime, collector, settle, GatedStore, createBlockingAgent } from './runtime-helpers';

const aiMember = (id: string) => ({ participant_id: id, participant_type: 'ai' as const, agent_id: id });

describe('bounded mailbox', () => {
  it('drops the oldest queued agent job (really aborting it) before refusing a human', async () => {
    const agent = createBlockingAgent('slow');
    const { runtime } = await makeRuntime({
      agents: [agent],
      config: { chat: { limits: { queue_size: 2, max_concurrent_agent_jobs: 1 } } },
    });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [aiMember('slow')] });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'one' });
    await settle();
    const m2 = await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'two' });
    await settle();
    expect(runtime.health().queue_depths.c).toBe(2); // job m1 running, job m2 queued
    await runtime.post('c', { sender_id: 'alice', message_id: 'm3', content: 'three' });
    await settle();
    // m2's job was dropped without ever running; m1's keeps running
    expect(agent.started).toEqual(['m1']);
    expect(agent.signals[0].aborted).toBe(false);
    const cancelled = alice.messages.filter((m) => m.message_type === 'agent_job_cancelled');
    expect(cancelled.map((m) => m.metadata.reason)).toEqual(['queue_full']);
    expect(cancelled[0].metadata.job_id).toBe(`c:${m2.sequence_id}:slow`);
    await runtime.close();
  });

  it('aborts the oldest running agent job (its HTTP call would be cancelled) when no queued job is left', async () => {
    const agent = createBlockingAgent('slow');
    const { runtime } = await makeRuntime({ agents: [agent], config: { chat: { limits: { queue_size: 1 } } } });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [aiMember('slow')] });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await settle();
    await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'one' });
    await settle();
    expect(agent.signals[0].aborted).toBe(false);
    await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'two' });
    await settle();
    expect(agent.signals[0].aborted).toBe(true);
    expect(alice.messages.filter((m) => m.message_type === 'agent_job_cancelled')).toHaveLength(1);
    expect(agent.started).toEqual(['m1', 'm2']);
    await runtime.close();
  });

  it('rejects a human with CHAT_ERR_QUEUE_FULL and retry_after_ms when no agent work is left, and loses nothing', async () => {
    const store = new GatedStore();
    const { runtime } = await makeRuntime({ store, agents: [], config: { chat: { limits: { queue_size: 2 } } } });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    await settle();
    store.block();
    const r1 = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'one' });
    await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'two' });
    const refused = await runtime.post('c', { sender_id: 'alice', message_id: 'm3', content: 'three' }).catch((e: unknown) => e);
    expect(isChatError(refused, 'CHAT_ERR_QUEUE_FULL')).toBe(true);
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    // a retry of an accepted message is still answered: it adds no work
    expect(await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'one' })).toMatchObject({
      duplicate: true,
      sequence_id: r1.sequence_id,
    });
    expect(runtime.health().status).toBe('degraded');
    store.release();
    await r1.whenPersisted;
    await settle();
    const r3 = await runtime.post('c', { sender_id: 'alice', message_id: 'm3', content: 'three' });
    await r3.whenPersisted;
    const journal = await store.readMessages('c', 0, 100);
    expect(journal.map((m) => m.sequence_id)).toEqual([1, 2, 3, 4]);
    expect(journal.slice(1).map((m) => m.content)).toEqual(['one', 'two', 'three']);
    await runtime.close();
  });
});
