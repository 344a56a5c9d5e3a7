/**
 * Who may change someone else's membership (actors/membership-changes.ts), decided in the machine's own step:
 * pure transitions, including the input window's state, whose LEAVE transitions are taken before the active
 * state's (a removal checked only there was accepted by a leave that ended the window).
 */
import { initialTransition, transition } from 'xstate';
import type { ConversationInput } from '../../actors/conversation-context';
import type { ConversationEvent } from '../../actors/conversation-events';
import { conversationMachine } from '../../actors/conversation-machine';
import { policy } from './machine-fixtures';

const input: ConversationInput = {
  conversationId: 'c',
  settings: {},
  policy: { ...policy, maxParticipants: 10 },
  lastSequenceId: 0,
  participants: [],
  recent: [],
};
const member = (id: string, role: 'owner' | 'member' = 'member') =>
  ({ participant_id: id, participant_type: 'human', display_name: id, role }) as const;
const bot = { participant_id: 'bot', participant_type: 'ai', display_name: 'bot', role: 'member', agent_id: 'bot' } as const;

function run(events: ConversationEvent[]) {
  let [snapshot] = initialTransition(conversationMachine, input);
  for (const e of events) [snapshot] = transition(conversationMachine, snapshot, e);
  return snapshot;
}
const join = (participant: ConversationEvent & { type: 'JOIN' } extends { participant: infer P } ? P : never, addedBy?: string) =>
  ({ type: 'JOIN', requestId: 1, receivedAt: 0, participant, ...(addedBy ? { addedBy } : {}) }) as ConversationEvent;
const leave = (participantId: string, removedBy?: string) =>
  ({ type: 'LEAVE', requestId: 2, receivedAt: 10, participantId, ...(removedBy ? { removedBy } : {}) }) as ConversationEvent;
const room = [join(member('alice', 'owner')), join(member('bob')), join(bot)];

describe('adding and removing others in the machine step', () => {
  test('a member who is not the owner adds an AI only under its agent id; the owner under any id', () => {
    const ai = (id: string, agent: string) =>
      ({ participant_id: id, participant_type: 'ai', display_name: id, role: 'member', agent_id: agent }) as const;
    const squat = run([...room, join(ai('dave', 'bot'), 'bob')]).context;
    expect(squat.outcome).toMatchObject({ kind: 'rejected', code: 'CHAT_ERR_FORBIDDEN' });
    expect(squat.participants.has('dave')).toBe(false);
    expect(squat.emitted).toEqual([]);
    const itself = run([...room, join(ai('helper', 'helper'), 'bob')]).context;
    expect(itself.emitted[0]).toMatchObject({ message_type: 'join', sender_id: 'helper', metadata: { added_by: 'bob' } });
    const byOwner = run([...room, join(ai('helper-2', 'bot'), 'alice')]).context;
    expect(byOwner.participants.get('helper-2')).toMatchObject({ agent_id: 'bot', participant_type: 'ai' });
  });

  test('a member adds: the join record says added_by; a non-member adding is refused and nothing is written', () => {
    const added = run([...room, join(member('carol'), 'bob')]).context;
    expect(added.emitted[0]).toMatchObject({ message_type: 'join', sender_id: 'carol', metadata: { added_by: 'bob' } });
    const refused = run([...room, join(member('carol'), 'mallory')]).context;
    expect(refused.outcome).toMatchObject({ kind: 'rejected', code: 'CHAT_ERR_NOT_PARTICIPANT' });
    expect(refused.emitted).toEqual([]);
    expect(refused.participants.has('carol')).toBe(false);
  });

  test('only the owner removes another; the leave record says removed_by; an unknown target is PARTICIPANT_NOT_FOUND', () => {
    const removed = run([...room, leave('bob', 'alice')]).context;
    expect(removed.emitted[0]).toMatchObject({ message_type: 'leave', sender_id: 'bob', metadata: { removed_by: 'alice' } });
    expect(removed.participants.has('bob')).toBe(false);
    expect(run([...room, leave('alice', 'bob')]).context.outcome).toMatchObject({ kind: 'rejected', code: 'CHAT_ERR_FORBIDDEN' });
    expect(run([...room, leave('bob', 'mallory')]).context.outcome).toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT' });
    expect(run([...room, leave('nobody', 'alice')]).context.outcome).toMatchObject({ code: 'CHAT_ERR_PARTICIPANT_NOT_FOUND' });
    const self = run([...room, leave('bob', 'bob')]).context;
    expect(self.participants.has('bob')).toBe(false);
  });

  test('while the multi-mode window collects, a non-owner removing the owner (a leave that would end the window) is refused', () => {
    const post: ConversationEvent = { type: 'POST', requestId: 3, receivedAt: 5, sender_id: 'bob', message_id: 'b1', content: 'hi' };
    const collecting = run([...room, post]);
    expect(collecting.matches('collecting')).toBe(true);
    const after = run([...room, post, leave('alice', 'bob')]);
    expect(after.context.outcome).toMatchObject({ kind: 'rejected', code: 'CHAT_ERR_FORBIDDEN' });
    expect(after.context.participants.has('alice')).toBe(true);
    expect(after.matches('collecting')).toBe(true);
    // The owner's removal of bob in the window is taken (and ends it: single mode, nobody typing).
    const taken = run([...room, post, leave('bob', 'alice')]);
    expect(taken.context.participants.has('bob')).toBe(false);
    expect(taken.context.emitted[0]).toMatchObject({ message_type: 'leave', metadata: { removed_by: 'alice' } });
  });
});
