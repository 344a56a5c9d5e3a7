import { createActor, initialTransition, transition } from 'xstate';
import { createManualClock } from '../../actors/clock';
import { conversationMachine } from '../../actors/conversation-machine';
import type { ConversationInput } from '../../actors/conversation-context';
import type { ConversationEvent } from '../../actors/conversation-events';
import { policy } from './machine-fixtures';

const input: ConversationInput = { conversationId: 'c', settings: {}, policy, lastSequenceId: 0, participants: [], recent: [] };
const human = (id: string) => ({ participant_id: id, participant_type: 'human' as const, display_name: id, role: 'member' as const });
const ai = (id: string) => ({
  participant_id: id,
  participant_type: 'ai' as const,
  display_name: id,
  role: 'member' as const,
  agent_id: id,
});

/** Applies events purely, returning the last snapshot and the names of the effects of the last event. */
function run(events: ConversationEvent[]) {
  let [snapshot] = initialTransition(conversationMachine, input);
  let actions: string[] = [];
  for (const e of events) {
    const [next, acts] = transition(conversationMachine, snapshot, e);
    snapshot = next;
    actions = acts.map((a) => a.type);
  }
  return { snapshot, context: snapshot.context, actions };
}
const join = (p: ReturnType<typeof human> | ReturnType<typeof ai>, requestId = 1): ConversationEvent => ({
  type: 'JOIN',
  requestId,
  receivedAt: 0,
  participant: p,
});
const post = (sender: string, id: string, content = id): ConversationEvent => ({
  type: 'POST',
  requestId: 9,
  receivedAt: 1000,
  sender_id: sender,
  message_id: id,
  content,
});

