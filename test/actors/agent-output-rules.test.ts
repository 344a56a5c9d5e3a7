import { isChatError, type Agent, type AgentOutput, type ChatMessage } from '../../actors';
import { parseNlwebJson, toAnswer } from '../../actors/agents/nlweb-answer-pieces';
import { collector, makeRuntime, settle } from './runtime-helpers';

/**
 * Regression: an in-process agent's pieces were sequenced as they came. Content 5 reached every client as a
 * number, a 200,000-character piece went out past every limit, a piece typed `join` or `lost` read as a
 * membership change or a crash's gap, control characters and metadata a durable store refuses went to everyone.
 * Now each piece is checked before it is sequenced; a bad one ends the job with AGENT_ERR_INVALID_OUTPUT.
 */

const MAX = 1000;
const BAD_PIECES: Record<string, { piece: unknown; problem: string }> = {
  'no object': { piece: null, problem: 'a piece must be an object with string content' },
  'content a number': { piece: { content: 5, final: true }, problem: 'content must be a string' },
  'content too long': { piece: { content: 'x'.repeat(MAX + 1), final: true }, problem: `content is longer than ${MAX} characters` },
  'control characters': { piece: { content: 'a\u0000b', final: true }, problem: 'content contains control characters' },
  'a lone surrogate': { piece: { content: 'a\ud800b', final: true }, problem: 'content is not well-formed Unicode (a lone surrogate)' },
  'metadata with a NUL': { piece: { content: 'x', metadata: { note: 'a\u0000b' } }, problem: 'metadata contains a NUL character' },
  'metadata with a lone surrogate': {
    piece: { content: 'x', metadata: { ['k\udc00']: 1 } },
    problem: 'metadata contains a lone UTF-16 surrogate',
  },
  'final not a boolean': { piece: { content: 'x', final: 'yes' }, problem: 'final must be a boolean' },
  'a join record': {
    piece: { content: 'bob joined', message_type: 'join' },
    problem: 'message_type "join" is written by the runtime only',
  },
  'a lost record': { piece: { content: 'x', message_type: 'lost' }, problem: 'message_type "lost" is written by the runtime only' },
  'metadata an array': { piece: { content: 'x', metadata: [1, 2] }, problem: 'metadata must be an object' },
  'metadata with a BigInt': { piece: { content: 'x', metadata: { n: BigInt(1) } }, problem: 'metadata' },
};

/** Yields one good piece, then `bad`; records whether it was asked to stop (its finally ran). */
function agentYielding(bad: unknown, stopped: string[]): Agent {
  return {
    id: 'bot',
    displayName: 'Bot',
    wantsTurn: (m) => m.sender_type === 'human' && m.content.startsWith('go'),
    async *respond() {
      try {
        yield { content: 'first piece' };
        yield bad as AgentOutput;
        yield { content: 'never sequenced', final: true };
      } finally {
        stopped.push('bot');
      }
    },
  };
}

/** Answers every human message, so the conversation is seen carrying on. */
const echo: Agent = {
  id: 'echo',
  displayName: 'Echo',
  wantsTurn: (m) => m.sender_type === 'human' && m.content === 'still there?',
  async *respond(turn) {
    yield { content: `re: ${turn.trigger.content}`, final: true };
  },
};

async function conversationWith(agents: Agent[]) {
  const made = await makeRuntime({ agents, config: { chat: { limits: { max_agent_output_length: MAX } } } });
  await made.runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: agents.map((a) => ({ participant_id: a.id, participant_type: 'ai' as const, agent_id: a.id })),
  });
  const alice = collector();
  await made.runtime.subscribe('c1', 'alice', alice.listener, { afterSequenceId: 0 });
  let n = 0;
  const say = async (content: string) => {
    await made.runtime.post('c1', { sender_id: 'alice', message_id: `m${++n}`, content });
    // With two agents the conversation is in multi mode: agents answer once the input window passes.
    made.clock.advance(2000);
    await settle();
  };
  return { ...made, alice, say };
}

const fromAgents = (seen: readonly ChatMessage[]) =>
  seen.filter((m) => m.sender_type === 'ai' || m.message_type.startsWith('agent_job_')).map((m) => [m.message_type, m.content]);

