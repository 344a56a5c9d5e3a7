import type { Agent, AgentNoAnswer, AgentOutput, ChatMessage } from '../../actors';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { createMachineRerun } from '../../bin/replay/machine-rerun';
import { collector, makeRuntime, settle } from './runtime-helpers';

/**
 * Every agent job that said "is answering" ends with a record a client can act on. An answer whose last piece
 * is marked final ends with that piece (metadata.complete); a job that ends any other way without failing or
 * being cancelled ends with `agent_job_finished`: reason `no_answer` (the agent yielded nothing), the agent's
 * own reason (it returned an AgentNoAnswer), or `answered` (pieces, none marked final). The journal's
 * `agent_job_finished` records re-run through the machine as AGENT_DONE and pass the invariant check.
 */
function agent(id: string, respond: () => AsyncGenerator<AgentOutput, AgentNoAnswer | undefined>): Agent {
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

/** Alice with `agents`; `ask` posts and lets the input window pass (more than two participants: multi mode). */
async function conversationWith(agents: Agent[]) {
  const { runtime, clock } = await makeRuntime({ agents, config: { chat: { input: { multi_mode_window_ms: 50 } } } });
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
  return { runtime, alice, ask };
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
