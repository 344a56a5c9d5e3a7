import { Writable } from 'node:stream';
import type { Agent, AgentNoAnswer, AgentOutput, AgentTurn, ChatMessage } from '../../actors';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { createMachineRerun } from '../../bin/replay/machine-rerun';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { createLogger } from '../../observability/logger';
import { METRICS } from '../../observability/telemetry-names';
import { createTestMeterProvider } from '../observability/metric-collector';
import { collector, makeRuntime, settle } from './runtime-helpers';

/**
 * Every agent job that said "is answering" ends with a record a client can act on. An answer whose last piece
 * is marked final ends with that piece (metadata.complete); a job that ends any other way without failing or
 * being cancelled ends with `agent_job_finished`: reason `no_answer` (the agent yielded nothing), the agent's
 * own reason (it returned an AgentNoAnswer), or `answered` (pieces, none marked final). The journal's
 * `agent_job_finished` records re-run through the machine as AGENT_DONE and pass the invariant check.
 * Nothing ends a job twice: after the piece marked final, a throw, a timeout or a cancellation posts no
 * `agent_job_failed` / `agent_job_cancelled` (operators see it in the log and the agent error metric).
 */
function agent(
  id: string,
  respond: (turn: AgentTurn, signal: AbortSignal) => AsyncGenerator<AgentOutput, AgentNoAnswer | undefined>,
): Agent {
  return { id, displayName: id.toUpperCase(), wantsTurn: (m) => m.sender_type === 'human', respond };
}

const silent = agent('silent', async function* () {
  return undefined;
});
const declines = agent('declines', async function* () {
  return { noAnswer: 'out_of_scope' };
});
const unfinished = agent('unfinished', async function* () {
  yield { content: 'part one' };
  yield { content: 'part two' };
  return undefined;
});

/**
 * Alice with `agents`; `ask` posts and lets the input window pass (more than two participants: multi mode).
 * The runtime logs at warn into `logLines` and records metrics `collect()` reads; agent jobs time out after 1 s.
 */
async function conversationWith(agents: Agent[]) {
  const logged: string[] = [];
  const destination = new Writable({
    write: (chunk, _encoding, done) => {
      logged.push(String(chunk));
      done();
    },
  });
  const { meterProvider, collect } = createTestMeterProvider();
  const { runtime, clock } = await makeRuntime({
    agents,
    config: { chat: { input: { multi_mode_window_ms: 50 }, context: { nlweb_timeout: 1 } } },
    logger: createLogger({ level: 'warn', destination }),
    telemetry: createChatTelemetry({ meterProvider }),
  });
  await runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: agents.map((a) => ({ participant_id: a.id, participant_type: 'ai' as const, agent_id: a.id })),
  });
  const alice = collector();
  await runtime.subscribe('c1', 'alice', alice.listener, { afterSequenceId: 0 });
  const ask = async (content: string) => {
    const question = await runtime.post('c1', { sender_id: 'alice', message_id: content, content });
    clock.advance(50);
    await settle();
    return question;
  };
  const logLines = () => logged.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { runtime, clock, alice, ask, logLines, collect };
}

/** An agent's job records and answer pieces (not its join). */
const jobRecords = (seen: readonly ChatMessage[], agentId: string) =>
  seen.filter((m) => m.message_type !== 'join' && (m.metadata.participant_id === agentId || m.sender_id === agentId));

