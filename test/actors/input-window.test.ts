import type { ConfigInput } from '../../config/config-types';
import { makeRuntime, collector, settle } from './runtime-helpers';

const echoMember = { participant_id: 'echo', participant_type: 'ai' as const };

/** Alice, bob and the echo agent in conversation `c` (multi mode), alice subscribed; `echoes` are the agent's answers. */
async function groupRoom(config?: ConfigInput) {
  const { runtime, clock } = await makeRuntime(config ? { config } : {});
  await runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [echoMember, { participant_id: 'bob', participant_type: 'human' }],
  });
  const alice = collector();
  await runtime.subscribe('c', 'alice', alice.listener);
  const echoes = () => alice.messages.filter((m) => m.sender_id === 'echo' && m.message_type === 'text');
  return { runtime, clock, alice, echoes };
}

describe('input completion windows', () => {
  it('multi mode: agents answer the burst after 2000 ms without a further human message (window restarted by each one)', async () => {
    const { runtime, clock, echoes } = await groupRoom();
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'first line' });
    clock.advance(1500);
    await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'second line' });
    clock.advance(1500);
    await settle();
    expect(echoes()).toHaveLength(0);
    clock.advance(500);
    await settle();
    expect(echoes().map((m) => m.content)).toEqual(['echo: first line\nsecond line']);
    expect(echoes()[0].metadata).toMatchObject({ in_reply_to: 'b1', complete: true });
    await runtime.close();
  });

  it('multi mode in a busy room: the burst is answered multi_mode_max_wait_ms after its first message, however often the window restarts', async () => {
    // Before: every human message restarted the 2000 ms window, so with a message every 1500 ms the agents never answered.
    const { runtime, clock, echoes } = await groupRoom({ chat: { input: { multi_mode_max_wait_ms: 10_000 } } });
    let n = 0;
    const say = async (who: string) => {
      await runtime.post('c', { sender_id: who, message_id: `m${++n}`, content: `line ${n}` });
      await settle();
    };
    // Lines at 0, 1500, ..., 9000 ms: never 2000 ms of quiet.
    await say('alice');
    for (let i = 0; i < 6; i++) {
      clock.advance(1500);
      await settle();
      await say(i % 2 === 0 ? 'bob' : 'alice');
    }
    expect(echoes()).toHaveLength(0);
    clock.advance(999); // 9999 ms after the first line
    await settle();
    expect(echoes()).toHaveLength(0);
    clock.advance(1); // 10,000 ms: the cap, although the last line came 1000 ms ago
    await settle();
    expect(echoes().map((m) => m.content)).toEqual([`echo: ${Array.from({ length: 7 }, (_v, i) => `line ${i + 1}`).join('\n')}`]);

    // The next burst starts its own clock: a lone line waits the plain window again.
    await say('bob');
    clock.advance(1999);
    await settle();
    expect(echoes()).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(
      echoes()
        .map((m) => m.content)
        .at(-1),
    ).toBe('echo: line 8');
    await runtime.close();
  });

  it('multi mode with multi_mode_max_wait_ms 0: no cap (each message restarts the window, as before)', async () => {
    const { runtime, clock, echoes } = await groupRoom({ chat: { input: { multi_mode_max_wait_ms: 0 } } });
    for (let i = 0; i < 10; i++) {
      await runtime.post('c', { sender_id: 'alice', message_id: `a${i}`, content: `line ${i}` });
      clock.advance(1500);
      await settle();
    }
    expect(echoes()).toHaveLength(0);
    clock.advance(500);
    await settle();
    expect(echoes()).toHaveLength(1);
    await runtime.close();
  });

  it('single mode: a complete message is answered at once; while typing is reported the 100 ms window applies', async () => {
    const { runtime, clock } = await makeRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [echoMember] });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    const echoes = () => alice.messages.filter((m) => m.sender_id === 'echo' && m.message_type === 'text').map((m) => m.content);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'now' });
    await settle();
    expect(echoes()).toEqual(['echo: now']);
    runtime.setTyping('c', 'alice', true);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a2', content: 'part one' });
    clock.advance(99);
    await settle();
    expect(echoes()).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(echoes()).toEqual(['echo: now', 'echo: part one']);
    await runtime.close();
  });

  it('both windows come from chat.input (the tests above run on the defaults)', async () => {
    const { runtime, clock } = await makeRuntime({
      config: { chat: { input: { multi_mode_window_ms: 300, single_mode_typing_window_ms: 40 } } },
    });
    await runtime.createConversation({ conversation_id: 's', created_by: 'alice', participants: [echoMember] });
    await runtime.createConversation({
      conversation_id: 'm',
      created_by: 'alice',
      participants: [echoMember, { participant_id: 'bob', participant_type: 'human' }],
    });
    const single = collector();
    const multi = collector();
    await runtime.subscribe('s', 'alice', single.listener);
    await runtime.subscribe('m', 'alice', multi.listener);
    const answered = (c: ReturnType<typeof collector>) => c.messages.some((m) => m.sender_id === 'echo' && m.message_type === 'text');
    runtime.setTyping('s', 'alice', true);
    await runtime.post('s', { sender_id: 'alice', message_id: 's1', content: 'typing on' });
    await runtime.post('m', { sender_id: 'alice', message_id: 'm1', content: 'to both' });
    clock.advance(39);
    await settle();
    expect([answered(single), answered(multi)]).toEqual([false, false]);
    clock.advance(1);
    await settle();
    expect([answered(single), answered(multi)]).toEqual([true, false]);
    clock.advance(260);
    await settle();
    expect(answered(multi)).toBe(true);
    await runtime.close();
  });
});

