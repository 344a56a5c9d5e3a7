import type { Agent, AgentOutput, ChatMessage } from '../../actors';
import { collector, makeRuntime, settle } from './runtime-helpers';

/**
 * Regression: an agent that never settles (ignores its abort signal) was never stopped. The job timer only
 * aborted the signal while the job's loop waited on the agent's next() for good: no AGENT_ERR_TIMEOUT record,
 * the job slot taken for ever (after max_concurrent_agent_jobs hangs no agent of the conversation answered
 * again), the conversation never idle. chat.context.nlweb_timeout bounds every job, whatever the agent does.
 */

const never = <T>() => new Promise<T>(() => undefined);
/** The agents whose return() the job called: asked to stop, though nothing waits for it. */
const closed: string[] = [];
beforeEach(() => (closed.length = 0));

/** Agents that hang in the three ways an agent can: each takes turns only for messages naming it. */
function hangingAgent(id: string, respond: Agent['respond']): Agent {
  return { id, displayName: id.toUpperCase(), wantsTurn: (m) => m.sender_type === 'human' && m.content.includes(id), respond };
}
const HANGS: Record<string, Agent> = {
  // A generator stuck in an await: its return() queues behind that await and never settles either.
  generator: hangingAgent('generator', async function* (_turn, signal) {
    signal.addEventListener('abort', () => undefined);
    await never<void>();
    yield { content: 'never' };
  }),
  // A bare iterator whose next() never settles; its return() does.
  iterator: hangingAgent('iterator', () => ({
    [Symbol.asyncIterator]: () => ({
      next: () => never<IteratorResult<AgentOutput>>(),
      return: () => {
        closed.push('iterator');
        return Promise.resolve({ done: true as const, value: undefined });
      },
    }),
  })),
  // Neither next() nor return() ever settles.
  stubborn: hangingAgent('stubborn', () => ({
    [Symbol.asyncIterator]: () => ({
      next: () => never<IteratorResult<AgentOutput>>(),
      return: () => {
        closed.push('stubborn');
        return never<IteratorResult<AgentOutput>>();
      },
    }),
  })),
};

/** Answers every message that names no hanging agent, at once. */
const answers: Agent = {
  id: 'answers',
  displayName: 'ANSWERS',
  wantsTurn: (m) => m.sender_type === 'human' && !Object.keys(HANGS).some((id) => m.content.includes(id)),
  async *respond(turn) {
    yield { content: `re: ${turn.trigger.content}`, final: true };
  },
};

/** Alice with every agent above; agent jobs time out after 500 ms; `ask` posts and lets the input window pass. */
async function conversation() {
  const agents = [...Object.values(HANGS), answers];
  const { runtime, clock, store } = await makeRuntime({
    agents,
    config: {
      chat: {
        input: { multi_mode_window_ms: 50 },
        context: { nlweb_timeout: 0.5 },
        supervision: { idle_timeout_s: 10 },
      },
    },
  });
  await runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: agents.map((a) => ({ participant_id: a.id, participant_type: 'ai' as const, agent_id: a.id })),
  });
  const alice = collector();
  const subscription = await runtime.subscribe('c1', 'alice', alice.listener, { afterSequenceId: 0 });
  let n = 0;
  const ask = async (content: string) => {
    await runtime.post('c1', { sender_id: 'alice', message_id: `m${++n}`, content });
    clock.advance(50);
    await settle();
  };
  return { runtime, clock, store, alice, subscription, ask };
}

const jobRecords = (seen: readonly ChatMessage[], agentId: string) =>
  seen.filter((m) => m.message_type.startsWith('agent_job_') && m.metadata.participant_id === agentId);

describe('nlweb_timeout ends a job whose agent never settles', () => {
  test.each(Object.keys(HANGS))(
    '%s: agent_job_failed AGENT_ERR_TIMEOUT at the deadline, the slot freed, the conversation passivates',
    async (id) => {
      const { runtime, clock, store, alice, subscription, ask } = await conversation();
      await ask(`over to ${id}`);
      expect(jobRecords(alice.messages, id).map((m) => m.message_type)).toEqual(['agent_job_started']);
      expect(runtime.health().queue_depths.c1).toBe(1);

      // Nobody is connected while the job hangs: only the job keeps the conversation live.
      subscription.close();
      clock.advance(499);
      await settle();
      expect(jobRecords(alice.messages, id).map((m) => m.message_type)).toEqual(['agent_job_started']);

      clock.advance(1);
      await settle();
      const health = runtime.health();
      expect(health.queue_depths.c1).toBe(0);
      expect(health.status).toBe('healthy');
      // From the store: a runtime read would count as use and hold passivation off.
      const history = await store.readMessages('c1', 0, 100);
      expect(jobRecords(history, id).map((m) => [m.message_type, m.metadata.code])).toEqual([
        ['agent_job_started', undefined],
        ['agent_job_failed', 'AGENT_ERR_TIMEOUT'],
      ]);
      if (id !== 'generator') expect(closed).toEqual([id]);

      clock.advance(10_000);
      await settle();
      expect(runtime.health().conversations).toBe(0);
      await runtime.close();
    },
  );

  test('after max_concurrent_agent_jobs (4) hung jobs time out, a later message is answered', async () => {
    const { runtime, clock, alice, ask } = await conversation();
    for (const id of ['generator', 'iterator', 'stubborn', 'generator']) await ask(`over to ${id}`);
    expect(runtime.health().queue_depths.c1).toBe(4);
    clock.advance(500);
    await settle();
    expect(alice.messages.filter((m) => m.message_type === 'agent_job_failed').map((m) => m.metadata.code)).toEqual(
      Array(4).fill('AGENT_ERR_TIMEOUT'),
    );

    await ask('anyone there?');
    expect(alice.messages.filter((m) => m.sender_id === 'answers' && m.message_type === 'text').map((m) => m.content)).toEqual([
      're: anyone there?',
    ]);
    expect(runtime.health().queue_depths.c1).toBe(0);
    await runtime.close();
  });
});