describe('agent_job_finished ends a job that has no answer marked complete', () => {
  test('no pieces: reason no_answer; an AgentNoAnswer: its reason; pieces without a final one: answered', async () => {
    const { runtime, alice, ask } = await conversationWith([silent, declines, unfinished]);
    const question = await ask('anyone?');

    for (const [id, reason, content] of [
      ['silent', 'no_answer', 'SILENT has no answer'],
      ['declines', 'out_of_scope', 'DECLINES has no answer (out of scope)'],
      ['unfinished', 'answered', 'UNFINISHED finished answering'],
    ] as const) {
      const records = jobRecords(alice.messages, id);
      const started = records[0];
      const finished = records[records.length - 1];
      expect(started).toMatchObject({ message_type: 'agent_job_started', metadata: { in_reply_to_sequence: question.sequence_id } });
      expect(finished).toMatchObject({
        sender_type: 'system',
        message_type: 'agent_job_finished',
        content,
        metadata: { job_id: started.metadata.job_id, participant_id: id, in_reply_to_sequence: question.sequence_id, reason },
      });
      expect(records.filter((m) => m.message_type === 'agent_job_finished')).toHaveLength(1);
    }
    expect(jobRecords(alice.messages, 'unfinished').map((m) => m.metadata.complete)).toEqual([undefined, false, false, undefined]);
    await runtime.close();
  });

  test("an AgentNoAnswer's message is the record's reason_text: one line, control characters gone, at most 500 characters", async () => {
    const hints = agent('hints', async function* () {
      return { noAnswer: 'no_results', message: ' Nothing for that.\n\u001b[31mTry "tent". ' };
    });
    const rambles = agent('rambles', async function* () {
      return { noAnswer: 'no_results', message: 'x'.repeat(600) };
    });
    const { runtime, alice, ask } = await conversationWith([hints, rambles, declines]);
    await ask('anyone?');
    const finished = (id: string) => jobRecords(alice.messages, id).find((m) => m.message_type === 'agent_job_finished')!;
    expect(finished('hints')).toMatchObject({
      content: 'HINTS has no answer (no results)',
      metadata: { reason: 'no_results', reason_text: 'Nothing for that. [31mTry "tent".' },
    });
    expect(finished('rambles').metadata.reason_text).toBe(`${'x'.repeat(499)}…`);
    // No message, no reason_text.
    expect(finished('declines').metadata).not.toHaveProperty('reason_text');
    await runtime.close();
  });

  test('an answer marked final ends its job by itself: no agent_job_finished', async () => {
    const done = agent('done', async function* () {
      yield { content: 'all of it', final: true };
      return undefined;
    });
    const { runtime, alice, ask } = await conversationWith([done]);
    await ask('anyone?');
    expect(jobRecords(alice.messages, 'done').map((m) => m.message_type)).toEqual(['agent_job_started', 'text']);
    await runtime.close();
  });

  test('the journal re-runs through the machine (agent_job_finished → AGENT_DONE) and passes the invariant check', async () => {
    const { runtime, alice, ask } = await conversationWith([silent, declines, unfinished]);
    await ask('anyone?');
    const journal = alice.messages;
    expect(journal.filter((m) => m.message_type === 'agent_job_finished')).toHaveLength(3);

    const rerun = createMachineRerun({ conversationId: 'c1' });
    const checker = createInvariantChecker({ conversationId: 'c1' });
    const divergences = journal.flatMap((m) => rerun.accept(m));
    const violations = journal.flatMap((m) => checker.accept(m));
    expect([...divergences, ...rerun.finish()]).toEqual([]);
    expect([...violations, ...checker.finish()]).toEqual([]);
    expect(rerun.compared).toBe(journal.length);
    await runtime.close();
  });
});

