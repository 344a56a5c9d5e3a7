/**
 * chat.agents.chain_limit, set through the runtime's config (the machine tests set the policy directly): how many
 * agent-to-agent hops follow a human message, with two agents that answer AI messages.
 */
import type { Agent } from '../../actors';
import { collector, makeRuntime, settle } from './runtime-helpers';

/** Answers every turn offered to it, humans and other agents alike. */
function answeringAgent(id: string): Agent {
  return {
    id,
    displayName: id,
    async *respond(turn) {
      yield { content: `${id} re ${turn.trigger.sender_id}`, final: true };
    },
  };
}

async function answersAfterOneHumanMessage(chainLimit: number): Promise<string[]> {
  const { runtime, clock } = await makeRuntime({
    config: { chat: { agents: { chain_limit: chainLimit } } },
    agents: [answeringAgent('a'), answeringAgent('b')],
  });
  try {
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [
        { participant_id: 'a', participant_type: 'ai', agent_id: 'a' },
        { participant_id: 'b', participant_type: 'ai', agent_id: 'b' },
      ],
      autoJoinAgents: false,
    });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hello' });
    // Two AI participants make the conversation multi: the agents answer once the input window has passed.
    clock.advance(2000);
    await settle(60);
    return alice.messages.filter((m) => m.sender_type === 'ai' && m.message_type === 'text').map((m) => m.content);
  } finally {
    await runtime.close();
  }
}

describe('chat.agents.chain_limit from config', () => {
  it('0: agents answer the human only; each further hop adds one answer per agent', async () => {
    const zero = await answersAfterOneHumanMessage(0);
    expect([...zero].sort()).toEqual(['a re alice', 'b re alice']);
    const one = await answersAfterOneHumanMessage(1);
    expect([...one].sort()).toEqual(['a re alice', 'a re b', 'b re a', 'b re alice']);
    expect(await answersAfterOneHumanMessage(2)).toHaveLength(6);
  });
});
