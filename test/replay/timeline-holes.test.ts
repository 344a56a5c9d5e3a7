import Database from 'better-sqlite3';
import { parseJsonLines, recordedSqliteJournal, runCli } from './replay-fixtures';

/**
 * Ids missing from a stored journal show in the timeline where they would be: a SQLite journal recorded by the
 * runtime, with rows deleted from the file as a damaged production database would lose them.
 */
describe('replay timeline: ids missing from the journal (CLI process, SQLite store)', () => {
  const journal = recordedSqliteJournal((db, id) => {
    const raw = new Database(db);
    try {
      raw.prepare('DELETE FROM messages WHERE conversation_id = ? AND sequence_id IN (1, 9, 10, 11)').run(id);
    } finally {
      raw.close();
    }
  });

  it('shows one "missing" line per run of absent ids, before the record after them', async () => {
    const out = await runCli([journal.id, '--storage', journal.spec]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[1]).toBe(
      `      1  -             -                       missing              sequence id 1 is not in the journal (never stored, or deleted); --check reports it`,
    );
    expect(lines[2]).toMatch(/^ {6}2 {2}/);
    const at = lines.findIndex((l) => /^ {2}9\.\.11 {2}/.test(l));
    expect(lines[at]).toMatch(/missing\s+sequence ids 9\.\.11 are not in the journal/);
    expect(lines[at - 1]).toMatch(/^ {6}8 {2}/);
    expect(lines[at + 1]).toMatch(/^ {5}12 {2}/);
    expect(lines.filter((l) => l.includes(' missing '))).toHaveLength(2);
  });

  it('--json gives {"type":"missing",...} lines; --from cuts the hole to the range; --check names the same ids', async () => {
    const json = parseJsonLines((await runCli([journal.id, '--storage', journal.spec, '--json', '--from', '10', '--to', '12'])).stdout);
    expect(json[0]).toEqual({
      type: 'missing',
      conversation_id: journal.id,
      from: 10,
      to: 11,
      count: 2,
      detail: 'sequence ids 10..11 are not in the journal (never stored, or deleted); --check reports them',
    });
    expect(json.slice(1).map((r) => r.sequence_id)).toEqual([12]);
    const check = await runCli([journal.id, '--storage', journal.spec, '--check']);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('violation #12 sequence_gap: sequence ids 9..11 are missing');
  });

  it('--as shows a hole only inside what the participant saw', async () => {
    // alice left at #12 (leave) and rejoined later; bob joined at #6: both were members at #9..11.
    const bob = await runCli([journal.id, '--storage', journal.spec, '--as', 'bob']);
    expect(bob.stdout).toMatch(/^ {2}9\.\.11 {2}.*missing/m);
    // Nobody saw #1 but alice, whose join record it was: it is not shown to bob, whose view starts at his join.
    expect(bob.stdout).not.toMatch(/^ {6}1 {2}/m);
  });
});