describe('connections and resume', () => {
  it('delivers to every connection of a participant (two tabs) and relays typing to others only', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const tab1 = collector();
    const tab2 = collector();
    const bob = collector();
    await runtime.subscribe('c', 'alice', tab1.listener);
    await runtime.subscribe('c', 'alice', tab2.listener);
    await runtime.subscribe('c', 'bob', bob.listener);
    await runtime.post('c', { sender_id: 'bob', message_id: 'x', content: 'hello' });
    runtime.setTyping('c', 'alice', true);
    expect(tab1.messages.map((m) => m.content)).toEqual(['hello']);
    expect(tab2.messages.map((m) => m.content)).toEqual(['hello']);
    expect(bob.outputs.filter((o) => o.type === 'typing')).toEqual([{ type: 'typing', participant_id: 'alice', is_typing: true }]);
    expect(tab1.outputs.filter((o) => o.type === 'typing')).toEqual([]);
    await runtime.close();
  });

  it('resumes after a sequence id from storage beyond the cache, then live, with no gap or duplicate at the seam', async () => {
    const { runtime } = await makeRuntime({ agents: [], config: { chat: { cache: { recent_messages: 5 } } } });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    for (let i = 0; i < 20; i++) await runtime.post('c', { sender_id: 'bob', message_id: `b${i}`, content: `${i}` });
    await settle();
    const alice = collector();
    const subscribing = runtime.subscribe('c', 'alice', alice.listener, { afterSequenceId: 3 });
    // posts while the replay is reading storage must come after it, exactly once
    const live = runtime.post('c', { sender_id: 'bob', message_id: 'live', content: 'live' });
    await subscribing;
    await live;
    await settle();
    const seqs = alice.messages.map((m) => m.sequence_id);
    expect(seqs).toEqual(Array.from({ length: 21 }, (_, i) => i + 4)); // 1-3: joins + mode change
    const sync = alice.outputs.find((o) => o.type === 'sync_complete');
    expect(sync).toEqual({ type: 'sync_complete', from: 4, to: 23, recovered: true });
    expect(alice.outputs.findIndex((o) => o.type === 'sync_complete')).toBeLessThan(
      alice.outputs.findIndex((o) => o.type === 'message' && o.message.content === 'live'),
    );
    await runtime.close();
  });

  it('persists acknowledgements: whenPersisted resolves and connections hear the persisted watermark', async () => {
    const { runtime, store } = await makeRuntime({ agents: [] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    const r = await runtime.post('c', { sender_id: 'alice', message_id: 'm', content: 'x' });
    await r.whenPersisted;
    // `persisted` is read live: true now that the journal has the record.
    expect(r.persisted).toBe(true);
    expect(await store.lastSequenceId('c')).toBe(r.sequence_id);
    expect(alice.outputs).toContainEqual({ type: 'persisted', up_to_sequence_id: r.sequence_id });
    await runtime.close();
  });
});

describe('runtime edge cases', () => {
  it('resumes from the real end when a client claims a sequence id past it, and sees what comes next', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human', display_name: 'Bob' }],
    });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener, { afterSequenceId: 999 });
    const r = await runtime.post('c', { sender_id: 'bob', message_id: 'x', content: 'next' });
    expect(alice.messages.map((m) => m.sequence_id)).toEqual([r.sequence_id]);
    await runtime.close();
  });

  it("keeps the creator's own display name from the participant list", async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    const conv = await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'alice', participant_type: 'human', display_name: 'Alice A.' }],
    });
    expect(conv.participants[0]).toMatchObject({ participant_id: 'alice', display_name: 'Alice A.', role: 'owner' });
    await runtime.close();
  });
});
