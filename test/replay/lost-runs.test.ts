import fs from 'node:fs';
import type { ChatMessage } from '../../actors';
import { journalBuilder, makeTmpDir, parseJsonLines, runMain, writeJournal } from './replay-fixtures';

/**
 * A cold start after a crash writes one `lost` record per id the sequence lease had reserved (up to 32, most of
 * them never handed to anyone). The timeline shows a run of them as one line that says what is known: reserved,
 * none stored, some may have reached clients. --check and --rerun still see every record.
 */
function crashedJournal(): ChatMessage[] {
  const j = journalBuilder('c1', Date.UTC(2026, 0, 1, 10, 0, 0));
  const records = [j.join('alice'), j.post('alice', 'a1', 'before the crash')];
  const restart = new Date(Date.UTC(2026, 0, 1, 10, 5, 0)).toISOString();
  for (let i = 0; i < 4; i++) records.push(j.lost({ timestamp: restart }));
  records.push(j.post('alice', 'a2', 'after the restart', { timestamp: restart }));
  // A second crash right after: its run is a separate line (another restart, another time).
  const again = new Date(Date.UTC(2026, 0, 1, 10, 6, 0)).toISOString();
  records.push(j.lost({ timestamp: again }));
  return records;
}

describe('replay timeline: a run of lost ids is one line', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('text: one line per run, with what is true about its ids', async () => {
    const file = writeJournal(dir, 'crashed.jsonl', crashedJournal());
    const out = await runMain('--file', file);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 5);
    expect(lines[3]).toBe(
      '   3..6  10:05:00.000  system (system)         lost                 ' +
        'ids 3..6 were reserved before a crash after 10:00:02.000 and none was stored (each may have reached clients, or never been used)',
    );
    expect(lines[4]).toContain('after the restart');
    expect(lines[5]).toBe(
      '      8  10:06:00.000  system (system)         lost                 ' +
        'id 8 was reserved before a crash after 10:05:00.000 and not stored (it may have reached clients, or never been used)',
    );
  });

  it('JSON: one {"type":"lost"} line per run in place of its records', async () => {
    const file = writeJournal(dir, 'crashed-json.jsonl', crashedJournal());
    const out = await runMain('--file', file, '--json');
    expect(out.code).toBe(0);
    const lines = parseJsonLines(out.stdout);
    expect(lines.map((l) => l.type ?? l.sequence_id)).toEqual([1, 2, 'lost', 7, 'lost']);
    expect(lines[2]).toEqual({
      type: 'lost',
      conversation_id: 'c1',
      from: 3,
      to: 6,
      count: 4,
      marked_at: '2026-01-01T10:05:00.000Z',
      last_stored_at: '2026-01-01T10:00:02.000Z',
      detail:
        'ids 3..6 were reserved before a crash after 10:00:02.000 and none was stored (each may have reached clients, or never been used)',
    });
  });

  it('a lost record for a record the store refused (reason refused) is its own line, with its own text', async () => {
    const j = journalBuilder('c1', Date.UTC(2026, 0, 1, 10, 0, 0));
    const join = j.join('alice');
    const refused = j.lost({
      content: 'sequence id 2 could not be stored: metadata is not a JSON object',
      metadata: { reason: 'refused' },
    });
    const file = writeJournal(dir, 'refused.jsonl', [join, refused, j.lost()]);
    const lines = (await runMain('--file', file)).stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 3);
    expect(lines[2]).toMatch(/^ {6}2 .* lost +sequence id 2 could not be stored: metadata is not a JSON object$/);
    expect(lines[3]).toMatch(/^ {6}3 .* id 3 was reserved before a crash after 10:00:02.000 and not stored/);
  });

  it('--rerun takes a lost record the store refused (reason refused) as the id it stands for, not as a divergence', async () => {
    const j = journalBuilder('c1', Date.UTC(2026, 0, 1, 10, 0, 0));
    const records = [
      j.join('alice'),
      j.lost({ content: 'sequence id 2 could not be stored: the store refused it: content policy', metadata: { reason: 'refused' } }),
      j.post('alice', 'a1', 'after it'),
    ];
    const file = writeJournal(dir, 'refused-rerun.jsonl', records);
    const out = await runMain('--file', file, '--rerun');
    expect(out.stdout).toBe('rerun OK: conversation c1: 3 records, 3 compared, 0 divergences\n');
    expect(out.code).toBe(0);
  });

  it('--check still reads each lost record (no violation: they keep the ids contiguous)', async () => {
    const file = writeJournal(dir, 'crashed-check.jsonl', crashedJournal());
    const out = await runMain('--file', file, '--check');
    expect(out).toMatchObject({ code: 0, stdout: 'check OK: conversation c1: 8 records, 0 violations\n' });
  });
});
