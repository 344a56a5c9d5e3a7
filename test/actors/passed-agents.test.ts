import { createChatRuntime } from '../../actors/create-chat-runtime';
import type { Agent } from '../../actors/agents/agent';
import type { ConversationOutput } from '../../actors/runtime-types';
import { isChatError, type ChatError } from '../../actors/errors';
import { MemoryStore } from '../../storage-providers/memory-store';

/**
 * The agents an embedder passes to createChatRuntime (docs/embedding.md): refused up front, naming the agent and
 * what is wrong, rather than one silently replacing another or failing every turn later with a TypeError.
 */
const config = { observability: { log_level: 'silent' as const } };

const agent = (id: string, displayName = id): Agent => ({
  id,
  displayName,
  async *respond() {
    yield { content: `${displayName} here`, final: true };
  },
});

async function refusal(agents: Iterable<Agent> | ReadonlyMap<string, Agent>): Promise<{ error: ChatError; storeOpened: boolean }> {
  const storage = new MemoryStore();
  const error = await createChatRuntime({ config, storage, agents }).then(
    () => {
      throw new Error('createChatRuntime accepted the agents');
    },
    (err: unknown) => err,
  );
  if (!isChatError(error)) throw error;
  return { error, storeOpened: storage.isOpen };
}

describe('createChatRuntime refuses agents it could never use as given', () => {
  test('two agents with one id: CONFIG_ERR_INVALID naming the id, before the store is opened', async () => {
    const { error, storeOpened } = await refusal([agent('helper', 'First'), agent('other'), agent('helper', 'Second')]);
    expect(error.code).toBe('CONFIG_ERR_INVALID');
    expect(error.details).toEqual({
      problems: [{ path: 'agents[2].id', message: 'id "helper" is also the id of agents[0]' }],
    });
    expect(error.message).toBe('agents[2].id: id "helper" is also the id of agents[0]');
    expect(storeOpened).toBe(false);
  });

  test('an agent without an id, a displayName or respond, or with a wantsTurn that is no function, each named', async () => {
    const { error } = await refusal([
      { displayName: 'No id', respond: agent('x').respond } as unknown as Agent,
      { id: 'nameless', respond: agent('x').respond } as unknown as Agent,
      { id: 'mute', displayName: 'Mute' } as unknown as Agent,
      { ...agent('picky'), wantsTurn: true } as unknown as Agent,
      undefined as unknown as Agent,
      // Its joins would be refused (a member's name follows the content rule's characters): refused at start instead.
      { ...agent('beeper'), displayName: 'Beep\u0007' },
      { ...agent('halved'), displayName: 'Half \ud800 pair' },
    ]);
    expect(error.code).toBe('CONFIG_ERR_INVALID');
    expect(error.details?.problems).toEqual([
      { path: 'agents[0].id', message: 'must be a string of 1 to 256 characters' },
      { path: 'agents[1].displayName', message: 'must be a string' },
      { path: 'agents[2].respond', message: 'must be a function (async *respond(turn, signal))' },
      { path: 'agents[3].wantsTurn', message: 'must be a function when given' },
      { path: 'agents[4]', message: 'must be an Agent object' },
      { path: 'agents[5].displayName', message: 'contains control characters (only \\n, \\r and \\t are allowed)' },
      { path: 'agents[6].displayName', message: 'is not well-formed Unicode (a lone surrogate)' },
    ]);
  });

  test('a Map entry whose key is not its agent’s id (AI participants name agents by id)', async () => {
    const { error } = await refusal(new Map([['helper', agent('assistant')]]));
    expect(error.code).toBe('CONFIG_ERR_INVALID');
    expect(error.details?.problems).toEqual([{ path: 'agents["helper"]', message: 'key differs from the agent’s id "assistant"' }]);
  });
});

describe('an agent whose respond does not return an async iterable', () => {
  test('the job fails with AGENT_ERR_FAILED saying what respond returned and what it must be', async () => {
    const promising = {
      id: 'promising',
      displayName: 'Promising',
      // The common slip: `async respond` (a Promise) instead of `async *respond` (an async generator).
      respond: async () => ({ content: 'not a stream', final: true }),
    } as unknown as Agent;
    const runtime = await createChatRuntime({ config, storage: new MemoryStore(), agents: [promising] });
    try {
      const c = await runtime.createConversation({
        created_by: 'alice',
        participants: [{ participant_id: 'promising', participant_type: 'ai' }],
      });
      const failed = new Promise<string>((resolve) => {
        void runtime.subscribe(c.conversation_id, 'alice', (o: ConversationOutput) => {
          if (o.type === 'message' && o.message.message_type === 'agent_job_failed')
            resolve(`${String(o.message.metadata.code)}: ${o.message.content}`);
        });
      });
      await runtime.post(c.conversation_id, { sender_id: 'alice', message_id: 'm1', content: 'hi' });
      expect(await failed).toBe(
        'AGENT_ERR_FAILED: Promising could not answer: respond() returned a Promise, not an async iterable (write it as an async generator, async *respond)',
      );
    } finally {
      await runtime.close();
    }
  });
});
