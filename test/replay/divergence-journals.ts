import type { ChatMessage } from '../../actors';
import { journalBuilder } from './replay-fixtures';

export interface DivergenceCase {
  readonly name: string;
  readonly records: ChatMessage[];
  /** [sequence id, kind] of the first divergence expected. */
  readonly first: readonly [number, string];
  /** Text the first divergence's detail must contain. */
  readonly detail: RegExp;
}

/**
 * A journal the machine reproduces exactly: joins (with the mode changes they cause), posts, agent
 * jobs started / answered / failed / cancelled, a leave, a redaction of a (redacted) record.
 */
export function faithfulJournal(): ChatMessage[] {
  const j = journalBuilder();
  const out: ChatMessage[] = [];
  out.push(j.join('alice'), j.join('echo', 'ai'));
  const q1 = j.post('alice', 'a1', 'hello');
  out.push(q1, j.jobStarted('echo', q1), j.answer('echo', q1, 'echo: hello'));
  out.push(j.join('bob'), j.mode('multi'));
  const q2 = j.post('bob', 'b1', 'first line\nsecond line', { metadata: { redacted: true }, content: '[redacted]' });
  out.push(q2, j.jobStarted('echo', q2));
  const jobId = `conv-1:${q2.sequence_id}:echo`;
  const failed = j.post('x', 'x', '', {
    sender_id: 'system',
    sender_type: 'system',
    message_type: 'agent_job_failed',
    message_id: `agent_job_failed-${q2.sequence_id + 2}`,
    content: 'echo could not answer: upstream said no',
    metadata: { job_id: jobId, participant_id: 'echo', code: 'AGENT_ERR_HTTP' },
  });
  out.push(failed);
  const q3 = j.post('alice', 'a2', 'again?');
  out.push(q3, j.jobStarted('echo', q3));
  const cancelled = j.post('x', 'x', '', {
    sender_id: 'system',
    sender_type: 'system',
    message_type: 'agent_job_cancelled',
    message_id: `agent_job_cancelled-${q3.sequence_id + 2}`,
    content: 'echo stopped answering (participant left)',
    metadata: { job_id: `conv-1:${q3.sequence_id}:echo`, participant_id: 'echo', reason: 'participant left' },
  });
  out.push(cancelled, j.leave('bob'), j.mode('single'));
  const redaction = j.post('x', 'x', '', {
    sender_id: 'system',
    sender_type: 'system',
    message_type: 'redaction',
    message_id: `redaction-${cancelled.sequence_id + 3}`,
    content: '1 message(s) redacted',
    metadata: { redacted_sequence_ids: [q2.sequence_id], requested_by: 'alice' },
  });
  out.push(redaction);
  return out;
}

/** Journals whose records the machine does not reproduce. */
export function divergenceCases(): DivergenceCase[] {
  const cases: DivergenceCase[] = [];
  {
    const j = journalBuilder();
    cases.push({
      name: 'a mode change missing after the third participant joined',
      records: [j.join('alice'), j.join('echo', 'ai'), j.join('bob'), j.post('bob', 'b1', 'hi')],
      first: [4, 'mismatch'],
      detail: /message_type: journal "text" vs rerun "mode_change"/,
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a mode change nobody caused',
      records: [j.join('alice'), j.mode('multi')],
      first: [2, 'underivable'],
      detail: /no mode_change record/,
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a post the machine refuses (sender not a member)',
      records: [j.join('alice'), j.post('mallory', 'm1', 'sneaky')],
      first: [2, 'missing'],
      detail: /emitted nothing for POST \(rejected with CHAT_ERR_NOT_PARTICIPANT\)/,
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a post the machine deduplicates',
      records: [j.join('alice'), j.post('alice', 'a1', 'once'), j.post('alice', 'a1', 'twice')],
      first: [3, 'missing'],
      detail: /a duplicate of #2/,
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a join record whose text was changed',
      records: [j.join('alice', 'human', { content: 'mallory joined' })],
      first: [1, 'mismatch'],
      detail: /content: journal "mallory joined" vs rerun "alice joined"/,
    });
  }
  {
    const j = journalBuilder();
    const a = j.join('alice');
    const e = j.join('echo', 'ai');
    const q = j.post('alice', 'a1', 'q');
    cases.push({
      name: 'an AI record with a message id the machine would not give it',
      records: [a, e, q, j.answer('echo', q, 'echo: q', { message_id: 'forged' })],
      first: [4, 'mismatch'],
      detail: /message_id: journal "forged" vs rerun "conv-1:3:echo:1"/,
    });
  }
  {
    const j = journalBuilder();
    const a = j.join('alice');
    const q = j.post('alice', 'a1', 'q');
    cases.push({
      name: 'an answer from an agent that is not a member',
      records: [a, q, j.answer('echo', q, 'echo: q')],
      first: [3, 'missing'],
      detail: /refused by a guard/,
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a journal that ends before the mode change its last join caused',
      records: [j.join('alice'), j.join('bob')],
      first: [3, 'extra'],
      detail: /emitted system 'mode_change' \(mode-3\) that the journal does not have/,
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a system record no event produces',
      records: [
        j.join('alice'),
        j.post('x', 'x', 'hand-written', { sender_id: 'system', sender_type: 'system', message_type: 'system', message_id: 'sys-2' }),
      ],
      first: [2, 'underivable'],
      detail: /no machine event produces a system 'system' record/,
    });
  }
  return cases;
}