describe('after the piece marked final, the job has ended for clients', () => {
  /** Answers in one piece marked final, then does `after` (the agent's clean-up: it may throw or hang). */
  function answersThen(id: string, after: (signal: AbortSignal) => Promise<void>): Agent {
    return agent(id, async function* (_turn, signal) {
      yield { content: 'all of it', final: true };
      await after(signal);
      return undefined;
    });
  }
  const untilAborted = (signal: AbortSignal) =>
    new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  const JOB_ENDS = ['agent_job_finished', 'agent_job_failed', 'agent_job_cancelled'];
  const endsOf = (seen: readonly ChatMessage[]) => seen.filter((m) => JOB_ENDS.includes(m.message_type));

  test('a throw after it: no agent_job_failed; the error is logged and counted; the conversation goes on', async () => {
    const late = answersThen('late', async () => {
      throw new Error('connection reset after the answer');
    });
    const { runtime, alice, ask, logLines, collect } = await conversationWith([late]);
    await ask('first?');
    await ask('second?');

    expect(jobRecords(alice.messages, 'late').map((m) => [m.message_type, m.metadata.complete])).toEqual([
      ['agent_job_started', undefined],
      ['text', true],
      ['agent_job_started', undefined],
      ['text', true],
    ]);
    expect(endsOf(alice.messages)).toEqual([]);
    const jobIds = jobRecords(alice.messages, 'late')
      .filter((m) => m.message_type === 'agent_job_started')
      .map((m) => m.metadata.job_id);
    const failures = logLines().filter((l) => l.msg === 'agent failed after its answer was complete');
    expect(failures.map((l) => [l.level, l.conversation_id, l.agent_id, l.job_id, l.code])).toEqual(
      jobIds.map((jobId) => ['warn', 'c1', 'late', jobId, 'AGENT_ERR_FAILED']),
    );
    expect((failures[0].err as { message: string }).message).toBe('connection reset after the answer');
    expect((await collect()).value(METRICS.agentCallErrors.name, { endpoint: 'late', code: 'AGENT_ERR_FAILED' })).toBe(2);
    await runtime.close();
  });

  test('pieces after it are dropped, not posted: the answer stays complete; the agent is logged as misbehaving', async () => {
    const chatty = agent('chatty', async function* () {
      yield { content: 'all of it', final: true };
      yield { content: 'one more thing' };
      yield { content: 'and another' };
      return undefined;
    });
    const { runtime, alice, ask, logLines } = await conversationWith([chatty]);
    await ask('anyone?');
    expect(jobRecords(alice.messages, 'chatty').map((m) => [m.message_type, m.content])).toEqual([
      ['agent_job_started', 'CHATTY is answering'],
      ['text', 'all of it'],
    ]);
    expect(endsOf(alice.messages)).toEqual([]);
    const lines = logLines().filter((l) => l.msg === 'agent failed after its answer was complete');
    expect(lines.map((l) => [l.agent_id, l.code, (l.err as { message: string }).message])).toEqual([
      ['chatty', 'AGENT_ERR_FAILED', '2 pieces after the final one were dropped'],
    ]);
    await runtime.close();
  });

  test('a timeout after it (the agent hangs in its clean-up): no agent_job_failed, logged as AGENT_ERR_TIMEOUT', async () => {
    const { runtime, clock, alice, ask, logLines } = await conversationWith([answersThen('hangs', untilAborted)]);
    await ask('anyone?');
    clock.advance(1000);
    await settle();
    expect(jobRecords(alice.messages, 'hangs').map((m) => m.message_type)).toEqual(['agent_job_started', 'text']);
    expect(endsOf(alice.messages)).toEqual([]);
    expect(
      logLines()
        .filter((l) => l.msg === 'agent failed after its answer was complete')
        .map((l) => l.code),
    ).toEqual(['AGENT_ERR_TIMEOUT']);
    await runtime.close();
  });

  test('a cancellation after it (the agent left while still running): no agent_job_cancelled', async () => {
    const { runtime, alice, ask, logLines } = await conversationWith([answersThen('lingers', untilAborted)]);
    await ask('anyone?');
    await runtime.leave('c1', 'lingers');
    await settle();
    expect(alice.messages.filter((m) => m.sender_id === 'lingers').map((m) => m.message_type)).toEqual(['join', 'text', 'leave']);
    expect(endsOf(alice.messages)).toEqual([]);
    // A cancellation is not the agent's error: nothing to log.
    expect(logLines()).toEqual([]);
    await runtime.close();
  });
});
