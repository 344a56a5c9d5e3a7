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
