/**
 * The name rule for an AI a member who is not the owner adds (docs/security.md "Adding and removing members") is
 * judged in runtime.join before the JOIN step, against the member table. A caller who is not a member yet when it
 * asks, whose own join is already on its way to the step, must not slip past it: the step would see it a member.
 */
import { makeRuntime } from './runtime-helpers';

test('an add sent alongside the adder’s own join is refused, not accepted under a name of its choosing', async () => {
  const { runtime } = await makeRuntime();
  await runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: [{ participant_id: 'alice', participant_type: 'human', display_name: 'Alice', role: 'owner' }],
  });
  // Posts past the sequence lease's room: the joins below wait behind them for the reservation to grow.
  const posts = Array.from({ length: 48 }, (_, i) => runtime.post('c1', { sender_id: 'alice', message_id: `p${i}`, content: `${i}` }));
  const joined = runtime.join('c1', { participant_id: 'carol', participant_type: 'human', display_name: 'Carol' });
  const added = runtime.join('c1', { participant_id: 'echo', participant_type: 'ai', display_name: 'Alice' }, { addedBy: 'carol' });
  await Promise.all(posts);
  await joined;
  await expect(added).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT' });
  const conv = await runtime.getConversation('c1');
  expect(conv.participants.find((p) => p.participant_id === 'echo')).toBeUndefined();
  await runtime.close();
});
