import type { ChatMessage } from '../../actors';
import { journalBuilder } from './replay-fixtures';

/** A clean journal: alice and the echo agent, one question, one answer. */
export function cleanJournal(): ChatMessage[] {
  const j = journalBuilder();
  const a = j.join('alice');
  const e = j.join('echo', 'ai');
  const q = j.post('alice', 'a1', 'hello');
  return [a, e, q, j.jobStarted('echo', q), j.answer('echo', q, 'echo: hello')];
}

export interface ViolationCase {
  readonly name: string;
  readonly records: ChatMessage[];
  /** [sequence id, kind] of every violation expected, in order. */
  readonly expected: readonly [number, string][];
}

/** One journal per kind of invariant violation. */
export function violationCases(): ViolationCase[] {
  const cases: ViolationCase[] = [];
  {
    const r = cleanJournal();
    cases.push({
      name: 'a gap in the sequence ids',
      records: [r[0], r[1], r[3]],
      expected: [
        [4, 'sequence_gap'],
        [4, 'answer_without_trigger'],
      ],
    });
  }
  {
    const r = cleanJournal();
    cases.push({
      name: 'a sequence id used twice',
      records: [r[0], r[1], r[2], { ...r[2], message_id: 'a1-bis' }],
      expected: [[3, 'sequence_duplicate']],
    });
  }
  {
    const r = cleanJournal();
    cases.push({
      name: 'sequence ids out of order',
      records: [r[0], r[2], r[1]],
      expected: [
        [3, 'sequence_gap'],
        [2, 'sequence_out_of_order'],
      ],
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a message id used twice by one sender',
      records: [j.join('alice'), j.post('alice', 'a1', 'one'), j.post('alice', 'a1', 'two')],
      expected: [[3, 'duplicate_message_id']],
    });
  }
  {
    const j = journalBuilder();
    const a = j.join('alice');
    const e = j.join('echo', 'ai');
    const q = j.post('alice', 'a1', 'q');
    const early = j.answer('echo', { ...q, sequence_id: 9 }, 'echo: from the future');
    cases.push({ name: 'an AI answer before the message it answers', records: [a, e, q, early], expected: [[4, 'answer_before_trigger']] });
  }
  {
    const j = journalBuilder();
    const a = j.join('alice');
    const e = j.join('echo', 'ai');
    const ghost = j.answer('echo', { ...a, sequence_id: 0, message_id: 'ghost' }, 'echo: nothing');
    cases.push({
      name: 'an AI answer to a message that does not exist',
      records: [a, e, ghost],
      expected: [[3, 'answer_without_trigger']],
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a message from someone who never joined',
      records: [j.join('alice'), j.post('bob', 'b1', 'hi, I never joined')],
      expected: [[2, 'not_a_member']],
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a message after leaving',
      records: [j.join('alice'), j.join('bob'), j.mode('multi'), j.leave('alice'), j.mode('single'), j.post('alice', 'a9', 'still here?')],
      expected: [[6, 'not_a_member']],
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a join while a member and a leave while not one',
      records: [j.join('alice'), j.join('alice'), j.leave('bob')],
      expected: [
        [2, 'join_while_member'],
        [3, 'leave_while_not_member'],
      ],
    });
  }
  {
    const j = journalBuilder();
    cases.push({
      name: 'a record of another conversation',
      records: [j.join('alice'), { ...j.post('alice', 'a1', 'hi'), conversation_id: 'conv-2' }],
      expected: [[2, 'conversation_mismatch']],
    });
  }
  {
    // The reviewer's journal: the answer was streaming when the server was killed; the restart (a version that did
    // not end such jobs) marked the reserved ids lost and nothing ended the job.
    const j = journalBuilder();
    const [a, e] = [j.join('alice'), j.join('nlweb', 'ai')];
    const q = j.post('alice', 'a1', 'vegan places?');
    const started = j.jobStarted('nlweb', q);
    const piece = j.answer('nlweb', q, 'first part');
    cases.push({
      name: 'an answer cut off by a crash (lost ids after it, no end)',
      records: [a, e, q, started, { ...piece, metadata: { ...piece.metadata, complete: false } }, j.lost(), j.lost()],
      expected: [[4, 'answer_cut_off']],
    });
  }
  {
    const j = journalBuilder();
    const [a, e] = [j.join('alice'), j.join('nlweb', 'ai')];
    const q = j.post('alice', 'a1', 'vegan places?');
    const started = j.jobStarted('nlweb', q);
    const later = j.post('alice', 'a2', 'hello? (two hours later)', {
      timestamp: new Date(Date.parse(started.timestamp) + 2 * 3600_000).toISOString(),
    });
    cases.push({
      name: 'an answer that never ended in the longest time a job can run',
      records: [a, e, q, started, later],
      expected: [[4, 'answer_cut_off']],
    });
  }
  return cases;
}
