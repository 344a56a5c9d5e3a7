import type { ConversationOutput } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { collector, makeRuntime, settle } from './runtime-helpers';

/** A conversation 'c' of alice alone (its join is id 1) with `posts` posts after it; returns its last id. */
async function conversationWith(runtime: Awaited<ReturnType<typeof makeRuntime>>['runtime'], posts: number): Promise<number> {
  await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', autoJoinAgents: false });
  let last = 0;
  for (let i = 0; i < posts; i++)
    last = (await runtime.post('c', { sender_id: 'alice', message_id: `m${i}`, content: `post ${i}` })).sequence_id;
  await settle();
  return last;
}

const syncFrames = (outputs: readonly ConversationOutput[]) => outputs.filter((o) => o.type === 'sync_complete');

describe('subscribe with history: the last N records, then live', () => {
  test('history alone replays the last N records and says earlier ones exist', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    const last = await conversationWith(runtime, 20);
    const bob = collector();
    const sub = await runtime.subscribe('c', 'alice', bob.listener, { history: 5 });
    expect(sub.lastSequenceId).toBe(last);
    expect(bob.messages.map((m) => m.sequence_id)).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
    expect(syncFrames(bob.outputs)).toEqual([{ type: 'sync_complete', from: last - 4, to: last, recovered: true, has_earlier: true }]);
    // Live records follow the replay, once.
    await runtime.post('c', { sender_id: 'alice', message_id: 'after', content: 'after' });
    expect(bob.messages.at(-1)?.sequence_id).toBe(last + 1);
    expect(bob.outputs.at(-2)?.type).toBe('sync_complete');
    await runtime.close();
  });

  test('with a resume point the replay starts after the later of the two; has_earlier says whether the bound cut', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    const last = await conversationWith(runtime, 20);
    const near = collector();
    await runtime.subscribe('c', 'alice', near.listener, { afterSequenceId: last - 2, history: 5 });
    expect(near.messages.map((m) => m.sequence_id)).toEqual([last - 1, last]);
    expect(syncFrames(near.outputs)).toEqual([{ type: 'sync_complete', from: last - 1, to: last, recovered: true, has_earlier: false }]);

    const far = collector();
    await runtime.subscribe('c', 'alice', far.listener, { afterSequenceId: 3, history: 5 });
    expect(far.messages.map((m) => m.sequence_id)).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
    expect(syncFrames(far.outputs)).toEqual([{ type: 'sync_complete', from: last - 4, to: last, recovered: true, has_earlier: true }]);

    // A bound past the conversation's length replays everything and cuts nothing.
    const whole = collector();
    await runtime.subscribe('c', 'alice', whole.listener, { history: 1000 });
    expect(whole.messages.map((m) => m.sequence_id)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(syncFrames(whole.outputs)).toEqual([{ type: 'sync_complete', from: 1, to: last, recovered: true, has_earlier: false }]);

    // Without history, sync_complete is as before: no has_earlier.
    const plain = collector();
    await runtime.subscribe('c', 'alice', plain.listener, { afterSequenceId: last - 1 });
    expect(syncFrames(plain.outputs)).toEqual([{ type: 'sync_complete', from: last, to: last, recovered: true }]);
    await runtime.close();
  });

  test('a bound that falls in a dropped range: the dropped frame first, and nothing earlier to read', async () => {
    const store = new MemoryStore({ maxRecordsPerConversation: 10 });
    const { runtime } = await makeRuntime({ agents: [], store, config: { chat: { cache: { recent_messages: 1 } } } });
    const last = await conversationWith(runtime, 30);
    const dropped = await store.droppedUpTo('c');
    expect(dropped).toBeGreaterThan(last - 15);
    const reader = collector();
    await runtime.subscribe('c', 'alice', reader.listener, { history: 15 });
    const syncs = syncFrames(reader.outputs);
    expect(syncs[0]).toEqual({ type: 'sync_complete', from: last - 14, to: dropped, recovered: false });
    expect(syncs[1]).toMatchObject({ from: dropped + 1, to: last, recovered: true, has_earlier: false });
    expect(reader.messages[0].sequence_id).toBe(dropped + 1);
    await runtime.close();
  });

  test.each([0, -1, 1.5, Number.NaN])('history %p is refused as CHAT_ERR_INVALID_ARGUMENT', async (history) => {
    const { runtime } = await makeRuntime({ agents: [] });
    await conversationWith(runtime, 1);
    await expect(runtime.subscribe('c', 'alice', () => undefined, { history })).rejects.toMatchObject({
      code: 'CHAT_ERR_INVALID_ARGUMENT',
    });
    await runtime.close();
  });
});
