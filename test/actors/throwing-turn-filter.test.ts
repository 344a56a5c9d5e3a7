import { createEchoAgent, type Agent, type AgentOutput, type ChatMessage } from '../../actors';
import { createNoopTelemetry } from '../../observability/chat-telemetry';
import { makeCrashingRuntime } from './crash-helpers';
import { capturedLogger, collector, makeRuntime, settle } from './runtime-helpers';

/**
 * An in-process agent whose `wantsTurn` throws (its author's bug) declines that turn: the conversation's machine
 * does not crash, the humans and the other agents go on, and the error is logged with the agent's id and stack.
 */

const WINDOW_MS = 50;

/** Throws in its filter on every message starting with "boom" (not echo's answers to them); otherwise answers human messages with "flaky: <content>". */
function createFlakyFilterAgent(): Agent & { asked: string[] } {
  const asked: string[] = [];
  return {
    id: 'flaky',
    displayName: 'Flaky',
    asked,
    wantsTurn(m) {
      asked.push(m.content);
      if (m.content.startsWith('boom')) throw new TypeError(`cannot read the mood of "${m.message_id}"`);
      return m.sender_type === 'human';
    },
    async *respond(turn): AsyncIterable<AgentOutput> {
      yield { content: `flaky: ${turn.trigger.content}`, final: true };
    },
  };
}

async function roomWithFlakyAgent() {
  const { logger, logged } = capturedLogger('warn');
  const telemetry = createNoopTelemetry();
  const restarts = { count: 0 };
  telemetry.actorRestart = () => void restarts.count++;
  const flaky = createFlakyFilterAgent();
  const made = await makeRuntime({
    agents: [flaky, createEchoAgent()],
    // The default restart intensity: an always-throwing filter used to fail the conversation at its fifth post.
    config: { chat: { input: { multi_mode_window_ms: WINDOW_MS } } },
    logger,
    telemetry,
  });
  await made.runtime.createConversation({
    conversation_id: 'room',
    created_by: 'alice',
    participants: [
      { participant_id: 'bob', participant_type: 'human' },
      { participant_id: 'flaky', participant_type: 'ai' },
      { participant_id: 'echo', participant_type: 'ai' },
    ],
  });
  return { ...made, flaky, logged, restarts };
}

const textsOf = (seen: readonly ChatMessage[], senderId: string) =>
  seen.filter((m) => m.sender_id === senderId && m.message_type === 'text').map((m) => m.content);

