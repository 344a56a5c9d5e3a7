/**
 * chat.context.human_messages, set through the runtime's config: how many human messages an agent's turn carries
 * as context (NLWeb's `prev`; the machine tests set the policy directly).
 */
import type { Agent, AgentTurn } from '../../actors';
import { makeRuntime, settle } from './runtime-helpers';

async function contextOfFourthTurn(humanMessages: number): Promise<string[]> {
  const turns: AgentTurn[] = [];
  const agent: Agent = {
    id: 'bot',
    displayName: 'bot',
    wantsTurn: (m) => m.sender_type === 'human',
    async *respond(turn) {
      turns.push(turn);
      yield { content: 'ok', final: true };
    },
  };
  const { runtime } = await makeRuntime({ config: { chat: { context: { human_messages: humanMessages } } }, agents: [agent] });
  try {
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bot', participant_type: 'ai' }],
    });
    for (const n of [1, 2, 3, 4]) {
      await runtime.post('c', { sender_id: 'alice', message_id: `m${n}`, content: `q${n}` });
      await settle();
    }
    return turns[3]!.recentHumanMessages.map((m) => m.content);
  } finally {
    await runtime.close();
  }
}

describe('chat.context.human_messages from config', () => {
  it('bounds the human messages each turn carries', async () => {
    // The window ends with the message being answered.
    expect(await contextOfFourthTurn(2)).toEqual(['q3', 'q4']);
    expect(await contextOfFourthTurn(5)).toEqual(['q1', 'q2', 'q3', 'q4']);
  });
});
