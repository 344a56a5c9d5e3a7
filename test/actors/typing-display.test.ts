import type { ConversationOutput } from '../../actors';
import { validateConfig, type ConfigInput } from '../../config';
import { makeRuntime, collector, settle } from './runtime-helpers';

// The defaults of chat.typing.stop_hold_ms and chat.typing.repeat_min_ms, which the tests below run with.
const { stop_hold_ms: TYPING_STOP_HOLD_MS, repeat_min_ms: TYPING_REPEAT_MIN_MS } = validateConfig({}).chat.typing;

/** What a subscriber was shown, in order: typing as 'bob:true', records as 'record:<message_type>:<sender>'. */
function shown(outputs: readonly ConversationOutput[]): string[] {
  return outputs.flatMap((o) => {
    if (o.type === 'typing') return [`${o.participant_id}:${o.is_typing}`];
    if (o.type === 'message') return [`record:${o.message.message_type}:${o.message.sender_id}`];
    return [];
  });
}

/** Alice and Bob (humans, no agents) in `c`; alice is subscribed and collects what she is shown. */
async function room(config?: ConfigInput) {
  const made = await makeRuntime({ agents: [], ...(config ? { config } : {}) });
  await made.runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  const alice = collector();
  await made.runtime.subscribe('c', 'alice', alice.listener);
  await made.runtime.subscribe('c', 'bob', () => undefined);
  const seen = () => shown(alice.outputs).filter((s) => !s.startsWith('record:join'));
  return { ...made, alice, seen };
}

describe('what the others are shown of a member typing (coalesced)', () => {
  it('type, pause, type within the hold: shown typing once, no flicker; the stop shows TYPING_STOP_HOLD_MS after the last', async () => {
    // Before, each toggle went out as it came: true, false, true, false, true, false.
    const { runtime, clock, seen } = await room();
    for (let i = 0; i < 6; i++) {
      runtime.setTyping('c', 'bob', i % 2 === 0);
      clock.advance(150);
    }
    expect(seen()).toEqual(['bob:true']);
    clock.advance(TYPING_STOP_HOLD_MS - 150 - 1);
    expect(seen()).toEqual(['bob:true']);
    clock.advance(1);
    expect(seen()).toEqual(['bob:true', 'bob:false']);
    await runtime.close();
  });

  it('a repeated start goes out again only TYPING_REPEAT_MIN_MS after the last one shown (it keeps the indicator alive)', async () => {
    const { runtime, clock, seen } = await room();
    runtime.setTyping('c', 'bob', true);
    clock.advance(TYPING_REPEAT_MIN_MS - 1);
    runtime.setTyping('c', 'bob', true);
    expect(seen()).toEqual(['bob:true']);
    clock.advance(1);
    runtime.setTyping('c', 'bob', true);
    expect(seen()).toEqual(['bob:true', 'bob:true']);
    await runtime.close();
  });

  it("the member's line ends its typing at once, a held stop included, before the line; nothing is sent after", async () => {
    const { runtime, clock, seen } = await room();
    // As the chat page sends it: the stop, then the line.
    runtime.setTyping('c', 'bob', true);
    runtime.setTyping('c', 'bob', false);
    await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'hi' });
    expect(seen()).toEqual(['bob:true', 'bob:false', 'record:text:bob']);
    clock.advance(TYPING_STOP_HOLD_MS);
    expect(seen()).toEqual(['bob:true', 'bob:false', 'record:text:bob']);
    // A client that posts without saying it stopped (an HTTP post): the stop still comes first. Before: never sent.
    clock.advance(TYPING_REPEAT_MIN_MS);
    runtime.setTyping('c', 'bob', true);
    await runtime.post('c', { sender_id: 'bob', message_id: 'b2', content: 'again' });
    expect(seen().slice(3)).toEqual(['bob:true', 'bob:false', 'record:text:bob']);
    // Another member's line does not end bob's typing.
    runtime.setTyping('c', 'bob', true);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'yes?' });
    expect(seen().slice(6)).toEqual(['bob:true', 'record:text:alice']);
    await runtime.close();
  });

  it("a member's leave ends its typing before the leave record (before: no stop was ever sent)", async () => {
    const { runtime, seen } = await room();
    runtime.setTyping('c', 'bob', true);
    await runtime.leave('c', 'bob');
    // (The mode change the leave causes follows.)
    expect(seen().slice(0, 3)).toEqual(['bob:true', 'bob:false', 'record:leave:bob']);
    await runtime.close();
  });

  it('a member going offline with its stop held is shown stopped at once, before the offline presence', async () => {
    const { runtime, clock } = await makeRuntime({ agents: [], config: { chat: { presence: { offline_grace_s: 0 } } } });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const watcher = collector();
    await runtime.subscribe('c', 'alice', watcher.listener);
    const bob = await runtime.subscribe('c', 'bob', () => undefined);
    runtime.setTyping('c', 'bob', true);
    runtime.setTyping('c', 'bob', false);
    bob.close();
    const last = watcher.outputs.slice(-2);
    expect(last).toEqual([
      { type: 'typing', participant_id: 'bob', is_typing: false },
      { type: 'presence', participant_id: 'bob', online: false },
    ]);
    clock.advance(TYPING_STOP_HOLD_MS);
    expect(watcher.outputs.filter((o) => o.type === 'typing')).toHaveLength(2);
    await runtime.close();
  });

  it('single mode: the stop ends the typing window at once for the agents, though the others see it later', async () => {
    const { runtime, clock } = await makeRuntime();
    await runtime.createConversation({
      conversation_id: 's',
      created_by: 'alice',
      participants: [{ participant_id: 'echo', participant_type: 'ai' }],
    });
    // The agent's own subscription (as an embedded bot has) is the other member that is shown alice typing.
    const echoSide = collector();
    await runtime.subscribe('s', 'echo', echoSide.listener);
    // She sends a line while typing (it waits: she is typing), goes on typing, then pauses.
    runtime.setTyping('s', 'alice', true);
    await runtime.post('s', { sender_id: 'alice', message_id: 'a1', content: 'part one' });
    runtime.setTyping('s', 'alice', true);
    runtime.setTyping('s', 'alice', false);
    await settle();
    // Answered with no clock moving: nothing waited for the hold, which is still running for what is shown.
    expect(echoSide.messages.filter((m) => m.sender_id === 'echo' && m.message_type === 'text').map((m) => m.content)).toEqual([
      'echo: part one',
    ]);
    const aliceTyping = () => shown(echoSide.outputs).filter((s) => s.startsWith('alice:'));
    // Her line ended her typing (false), she typed again (true); the pause is still held.
    expect(aliceTyping()).toEqual(['alice:true', 'alice:false', 'alice:true']);
    clock.advance(TYPING_STOP_HOLD_MS);
    expect(aliceTyping()).toEqual(['alice:true', 'alice:false', 'alice:true', 'alice:false']);
    await runtime.close();
  });

  it('a held stop leaves no timer behind when the conversation stops', async () => {
    const { runtime, clock, seen } = await room();
    runtime.setTyping('c', 'bob', true);
    runtime.setTyping('c', 'bob', false);
    await runtime.close();
    expect(clock.pendingTimers()).toBe(0);
    expect(seen()).toEqual(['bob:true']);
  });
});

