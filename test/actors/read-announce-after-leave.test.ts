import type { ConversationOutput } from '../../actors';
import { collector, makeRuntime } from './runtime-helpers';

/**
 * A raise waiting for its announce interval belongs to the membership that marked it. Found by the random gateway
 * sessions (seed 1222691619): a member's raise to 6, held by the interval, was announced after the member left and
 * joined again (its join record 8), so every socket was told its position went down from 8 to 6.
 */

/** What alice's connection was told of bob's position, `read` frames and `read_batch` entries alike, in order. */
function bobsPositions(outputs: readonly ConversationOutput[]): string[] {
  return outputs.flatMap((o) =>
    o.type === 'read' && o.participant_id === 'bob'
      ? [`read ${o.sequence_id}`]
      : o.type === 'read_batch' && o.positions.bob !== undefined
        ? [`batch ${o.positions.bob}`]
        : [],
  );
}

test("a leave drops the leaver's raise still waiting for its interval: nothing announces it after a re-join", async () => {
  const { runtime, clock } = await makeRuntime({ config: { chat: { read_positions: { announce_interval_ms: 1000 } } } });
  await runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  for (let i = 1; i <= 4; i++) await runtime.post('c1', { sender_id: 'alice', message_id: `a${i}`, content: `line ${i}` });
  const alice = collector();
  await runtime.subscribe('c1', 'alice', alice.listener);

  await runtime.markRead('c1', 'bob', 5);
  clock.advance(100);
  // Within the interval: held for its end.
  await runtime.markRead('c1', 'bob', 6);
  await runtime.leave('c1', 'bob');
  const rejoined = await runtime.join('c1', { participant_id: 'bob', participant_type: 'human' });
  expect(await runtime.markRead('c1', 'bob', 0)).toBe(rejoined.joined_at_sequence);
  clock.advance(1000);

  expect(bobsPositions(alice.outputs)).toEqual(['read 5', 'batch 5']);
  await runtime.close();
});