describe('an agent whose wantsTurn throws', () => {
  it('declines that turn: posts after it are sequenced and delivered, other agents answer, the conversation never fails', async () => {
    const { runtime, clock, flaky, restarts } = await roomWithFlakyAgent();
    const bob = collector();
    await runtime.subscribe('room', 'bob', bob.listener);

    // Eight bursts whose filter throws: twice the default max_restarts, past where the conversation used to fail.
    const sequenceIds: number[] = [];
    for (let i = 1; i <= 8; i++) {
      const sender = i % 2 === 0 ? 'bob' : 'alice';
      const posted = await runtime.post('room', { sender_id: sender, message_id: `boom-${i}`, content: `boom ${i}` });
      expect(posted.duplicate).toBe(false);
      sequenceIds.push(posted.sequence_id);
      clock.advance(WINDOW_MS);
      await settle();
    }
    const after = await runtime.post('room', { sender_id: 'alice', message_id: 'calm-1', content: 'all quiet' });
    clock.advance(WINDOW_MS);
    await settle();

    expect(restarts.count).toBe(0);
    expect(runtime.health().failed_conversations).toEqual([]);
    expect(after.sequence_id).toBeGreaterThan(sequenceIds[7]);
    // Every post reached bob, in sequence order, in one gap-free stream.
    const delivered = bob.messages.filter((m) => m.message_type === 'text' && m.sender_type === 'human');
    expect(delivered.map((m) => m.message_id)).toEqual([...sequenceIds.map((_, i) => `boom-${i + 1}`), 'calm-1']);
    const seqs = bob.messages.map((m) => m.sequence_id);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    // The other agent answered every burst; the flaky one declined the bursts its filter threw on, and only those.
    expect(textsOf(bob.messages, 'echo')).toEqual([...sequenceIds.map((_, i) => `echo: boom ${i + 1}`), 'echo: all quiet']);
    expect(textsOf(bob.messages, 'flaky')).toEqual(['flaky: all quiet']);
    // Asked once per burst: a declined turn is not offered again.
    expect(flaky.asked.filter((c) => c === 'boom 1')).toHaveLength(1);
    // No record of the declined turns: the room sees the flaky agent as having passed on them.
    expect(bob.messages.filter((m) => m.message_type === 'agent_job_failed')).toEqual([]);
    await runtime.close();
  });

  it('is logged like a failed agent call: agent id, conversation, code and the stack, rate-limited per agent', async () => {
    const { runtime, clock, logged } = await roomWithFlakyAgent();
    for (let i = 1; i <= 3; i++) {
      await runtime.post('room', { sender_id: 'alice', message_id: `boom-${i}`, content: `boom ${i}` });
      clock.advance(WINDOW_MS);
      await settle();
    }
    const lines = () => logged.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('agent call'));
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'agent call failed',
        conversation_id: 'room',
        agent_id: 'flaky',
        url: null,
        code: 'AGENT_ERR_FAILED',
        reason: 'wantsTurn threw, so the agent did not take the turn: cannot read the mood of "boom-1"',
      }),
    ]);
    const err = lines()[0].err as { type: string; message: string; stack: string };
    expect(err.type).toBe('TypeError');
    // Its author finds where it threw.
    expect(err.stack).toMatch(/throwing-turn-filter\.test\.ts/);
    expect(logged.some((l) => l.msg === 'conversation machine crashed')).toBe(false);
    // The failures within the window are counted in one summary, as failed calls are.
    clock.advance(60_000);
    expect(lines()[1]).toMatchObject({ msg: 'agent calls failed', agent_id: 'flaky', count: 2, codes: { AGENT_ERR_FAILED: 2 } });
    await runtime.close();
  });

  /** Throws in its filter on "boom" and otherwise declines; counts what it was asked. */
  function createPoisonAgent(id: string): Agent & { filtered: string[] } {
    const filtered: string[] = [];
    return {
      id,
      displayName: id,
      filtered,
      wantsTurn: (m) => {
        filtered.push(m.content);
        if (m.content === 'boom') throw new Error('agent bug');
        return false;
      },
      async *respond() {
        yield* [];
      },
    };
  }
  /** Answers the messages of one sender with "<id>: <content>". */
  const createReplyAgent = (id: string, to: string): Agent => ({
    id,
    displayName: id,
    wantsTurn: (m) => m.sender_id === to,
    async *respond(turn): AsyncIterable<AgentOutput> {
      yield { content: `${id}: ${turn.trigger.content}`, final: true };
    },
  });
  const ai = (id: string) => ({ participant_id: id, participant_type: 'ai' as const });
  const answersOf = (seen: readonly ChatMessage[], agentId: string, messageId: string) =>
    seen.filter((m) => m.sender_id === agentId && m.message_type === 'text' && m.metadata.in_reply_to === messageId).map((m) => m.content);

  it("in the middle of a burst's turns: the turns before and after it run once, nothing restarts", async () => {
    const poison = createPoisonAgent('crashy');
    // A runtime whose machine restarts are counted (and which would crash, as it once did, on a throw in a step).
    const { runtime, clock, restarts } = await makeCrashingRuntime({
      agents: [createEchoAgent(), poison, createEchoAgent({ id: 'echo2' })],
    });
    // Four members: multi mode, the post waits for the input window; turns are offered in member order.
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('echo'), ai('crashy'), ai('echo2')] });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'boom' });
    clock.advance(2000); // chat.input.multi_mode_window_ms (default)
    await settle();
    clock.advance(6000);
    await settle();
    expect(restarts.count).toBe(0);
    expect(answersOf(alice.messages, 'echo', 'a1')).toEqual(['echo: boom']);
    expect(answersOf(alice.messages, 'echo2', 'a1')).toEqual(['echo: boom']); // createEchoAgent's text whatever its id
    expect(poison.filtered.filter((c) => c === 'boom')).toHaveLength(1);
    expect(runtime.health().failed_conversations).toEqual([]);
    await runtime.close();
  });

  it('as the last turn of a post offered at once: the post is accepted, the turns before it run once, nothing restarts', async () => {
    const poison = createPoisonAgent('crashy');
    const { runtime, restarts } = await makeCrashingRuntime({
      agents: [createReplyAgent('r1', 'bot'), createReplyAgent('r2', 'bot'), poison],
    });
    // 'bot' is an AI participant posting over the API (no agent of its own): its posts are offered to the agents at once.
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [ai('r1'), ai('r2'), ai('crashy'), { ...ai('bot'), external: true }],
    });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    const posted = await runtime.post('c', { sender_id: 'bot', message_id: 'b1', content: 'boom' });
    expect(posted.duplicate).toBe(false);
    await settle();
    expect(restarts.count).toBe(0);
    expect(alice.messages.filter((m) => m.message_id === 'b1').map((m) => m.sequence_id)).toEqual([posted.sequence_id]);
    expect(answersOf(alice.messages, 'r1', 'b1')).toEqual(['r1: boom']);
    expect(answersOf(alice.messages, 'r2', 'b1')).toEqual(['r2: boom']);
    expect(poison.filtered.filter((c) => c === 'boom')).toHaveLength(1);
    await runtime.close();
  });
});