describe('a piece an agent yields is checked before it is sequenced', () => {
  test.each(Object.keys(BAD_PIECES))('%s: the job fails with AGENT_ERR_INVALID_OUTPUT, the earlier piece stays', async (name) => {
    const { piece, problem } = BAD_PIECES[name]!;
    const stopped: string[] = [];
    const { runtime, store, alice, say } = await conversationWith([agentYielding(piece, stopped), echo]);
    await say('go');

    const failed = alice.messages.find((m) => m.message_type === 'agent_job_failed');
    expect(failed?.metadata.code).toBe('AGENT_ERR_INVALID_OUTPUT');
    expect(failed?.content).toContain(`piece 2 refused: ${problem}`);
    expect(fromAgents(alice.messages).map(([type]) => type)).toEqual(['agent_job_started', 'text', 'agent_job_failed']);
    expect(fromAgents(alice.messages)[1]).toEqual(['text', 'first piece']);
    expect(stopped).toEqual(['bot']);

    // The conversation carries on, and the journal holds what everyone saw (no refused record in a `lost` one).
    await say('still there?');
    expect(alice.messages.filter((m) => m.sender_id === 'echo' && m.message_type === 'text').map((m) => m.content)).toEqual([
      're: still there?',
    ]);
    const journal = await store.readMessages('c1', 0, 100);
    expect(journal.map((m) => m.sequence_id)).toEqual(alice.messages.map((m) => m.sequence_id));
    expect(journal.filter((m) => m.message_type === 'lost')).toEqual([]);
    expect(runtime.health().queue_depths.c1).toBe(0);
    await runtime.close();
  });

  test('what stays allowed: empty content ending an answer, text, nlweb_response and types of its own, content at the limit', async () => {
    const pieces: AgentOutput[] = [
      { content: 'x'.repeat(MAX), message_type: 'nlweb_response', metadata: { items: [{ name: 'a' }] } },
      { content: 'tab\tand\nnewline', message_type: 'poll' },
      { content: '', final: true },
    ];
    const agent: Agent = {
      id: 'bot',
      displayName: 'Bot',
      async *respond() {
        yield* pieces;
      },
    };
    const { runtime, alice, say } = await conversationWith([agent]);
    await say('hello');
    expect(fromAgents(alice.messages)).toEqual([
      ['agent_job_started', 'Bot is answering'],
      ['nlweb_response', 'x'.repeat(MAX)],
      ['poll', 'tab\tand\nnewline'],
      ['text', ''],
    ]);
    expect(alice.messages.at(-1)?.metadata.complete).toBe(true);
    await runtime.close();
  });
});

test('runtime.post refuses a message_type only the runtime writes, and metadata no store keeps as sent', async () => {
  const { runtime } = await conversationWith([echo]);
  for (const type of ['join', 'leave', 'lost', 'system', 'agent_job_failed', 'mode_change']) {
    const err = await runtime.post('c1', { sender_id: 'alice', message_id: `t-${type}`, content: 'x', message_type: type }).catch((e) => e);
    expect(isChatError(err, 'CHAT_ERR_INVALID_MESSAGE')).toBe(true);
    expect((err as Error).message).toContain(`message_type "${type}" is written by the runtime only`);
  }
  // Metadata no store keeps as sent (PostgreSQL's jsonb refuses both; SQLite text writes U+FFFD for the surrogate).
  for (const [metadata, problem] of [
    [{ note: 'a\u0000b' }, 'metadata contains a NUL character (U+0000), which PostgreSQL cannot store'],
    [{ list: ['\ud800'] }, 'metadata contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)'],
  ] as const) {
    const err = await runtime.post('c1', { sender_id: 'alice', message_id: 'meta', content: 'x', metadata }).catch((e) => e);
    expect(isChatError(err, 'CHAT_ERR_INVALID_MESSAGE')).toBe(true);
    expect((err as Error).message).toBe(problem);
  }
  const ok = await runtime.post('c1', { sender_id: 'alice', message_id: 'custom', content: 'x', message_type: 'poll_vote' });
  expect(ok.sequence_id).toBeGreaterThan(0);
  await runtime.close();
});

test("an NLWeb answer's control characters are taken out, not the answer refused", () => {
  const answer = toAnswer({
    kind: 'items',
    messageType: 'result',
    items: [{ name: 'Oat\u0000 bread', url: 'https://x.test/oats', description: 'with a vertical\u000Btab' } as never],
  } as never);
  expect(answer?.content).toBe('Oat bread - with a verticaltab <https://x.test/oats>');
});

test("NUL characters and lone surrogates in what NLWeb sent are made storable (PostgreSQL's jsonb refuses both)", () => {
  const text = '{"message_type":"result","content":[{"name":"Oat\\u0000s","description":"a\\ud800b \\ud83d\\ude00"}]}';
  expect(parseNlwebJson(text)).toEqual({ message_type: 'result', content: [{ name: 'Oats', description: 'a\uFFFDb \u{1F600}' }] });
  expect(parseNlwebJson('{"a":"plain"}')).toEqual({ a: 'plain' });
});
