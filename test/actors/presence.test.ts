import type { ConversationOutput } from '../../actors';
import { makeRuntime, collector } from './runtime-helpers';

/** Presence outputs only, as [participant_id, online]. */
function presence(outputs: readonly ConversationOutput[]): Array<[string, boolean]> {
  return outputs.flatMap((o) => (o.type === 'presence' ? [[o.participant_id, o.online] as [string, boolean]] : []));
}

/** Alice and Bob (humans) and the echo agent; only Alice is subscribed (`alice` collects what she gets). */
async function room(config: Parameters<typeof makeRuntime>[0] = {}) {
  const made = await makeRuntime({ config: { chat: { nlweb: { endpoints: [{ id: 'echo', url: 'standin' }] } } }, ...config });
  await made.runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  const alice = collector();
  const aliceSub = await made.runtime.subscribe('c1', 'alice', alice.listener);
  return { ...made, alice, aliceSub };
}

describe('presence (runtime)', () => {
  it('a member is online from its first subscription; a second tab announces nothing', async () => {
    const { runtime, alice, aliceSub } = await room();
    expect(aliceSub.online).toEqual(['alice']);
    const bob = collector();
    const bobSub = await runtime.subscribe('c1', 'bob', bob.listener);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    // Bob learns the state from his subscription, not from a frame about himself.
    expect([...bobSub.online].sort()).toEqual(['alice', 'bob']);
    expect(presence(bob.outputs)).toEqual([]);
    await runtime.subscribe('c1', 'bob', collector().listener);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    expect([...(await runtime.getConversation('c1')).online].sort()).toEqual(['alice', 'bob']);
    await runtime.close();
  });

  it('offline is announced only after chat.presence.offline_grace_s once the last subscription closed', async () => {
    const { runtime, clock, alice } = await room({ config: { chat: { presence: { offline_grace_s: 5 } } } });
    const tab1 = await runtime.subscribe('c1', 'bob', () => undefined);
    const tab2 = await runtime.subscribe('c1', 'bob', () => undefined);
    tab1.close();
    clock.advance(60_000);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    tab2.close();
    clock.advance(4_999);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    expect((await runtime.getConversation('c1')).online).toContain('bob');
    clock.advance(1);
    expect(presence(alice.outputs)).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
    expect((await runtime.getConversation('c1')).online).toEqual(['alice']);
    await runtime.close();
  });

  it('a reconnect inside the grace shows no change; one after it is online again', async () => {
    const { runtime, clock, alice } = await room();
    (await runtime.subscribe('c1', 'bob', () => undefined)).close();
    clock.advance(3_000);
    const again = await runtime.subscribe('c1', 'bob', () => undefined);
    clock.advance(60_000);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    again.close();
    clock.advance(5_000);
    await runtime.subscribe('c1', 'bob', () => undefined);
    expect(presence(alice.outputs)).toEqual([
      ['bob', true],
      ['bob', false],
      ['bob', true],
    ]);
    await runtime.close();
  });

  it('a grace of 0 announces offline at once', async () => {
    const { runtime, alice } = await room({ config: { chat: { presence: { offline_grace_s: 0 } } } });
    (await runtime.subscribe('c1', 'bob', () => undefined)).close();
    expect(presence(alice.outputs)).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
    await runtime.close();
  });

  it('a member who leaves is gone: no offline frame, not in the next participant list, not online', async () => {
    const { runtime, clock, alice } = await room();
    await runtime.subscribe('c1', 'bob', () => undefined);
    await runtime.leave('c1', 'bob');
    clock.advance(60_000);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    const list = alice.outputs.filter((o) => o.type === 'participants').pop();
    expect(list).toMatchObject({ online: ['alice'] });
    expect((await runtime.getConversation('c1')).online).toEqual(['alice']);
    await runtime.close();
  });

  it('a member who leaves during the grace is gone without an offline frame', async () => {
    const { runtime, clock, alice } = await room();
    (await runtime.subscribe('c1', 'bob', () => undefined)).close();
    await runtime.leave('c1', 'bob');
    clock.advance(60_000);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
    expect((await runtime.getConversation('c1')).online).toEqual(['alice']);
    await runtime.close();
  });

  it('the participant list after a join names who is online; AI participants are never in it', async () => {
    const { runtime, alice } = await room();
    // An embedder may subscribe as an AI member (an external agent): presence is about humans only.
    await runtime.subscribe('c1', 'echo', () => undefined);
    await runtime.join('c1', { participant_id: 'carol', participant_type: 'human' });
    const list = alice.outputs.filter((o) => o.type === 'participants').pop();
    expect(list).toMatchObject({ online: ['alice'] });
    expect(presence(alice.outputs)).toEqual([]);
    await runtime.close();
  });

  it('stopping the runtime leaves no grace timer behind and announces nothing', async () => {
    const { runtime, clock, alice } = await room();
    (await runtime.subscribe('c1', 'bob', () => undefined)).close();
    await runtime.close();
    expect(clock.pendingTimers()).toBe(0);
    expect(presence(alice.outputs)).toEqual([['bob', true]]);
  });
});

/** Typing outputs only, as [participant_id, is_typing]. */
function typing(outputs: readonly ConversationOutput[]): Array<[string, boolean]> {
  return outputs.flatMap((o) => (o.type === 'typing' ? [[o.participant_id, o.is_typing] as [string, boolean]] : []));
}

describe('presence and typing', () => {
  it('a member going offline while typing stops typing first: the others are told, and the conversation forgets it', async () => {
    const { runtime, clock, alice } = await room({ config: { chat: { presence: { offline_grace_s: 5 } } } });
    const bob = await runtime.subscribe('c1', 'bob', () => undefined);
    runtime.setTyping('c1', 'bob', true);
    expect(typing(alice.outputs)).toEqual([['bob', true]]);
    bob.close();
    clock.advance(4_999);
    expect(typing(alice.outputs)).toEqual([['bob', true]]);
    clock.advance(1);
    expect(typing(alice.outputs)).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
    // The stop comes before the offline announcement.
    // (Each presence change also comes as a presence_batch output, for batch sockets: left out here.)
    const last = alice.outputs
      .filter((o) => o.type !== 'presence_batch')
      .slice(-2)
      .map((o) => o.type);
    expect(last).toEqual(['typing', 'presence']);
    // A new typing start is news again (the conversation no longer holds bob as typing).
    await runtime.subscribe('c1', 'bob', () => undefined);
    runtime.setTyping('c1', 'bob', true);
    expect(typing(alice.outputs)).toEqual([
      ['bob', true],
      ['bob', false],
      ['bob', true],
    ]);
    await runtime.close();
  });

  it('a member going offline who was not typing sends no typing frame', async () => {
    const { runtime, alice } = await room({ config: { chat: { presence: { offline_grace_s: 0 } } } });
    (await runtime.subscribe('c1', 'bob', () => undefined)).close();
    expect(presence(alice.outputs)).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
    expect(typing(alice.outputs)).toEqual([]);
    await runtime.close();
  });
});