describe('an agent whose wantsTurn returns a Promise', () => {
  it('declines the turn and is logged (a Promise is not a yes), and its rejection is not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { logger, logged } = capturedLogger('warn');
      const asyncFilter: Agent = {
        id: 'async',
        displayName: 'Async',
        // As an embedder might write it, checking something over the network first; the check fails.
        wantsTurn: (async () => {
          throw new Error('lookup failed');
        }) as unknown as Agent['wantsTurn'],
        async *respond(turn): AsyncIterable<AgentOutput> {
          yield { content: `async: ${turn.trigger.content}`, final: true };
        },
      };
      const made = await makeRuntime({
        agents: [asyncFilter, createEchoAgent()],
        config: { chat: { input: { multi_mode_window_ms: WINDOW_MS } } },
        logger,
      });
      const { runtime, clock } = made;
      await runtime.createConversation({
        conversation_id: 'room',
        created_by: 'alice',
        participants: [
          { participant_id: 'async', participant_type: 'ai' },
          { participant_id: 'echo', participant_type: 'ai' },
        ],
      });
      const alice = collector();
      await runtime.subscribe('room', 'alice', alice.listener);
      await runtime.post('room', { sender_id: 'alice', message_id: 'a1', content: 'hello' });
      clock.advance(WINDOW_MS);
      await settle();
      // A macrotask turn: Node reports unhandled rejections after the microtasks of the turn that made them.
      await new Promise((resolve) => setImmediate(resolve));
      expect(textsOf(alice.messages, 'echo')).toEqual(['echo: hello']);
      expect(textsOf(alice.messages, 'async')).toEqual([]);
      expect(logged.filter((l) => l.msg === 'agent call failed')).toEqual([
        expect.objectContaining({
          agent_id: 'async',
          reason:
            "wantsTurn threw, so the agent did not take the turn: async's wantsTurn returned a Promise: it must return a boolean synchronously",
        }),
      ]);
      expect(unhandled).toEqual([]);
      await runtime.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
