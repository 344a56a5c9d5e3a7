import { makeRuntime, collector, settle } from './runtime-helpers';

describe('chat runtime (memory, echo agent)', () => {
  it('sequences a post, delivers it, lets the echo agent answer and persists everything in order', async () => {
    const { runtime, store } = await makeRuntime({ config: { chat: { nlweb: { endpoints: [{ id: 'echo', url: 'standin' }] } } } });
    const conv = await runtime.createConversation({ conversation_id: 'c1', created_by: 'alice' });
    expect(conv.participants.map((p) => p.participant_id)).toEqual(['alice', 'echo']);
    expect(conv.mode).toBe('single');
    const alice = collector();
    await runtime.subscribe('c1', 'alice', alice.listener);
    const result = await runtime.post('c1', { sender_id: 'alice', message_id: 'm1', content: 'hello' });
    expect(result.duplicate).toBe(false);
    await settle();
    const types = alice.messages.map((m) => [m.sequence_id, m.message_type, m.content]);
    expect(types).toEqual([
      [3, 'text', 'hello'],
      [4, 'agent_job_started', 'Echo is answering'],
      [5, 'text', 'echo: hello'],
    ]);
    await result.whenPersisted;
    expect((await store.readMessages('c1', 0, 100)).map((m) => m.sequence_id)).toEqual([1, 2, 3, 4, 5]);
    const again = await runtime.post('c1', { sender_id: 'alice', message_id: 'm1', content: 'hello' });
    expect(again).toMatchObject({ sequence_id: 3, duplicate: true, persisted: true });
    await runtime.close();
  });
});
