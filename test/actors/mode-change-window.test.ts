import { createEchoAgent, type ManualClock } from '../../actors';
import { makeRuntime, collector, settle } from './runtime-helpers';

// The windows of the default config (chat.input): multi 2000 ms, single-mode typing 100 ms.
const MULTI_MS = 2000;
const TYPING_MS = 100;
type Member = { participant_id: string; participant_type: 'human' | 'ai' };
const echoMember: Member = { participant_id: 'echo', participant_type: 'ai' };
const human = (id: string): Member => ({ participant_id: id, participant_type: 'human' });

/** Alice (creator) with `members` (default: the echo agent and Bob, so multi mode); `answers` are what she sees an agent say. */
async function conversationOf(members: Member[] = [echoMember, human('bob')], agents = [createEchoAgent()]) {
  const made = await makeRuntime({ agents });
  await made.runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: members });
  const alice = collector();
  await made.runtime.subscribe('c', 'alice', alice.listener);
  const answers = (sender = 'echo') =>
    alice.messages.filter((m) => m.sender_id === sender && m.message_type === 'text').map((m) => m.content);
  const mode = async () => (await made.runtime.getConversation('c')).mode;
  return { ...made, alice, answers, mode };
}

/** Nothing new is answered for `ms - 1` ms from now; at `ms` the answers are `then`. */
async function expectAnswersAt(clock: ManualClock, answers: () => string[], ms: number, then: string[]) {
  const before = answers();
  clock.advance(ms - 1);
  await settle();
  expect(answers()).toEqual(before);
  clock.advance(1);
  await settle();
  expect(answers()).toEqual(then);
}

describe('input window across mode changes', () => {
  it('multi -> single: the next human message is answered at once, without the multi window', async () => {
    const { runtime, answers, mode } = await conversationOf();
    expect(await mode()).toBe('multi');
    await runtime.leave('c', 'bob');
    expect(await mode()).toBe('single');
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'alone now' });
    await settle();
    expect(answers()).toEqual(['echo: alone now']);
    await runtime.close();
  });

  it('multi -> single while a burst waits: the wait ends at the leave and the agent answers the burst then', async () => {
    const { runtime, clock, answers, alice } = await conversationOf();
    await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from bob' });
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'from alice' });
    clock.advance(500);
    await settle();
    expect(answers()).toEqual([]);
    await runtime.leave('c', 'bob');
    await settle();
    // No time passes: the burst collected so far (Bob's line included) is answered with the leave.
    expect(answers()).toEqual(['echo: from bob\nfrom alice']);
    const types = alice.messages.map((m) => m.message_type);
    expect(types.indexOf('mode_change')).toBeLessThan(types.indexOf('agent_job_started'));
    // And only once: the multi window's old deadline dispatches nothing more.
    clock.advance(MULTI_MS);
    await settle();
    expect(answers()).toHaveLength(1);
    await runtime.close();
  });

  it('multi -> single while a burst waits and the remaining human is reported typing: the single typing window applies from the leave', async () => {
    const { runtime, clock, answers } = await conversationOf();
    runtime.setTyping('c', 'alice', true);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'still typing' });
    clock.advance(500);
    await runtime.leave('c', 'bob');
    await expectAnswersAt(clock, answers, TYPING_MS, ['echo: still typing']);
    await runtime.close();
  });

  it('multi -> single by an agent leaving (1 human + 2 AIs -> 1 + 1): the remaining agent answers the waiting burst at once', async () => {
    const echo2: Member = { participant_id: 'echo2', participant_type: 'ai' };
    const { runtime, answers, mode } = await conversationOf([echoMember, echo2], [createEchoAgent(), createEchoAgent({ id: 'echo2' })]);
    expect(await mode()).toBe('multi');
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'hello' });
    await settle();
    expect(answers()).toEqual([]);
    await runtime.leave('c', 'echo2');
    await settle();
    expect(await mode()).toBe('single');
    expect(answers()).toEqual(['echo: hello']);
    expect(answers('echo2')).toEqual([]);
    await runtime.close();
  });

  it('a leave that keeps multi mode leaves the running window alone', async () => {
    const { runtime, clock, answers, mode } = await conversationOf([echoMember, human('bob'), human('carol')]);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'three of us' });
    clock.advance(500);
    await runtime.leave('c', 'carol');
    expect(await mode()).toBe('multi');
    await expectAnswersAt(clock, answers, MULTI_MS - 500, ['echo: three of us']);
    await runtime.close();
  });

  it('single -> multi while a typing-window wait is pending: the wait keeps its deadline; the next human message waits the multi window', async () => {
    const { runtime, clock, answers, mode } = await conversationOf([echoMember]);
    runtime.setTyping('c', 'alice', true);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'before bob' });
    clock.advance(50);
    await runtime.join('c', human('bob'));
    expect(await mode()).toBe('multi');
    await expectAnswersAt(clock, answers, TYPING_MS - 50, ['echo: before bob']);
    await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'bob here' });
    await expectAnswersAt(clock, answers, MULTI_MS, ['echo: before bob', 'echo: bob here']);
    await runtime.close();
  });
});