describe('chat.typing.stop_hold_ms and chat.typing.repeat_min_ms set how typing is coalesced', () => {
  // The same toggles under the defaults, then under other values: what alice is shown differs only by the config.
  async function typeAndPause(config?: ConfigInput) {
    const { runtime, clock, seen } = await room(config);
    runtime.setTyping('c', 'bob', true);
    clock.advance(500);
    runtime.setTyping('c', 'bob', true);
    runtime.setTyping('c', 'bob', false);
    clock.advance(400);
    const at900 = seen();
    clock.advance(600);
    const at1500 = seen();
    await runtime.close();
    return { at900, at1500 };
  }

  it('the defaults: the repeat at 500 ms is dropped (under 2000), the stop at 500 ms is held 1000 ms', async () => {
    expect([TYPING_STOP_HOLD_MS, TYPING_REPEAT_MIN_MS]).toEqual([1000, 2000]);
    expect(await typeAndPause()).toEqual({ at900: ['bob:true'], at1500: ['bob:true', 'bob:false'] });
  });

  it('a hold of 300 ms shows the stop at 800 ms, and a repeat minimum of 500 ms relays the repeat', async () => {
    expect(await typeAndPause({ chat: { typing: { stop_hold_ms: 300, repeat_min_ms: 500 } } })).toEqual({
      at900: ['bob:true', 'bob:true', 'bob:false'],
      at1500: ['bob:true', 'bob:true', 'bob:false'],
    });
  });

  it('0 and 0: every start is relayed and a stop goes out at once, with no timer left', async () => {
    const { runtime, clock, seen } = await room({ chat: { typing: { stop_hold_ms: 0, repeat_min_ms: 0 } } });
    runtime.setTyping('c', 'bob', true);
    runtime.setTyping('c', 'bob', true);
    const timers = clock.pendingTimers();
    runtime.setTyping('c', 'bob', false);
    expect(seen()).toEqual(['bob:true', 'bob:true', 'bob:false']);
    expect(clock.pendingTimers()).toBe(timers);
    // A start after the stop is a new start, as ever.
    runtime.setTyping('c', 'bob', true);
    expect(seen()).toEqual(['bob:true', 'bob:true', 'bob:false', 'bob:true']);
    await runtime.close();
  });

  it('a 5 s hold keeps a paused typer shown typing 4 s after its stop; a start then cancels the stop, a later stop is held 5 s', async () => {
    const { runtime, clock, seen } = await room({ chat: { typing: { stop_hold_ms: 5000 } } });
    runtime.setTyping('c', 'bob', true);
    runtime.setTyping('c', 'bob', false);
    clock.advance(4000);
    expect(seen()).toEqual(['bob:true']);
    runtime.setTyping('c', 'bob', true);
    // 4000 ms since the first start: the default repeat minimum (2000) lets this one through as a repeat.
    expect(seen()).toEqual(['bob:true', 'bob:true']);
    runtime.setTyping('c', 'bob', false);
    clock.advance(4999);
    expect(seen()).toEqual(['bob:true', 'bob:true']);
    clock.advance(1);
    expect(seen()).toEqual(['bob:true', 'bob:true', 'bob:false']);
    await runtime.close();
  });
});