describe('conversation machine (pure transitions)', () => {
  it('sequences joins and posts 1, 2, 3 with frozen records', () => {
    const { context, actions } = run([join(human('alice')), join(ai('bot')), post('alice', 'm1', 'hi')]);
    expect(context.lastSequenceId).toBe(3);
    expect(context.emitted).toHaveLength(1);
    expect(context.emitted[0]).toMatchObject({
      sequence_id: 3,
      sender_id: 'alice',
      sender_type: 'human',
      message_type: 'text',
      content: 'hi',
    });
    expect(Object.isFrozen(context.emitted[0])).toBe(true);
    expect(Object.isFrozen(context.emitted[0].metadata)).toBe(true);
    // delivery happens before persistence, and single mode dispatches at once
    expect(actions.indexOf('deliver')).toBeLessThan(actions.indexOf('persist'));
    expect(actions).toContain('dispatchToAgents');
    expect(context.turns.map((t) => t.agentId)).toEqual(['bot']);
  });

  it('answers a retried (sender, message_id) with the original sequence id and emits nothing', () => {
    const { context, actions } = run([join(human('alice')), post('alice', 'm1'), post('alice', 'm1')]);
    expect(context.outcome).toEqual({ kind: 'duplicate', sequenceId: 2 });
    expect(context.lastSequenceId).toBe(2);
    expect(actions).not.toContain('deliver');
  });

  it('rejects a post from a non-member with CHAT_ERR_NOT_PARTICIPANT', () => {
    const { context } = run([join(human('alice')), post('mallory', 'x')]);
    expect(context.outcome).toMatchObject({ kind: 'rejected', code: 'CHAT_ERR_NOT_PARTICIPANT' });
    expect(context.lastSequenceId).toBe(1);
  });

  it('enforces max_participants with CHAT_ERR_PARTICIPANT_LIMIT', () => {
    const { context } = run([join(human('a')), join(human('b')), join(human('c')), join(human('d'))]);
    expect(context.outcome).toMatchObject({ kind: 'rejected', code: 'CHAT_ERR_PARTICIPANT_LIMIT' });
    expect(context.participants.size).toBe(3);
  });

  it('emits a sequenced mode_change when the second human joins and when they leave', () => {
    const joined = run([join(human('alice')), join(ai('bot')), join(human('bob'))]).context;
    expect(joined.mode).toBe('multi');
    expect(joined.emitted.map((m) => [m.sequence_id, m.message_type])).toEqual([
      [3, 'join'],
      [4, 'mode_change'],
    ]);
    const left = run([
      join(human('alice')),
      join(ai('bot')),
      join(human('bob')),
      { type: 'LEAVE', receivedAt: 5, participantId: 'bob' },
    ]).context;
    expect(left.mode).toBe('single');
    expect(left.emitted.map((m) => m.message_type)).toEqual(['leave', 'mode_change']);
  });

  it('in multi mode holds human messages for the input window and answers the whole burst', () => {
    const events = [join(human('alice')), join(ai('bot')), join(human('bob')), post('alice', 'a1'), post('bob', 'b1')];
    const { snapshot, actions } = run(events);
    expect(snapshot.value).toEqual('collecting');
    expect(actions).not.toContain('dispatchToAgents');
    expect(snapshot.context.burst.map((m) => m.content)).toEqual(['a1', 'b1']);
  });

  it('a leave down to single mode ends a multi-mode wait in its own step: the burst goes to the agents after the leave is delivered', () => {
    const leave: ConversationEvent = { type: 'LEAVE', receivedAt: 5, participantId: 'bob' };
    const { snapshot, context, actions } = run([
      join(human('alice')),
      join(ai('bot')),
      join(human('bob')),
      post('alice', 'a1'),
      post('bob', 'b1'),
      leave,
    ]);
    expect(snapshot.value).toEqual('idle');
    expect(context.mode).toBe('single');
    expect(context.emitted.map((m) => m.message_type)).toEqual(['leave', 'mode_change']);
    expect(actions.indexOf('persist')).toBeLessThan(actions.indexOf('dispatchToAgents'));
    expect(context.turns.map((t) => [t.participantId, t.burst.map((m) => m.message_id)])).toEqual([['bot', ['a1', 'b1']]]);
    expect(context.burst).toEqual([]);
  });

  it('a machine started with a burst still waiting (restarted after a crash) collects it again and answers it after a fresh window', () => {
    const before = run([join(human('alice')), join(ai('bot')), join(human('bob')), post('alice', 'a1'), post('bob', 'b1')]).context;
    const restarted: ConversationInput = {
      ...input,
      lastSequenceId: before.lastSequenceId,
      participants: [...before.participants.values()],
      recent: before.recent.toArray(),
      burst: before.burst,
    };
    const clock = createManualClock();
    const actor = createActor(conversationMachine, { input: restarted, clock }).start();
    expect(actor.getSnapshot().value).toEqual('collecting');
    clock.advance(policy.multiModeWindowMs);
    expect(actor.getSnapshot().value).toEqual('idle');
    expect(actor.getSnapshot().context.turns.map((t) => [t.participantId, t.burst.map((m) => m.message_id)])).toEqual([
      ['bot', ['a1', 'b1']],
    ]);
    actor.stop();
    // Without a burst (a fresh or cold-started conversation) it starts idle.
    expect(initialTransition(conversationMachine, { ...restarted, burst: [] })[0].value).toEqual('idle');
  });

  it('CLOSE ends the machine from any state: a waiting window does not fire and later events are not taken', () => {
    const clock = createManualClock();
    const actor = createActor(conversationMachine, { input, clock }).start();
    for (const e of [join(human('alice')), join(ai('bot')), join(human('bob')), post('alice', 'a1')]) actor.send(e);
    expect(actor.getSnapshot().value).toEqual('collecting');
    actor.send({ type: 'CLOSE' });
    const closed = actor.getSnapshot();
    expect([closed.status, closed.value]).toEqual(['done', 'closed']);
    clock.advance(policy.multiModeWindowMs);
    actor.send(post('bob', 'b1'));
    expect(actor.getSnapshot()).toBe(closed);
  });

  it('in single mode waits only while the human is reported typing, and dispatches when typing stops', () => {
    const typing: ConversationEvent = { type: 'TYPING', participantId: 'alice', isTyping: true };
    const held = run([join(human('alice')), join(ai('bot')), typing, post('alice', 'm1')]);
    expect(held.snapshot.value).toEqual('collecting');
    const released = run([
      join(human('alice')),
      join(ai('bot')),
      typing,
      post('alice', 'm1'),
      { type: 'TYPING', participantId: 'alice', isTyping: false },
    ]);
    expect(released.snapshot.value).toEqual('idle');
    expect(released.context.turns.map((t) => t.burst.map((m) => m.content))).toEqual([['m1']]);
  });

  it('streams agent output as sequenced ai records, and a final piece offers the answer to other agents within the chain limit', () => {
    const base = [join(human('alice')), join(ai('a1')), join(ai('a2')), post('alice', 'q')];
    const out = (participantId: string, part: number, final: boolean, chainDepth = 0): ConversationEvent => ({
      type: 'AGENT_OUTPUT',
      receivedAt: 2000,
      jobId: `j-${participantId}`,
      participantId,
      output: { content: `${participantId}-${part}`, final },
      part,
      chainDepth,
      triggerSequenceId: 4,
      triggerMessageId: 'q',
    });
    const partial = run([...base, out('a1', 1, false)]).context;
    expect(partial.emitted[0]).toMatchObject({
      sender_type: 'ai',
      metadata: { part: 1, complete: false, chain_depth: 1, in_reply_to: 'q' },
    });
    expect(partial.turns).toEqual([]);
    const done = run([...base, out('a1', 1, false), out('a1', 2, true)]).context;
    expect(done.lastAiAnswer.map((m) => m.content)).toEqual(['a1-1', 'a1-2']);
    expect(done.turns.map((t) => [t.participantId, t.chainDepth])).toEqual([['a2', 1]]);
    // a2's answer is at depth 2 > chainLimit 1: nobody is offered it, so agents cannot loop
    const chained = run([...base, out('a1', 1, true), out('a2', 1, true, 1)]).context;
    expect(chained.turns).toEqual([]);
  });

  it('never offers an agent its own output', () => {
    const { context } = run([
      join(human('alice')),
      join(ai('bot')),
      { type: 'POST', requestId: 1, receivedAt: 1, sender_id: 'bot', message_id: 'x', content: 'hi' },
    ]);
    expect(context.turns).toEqual([]);
  });

  it('builds agent context from the last N human messages only', () => {
    const { context } = run([join(human('alice')), post('alice', '1'), post('alice', '2'), post('alice', '3')]);
    expect(context.humanWindow.map((m) => m.content)).toEqual(['2', '3']);
    expect(context.recent.toArray().map((m) => m.sequence_id)).toEqual([1, 2, 3, 4]);
  });

  it('redaction replaces cached content and emits a redaction record', () => {
    const { context } = run([
      join(human('alice')),
      post('alice', 'm1', 'secret'),
      { type: 'REDACT', receivedAt: 3, sequenceIds: [2], requestedBy: 'alice', marker: '[redacted]' },
    ]);
    expect(context.recent.toArray().find((m) => m.sequence_id === 2)).toMatchObject({
      content: '[redacted]',
      metadata: { redacted: true },
    });
    expect(context.emitted[0]).toMatchObject({ message_type: 'redaction', metadata: { redacted_sequence_ids: [2] } });
  });

  it("names a redaction record after the lowest id it names, or keeps an older journal's id when replayed", () => {
    const { context } = run([
      join(human('alice')),
      post('alice', 'm1', 'one'),
      post('alice', 'm2', 'two'),
      { type: 'REDACT', receivedAt: 4, sequenceIds: [3, 2], requestedBy: 'alice', marker: '[redacted]' },
    ]);
    expect(context.emitted[0]).toMatchObject({ sequence_id: 4, message_id: 'redaction-of-2', sender_id: 'system' });
    const replayed = run([
      join(human('alice')),
      post('alice', 'm1', 'one'),
      { type: 'REDACT', receivedAt: 3, sequenceIds: [2], requestedBy: 'alice', marker: '[redacted]', recordId: 'redaction-3' },
    ]);
    expect(replayed.context.emitted[0]).toMatchObject({ sequence_id: 3, message_id: 'redaction-3' });
  });

  it('sequences no second record for ids a recent redaction record names (two announcements held over a restart)', () => {
    const redactEvent = (ids: number[]): ConversationEvent => ({
      type: 'REDACT',
      receivedAt: 5,
      sequenceIds: ids,
      requestedBy: 'alice',
      marker: '[redacted]',
    });
    const again = run([join(human('alice')), post('alice', 'm1'), post('alice', 'm2'), redactEvent([2, 3]), redactEvent([3])]);
    expect(again.context.emitted).toEqual([]);
    expect(again.context.lastSequenceId).toBe(4);
    expect(again.context.outcome).toEqual({ kind: 'duplicate', sequenceId: 4 });
    // Only what no record names yet is announced: redaction-of-4 would not clash with redaction-of-2.
    const more = run([join(human('alice')), post('alice', 'm1'), post('alice', 'm2'), redactEvent([2]), redactEvent([2, 3])]);
    expect(more.context.emitted[0]).toMatchObject({ message_id: 'redaction-of-3', metadata: { redacted_sequence_ids: [3] } });
  });

  it('sequences no second edit record for an edit a recent record announced already', () => {
    const editEvent: ConversationEvent = {
      type: 'EDIT',
      receivedAt: 5,
      sequenceId: 2,
      messageId: 'm1',
      senderId: 'alice',
      content: 'new',
      editedAt: '2026-01-01T00:00:00.000Z',
      editCount: 1,
    } as ConversationEvent;
    const { context } = run([join(human('alice')), post('alice', 'm1'), editEvent, { ...editEvent, requestId: 7 } as ConversationEvent]);
    expect(context.emitted).toEqual([]);
    expect(context.lastSequenceId).toBe(3);
    expect(context.recent.toArray().filter((m) => m.message_id === 'edit-2-1')).toHaveLength(1);
  });
});
