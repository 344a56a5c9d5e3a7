import type { Agent, ChatMessage } from '../../actors';
import { answeredSequenceIds, MAX_ANSWERED_SEQUENCE_IDS } from '../../actors/answered-sequences';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { createMachineRerun } from '../../bin/replay/machine-rerun';
import { collector, makeRuntime, settle } from './runtime-helpers';

/**
 * A job answering a multi-mode burst names every post of it (metadata.in_reply_to_sequences, ascending) on its
 * start and answer records, next to the single in_reply_to_sequence (the burst's last post) that old clients read.
 * Before, only the last post was named: nothing in the journal said the earlier posts of the burst were answered.
 */

/** Answers in two pieces and marks neither final: the job has a start, two pieces and an agent_job_finished. */
const twoPieces: Agent = {
  id: 'bot',
  displayName: 'Bot',
  wantsTurn: (m) => m.sender_type === 'human',
  async *respond(turn) {
    yield { content: `read ${turn.burst.length}` };
    yield { content: 'done' };
  },
};

/** The bot's job records: its start, its pieces and its end (not its join). */
const jobRecords = (seen: readonly ChatMessage[]) =>
  seen.filter((m) => m.message_type !== 'join' && (m.metadata.participant_id === 'bot' || m.sender_id === 'bot'));

async function room(humans: readonly string[]) {
  const { runtime, clock } = await makeRuntime({ agents: [twoPieces] });
  await runtime.createConversation({
    conversation_id: 'c',
    created_by: humans[0],
    participants: [
      { participant_id: 'bot', participant_type: 'ai', agent_id: 'bot' },
      ...humans.slice(1).map((id) => ({ participant_id: id, participant_type: 'human' as const })),
    ],
  });
  const watcher = collector();
  await runtime.subscribe('c', humans[0], watcher.listener, { afterSequenceId: 0 });
  return { runtime, clock, watcher };
}

describe('in_reply_to_sequences: every post a job answers', () => {
  it('multi mode: a burst of 3 posts from 2 humans gets one job whose start, pieces and end list all 3', async () => {
    const { runtime, clock, watcher } = await room(['alice', 'bob']);
    const posts = [
      await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'where do we eat?' }),
      await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'somewhere vegan' }),
      await runtime.post('c', { sender_id: 'alice', message_id: 'a2', content: 'near the station' }),
    ];
    clock.advance(2000); // the multi-mode input window after the last post
    await settle();

    const ids = posts.map((p) => p.sequence_id);
    const records = jobRecords(watcher.messages);
    expect(records.map((m) => m.message_type)).toEqual(['agent_job_started', 'text', 'text', 'agent_job_finished']);
    expect(records[1].content).toBe('read 3');
    for (const m of records) {
      expect(m.metadata).toMatchObject({ in_reply_to_sequence: ids[2], in_reply_to_sequences: ids });
    }
    // The journal re-runs through the machine and passes the check, listed ids and all.
    const journal = watcher.messages;
    const rerun = createMachineRerun({ conversationId: 'c' });
    const checker = createInvariantChecker({ conversationId: 'c' });
    expect([...journal.flatMap((m) => rerun.accept(m)), ...rerun.finish()]).toEqual([]);
    expect([...journal.flatMap((m) => checker.accept(m)), ...checker.finish()]).toEqual([]);
    await runtime.close();
  });

  it('single mode: the job lists the one post it answers', async () => {
    const { runtime, watcher } = await room(['alice']);
    const question = await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'hello?' });
    await settle();
    const records = jobRecords(watcher.messages);
    expect(records).toHaveLength(4);
    for (const m of records) {
      expect(m.metadata).toMatchObject({ in_reply_to_sequence: question.sequence_id, in_reply_to_sequences: [question.sequence_id] });
    }
    await runtime.close();
  });

  it('a human post may not carry in_reply_to_sequences (reserved, like in_reply_to_sequence)', async () => {
    const { runtime } = await room(['alice']);
    await expect(
      runtime.post('c', { sender_id: 'alice', message_id: 'fake', content: 'hi', metadata: { in_reply_to_sequences: [1] } }),
    ).rejects.toMatchObject({ code: 'CHAT_ERR_INVALID_MESSAGE', message: expect.stringContaining('"in_reply_to_sequences"') });
    await runtime.close();
  });
});

describe('answeredSequenceIds', () => {
  const post = (sequence_id: number): ChatMessage => ({
    conversation_id: 'c',
    sequence_id,
    message_id: `m${sequence_id}`,
    sender_id: 'alice',
    sender_type: 'human',
    message_type: 'text',
    content: '',
    timestamp: '2026-01-01T00:00:00.000Z',
    metadata: {},
  });

  it('keeps a long burst to its last MAX_ANSWERED_SEQUENCE_IDS ids, ascending, ending with the trigger', () => {
    const burst = Array.from({ length: MAX_ANSWERED_SEQUENCE_IDS + 20 }, (_v, i) => post(i + 1));
    const ids = answeredSequenceIds(burst[burst.length - 1], burst);
    expect(ids).toHaveLength(MAX_ANSWERED_SEQUENCE_IDS);
    expect(ids[0]).toBe(21);
    expect(ids[ids.length - 1]).toBe(MAX_ANSWERED_SEQUENCE_IDS + 20);
  });

  it('always includes the trigger, once', () => {
    expect(answeredSequenceIds(post(7), [])).toEqual([7]);
    expect(answeredSequenceIds(post(7), [post(5), post(7)])).toEqual([5, 7]);
  });
});
