import { createInvariantChecker, formatViolation } from '../../bin/replay/invariant-check';
import { cleanJournal, violationCases } from './violation-journals';

describe('invariant checker (unit)', () => {
  it('finds nothing wrong in a clean journal', () => {
    const checker = createInvariantChecker();
    const found = cleanJournal().flatMap((r) => checker.accept(r));
    expect(found).toEqual([]);
    expect(checker.finish()).toEqual([]);
    expect(checker.records).toBe(5);
  });

  it.each(violationCases().map((c) => [c.name, c] as const))('reports %s, naming the offending entry', (_name, c) => {
    const checker = createInvariantChecker();
    const found = [...c.records.flatMap((r) => checker.accept(r)), ...checker.finish()];
    expect(found.map((v) => [v.sequence_id, v.kind])).toEqual(c.expected);
    for (const v of found) {
      const offender = c.records.find((r) => r.sequence_id === v.sequence_id && r.message_id === v.message_id);
      expect(offender).toBeDefined();
      expect(formatViolation(v)).toContain(`#${v.sequence_id} ${v.kind}:`);
      expect(formatViolation(v)).toContain(`message ${v.message_id}`);
    }
  });

  it("uses the given conversation id rather than the first record's", () => {
    const checker = createInvariantChecker({ conversationId: 'expected' });
    const [first] = cleanJournal();
    expect(checker.accept(first).map((v) => v.kind)).toEqual(['conversation_mismatch']);
  });

  it('treats a human post typed "join" as a message, not a membership change', () => {
    const checker = createInvariantChecker();
    const [join] = cleanJournal();
    checker.accept(join);
    const fake = { ...join, sequence_id: 2, message_id: 'm2', sender_id: 'alice', sender_type: 'human' as const, message_type: 'join' };
    expect(checker.accept(fake)).toEqual([]);
    const leaveFake = { ...fake, sequence_id: 3, message_id: 'm3', message_type: 'leave' };
    expect(checker.accept(leaveFake)).toEqual([]);
    const post = { ...fake, sequence_id: 4, message_id: 'm4', message_type: 'text' };
    expect(checker.accept(post)).toEqual([]);
  });

  it('ignores in_reply_to_sequence on human records (journals written before human posts were refused the key)', () => {
    const checker = createInvariantChecker();
    const [join] = cleanJournal();
    checker.accept(join);
    const human = { ...join, sequence_id: 2, message_id: 'm2', sender_id: 'alice', sender_type: 'human' as const, message_type: 'text' };
    // Pointing at itself, ahead, and at an id the journal never had: none of it is an answer the runtime wrote.
    for (const [seq, replyTo] of [
      [2, 2],
      [3, 9],
      [4, 0],
    ]) {
      const record = { ...human, sequence_id: seq, message_id: `m${seq}`, metadata: { in_reply_to_sequence: replyTo } };
      expect(checker.accept(record)).toEqual([]);
    }
    // The same key on an AI record is still checked.
    checker.accept({ ...join, sequence_id: 5, message_id: 'join-5', sender_id: 'echo' });
    const answer = { ...human, sequence_id: 6, message_id: 'a6', sender_id: 'echo', sender_type: 'ai' as const };
    expect(checker.accept({ ...answer, metadata: { in_reply_to_sequence: 6 } }).map((v) => v.kind)).toEqual(['answer_before_trigger']);
  });
});

describe('invariant checker: agent jobs without an end', () => {
  const openJob = () => {
    const r = cleanJournal();
    return r.slice(0, 4); // alice, echo, the question, echo's "is answering": the answer never came
  };

  it('names a cut-off job by its id, agent and trigger', () => {
    const c = violationCases().find((x) => x.name.startsWith('an answer cut off by a crash'))!;
    const checker = createInvariantChecker();
    for (const r of c.records) expect(checker.accept(r)).toEqual([]);
    const [v] = checker.finish();
    expect(v).toMatchObject({
      kind: 'answer_cut_off',
      sequence_id: 4,
      message_id: 'agent_job_started-4',
      sender_id: 'system',
      job_id: 'conv-1:3:nlweb',
      participant_id: 'nlweb',
      in_reply_to_sequence: 3,
    });
    expect(formatViolation(v)).toBe(
      '#4 answer_cut_off: job conv-1:3:nlweb of nlweb (answering #3) started here and no record ends it: ' +
        'the server restarted after a crash without it (lost ids up to #7) (message agent_job_started-4, sender system)',
    );
    expect(checker.notes()).toEqual([]);
  });

  it('a job open at the end with nothing saying it stopped is a note, not a violation (it may still be running)', () => {
    const checker = createInvariantChecker();
    for (const r of openJob()) checker.accept(r);
    expect(checker.finish()).toEqual([]);
    expect(checker.notes()).toEqual([
      expect.objectContaining({
        kind: 'answer_open',
        sequence_id: 4,
        job_id: 'conv-1:3:echo',
        participant_id: 'echo',
        in_reply_to_sequence: 3,
      }),
    ]);
  });

  it('a job ended by any of its end records is not reported; nor is one whose start is older than the journal read', () => {
    const [a, e, q, started] = openJob();
    const ends = ['agent_job_finished', 'agent_job_failed', 'agent_job_cancelled'].map((type, i) => ({
      ...started,
      sequence_id: 5,
      message_id: `${type}-5-${i}`,
      message_type: type,
    }));
    for (const end of ends) {
      const checker = createInvariantChecker();
      for (const r of [a, e, q, started, end]) checker.accept(r);
      expect([checker.finish(), checker.notes()]).toEqual([[], []]);
    }
    const checker = createInvariantChecker({ historyStartsAt: 4 });
    for (const r of cleanJournal().slice(4)) checker.accept(r);
    expect([checker.finish(), checker.notes()]).toEqual([[], []]);
  });
});

describe('invariant checker: wording', () => {
  it('a gap names the record after it as that, not as the missing one', () => {
    const c = violationCases().find((x) => x.name === 'a gap in the sequence ids')!;
    const checker = createInvariantChecker();
    const [gap] = c.records.flatMap((r) => checker.accept(r));
    expect(formatViolation(gap)).toBe(
      '#4 sequence_gap: sequence id 3 is missing; #4 is the record after the gap (message agent_job_started-4, sender system)',
    );
  });
});
