import { formatTimelineLine } from '../../bin/replay/timeline-format';
import { journalBuilder, parseJsonLines, recordedSqliteJournal, runCli } from './replay-fixtures';

/**
 * Edits and deletes read off the timeline of a conversation the runtime recorded on a SQLite file (recordConversation:
 * alice's "I am back" (#19) edited at #23, bob's #14 deleted by the owner at #22). The edited record used to show its
 * latest text at its first time with nothing saying it had changed, and the `edit` / `redaction` records did not say
 * which record they changed or who asked.
 */
describe('replay timeline: edits and deletes (CLI process, SQLite store)', () => {
  const journal = recordedSqliteJournal();
  const line = (stdout: string, seq: number): string | undefined =>
    stdout.split('\n').find((l) => l.startsWith(`${String(seq).padStart(7)}  `));

  it('notes an edited record, and names what each edit and redaction record changed and who asked', async () => {
    const out = await runCli([journal.id, '--storage', journal.spec]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(line(out.stdout, 19)).toBe(
      '     19  10:00:06.033  alice (human)           text                 [edited ×1; text as of 10:00:10.055] I am back, edited',
    );
    expect(line(out.stdout, 22)).toBe(
      '     22  10:00:08.044  system (system)         redaction            [redacts #14 by alice] 1 message(s) redacted',
    );
    expect(line(out.stdout, 23)).toBe(
      '     23  10:00:10.055  system (system)         edit                 [edit 1 of #19 by alice] I am back, edited',
    );
    // The deleted record is the marker alone: no edit note on it.
    expect(line(out.stdout, 14)).toMatch(/bob \(human\)\s+text\s+\[redacted\]$/);
  });

  it('--as shows the same notes in the participant view; --json keeps the records as stored', async () => {
    const bob = await runCli([journal.id, '--storage', journal.spec, '--as', 'bob', '--from', '19']);
    expect(line(bob.stdout, 19)).toContain('[edited ×1; text as of 10:00:10.055] I am back, edited');
    expect(line(bob.stdout, 23)).toContain('[edit 1 of #19 by alice] I am back, edited');
    const json = parseJsonLines((await runCli([journal.id, '--storage', journal.spec, '--json', '--from', '22', '--to', '23'])).stdout);
    expect(json.map((r) => r.content)).toEqual(['1 message(s) redacted', 'I am back, edited']);
  });
});

describe('timeline line of a redaction naming many records', () => {
  it('names the first five ids and counts the rest (a whole sender redacted names thousands)', () => {
    const record = journalBuilder().post('x', 'redaction-of-1', '7 message(s) redacted', {
      sender_id: 'system',
      sender_type: 'system',
      message_type: 'redaction',
      metadata: { redacted_sequence_ids: [1, 2, 3, 4, 5, 6, 7], requested_by: 'alice' },
    });
    expect(formatTimelineLine(record, { excerptWidth: 200 })).toMatch(
      /redaction {12}\[redacts #1, #2, #3, #4, #5 and 2 more by alice\] 7 message\(s\) redacted$/,
    );
  });
});
