import Database from 'better-sqlite3';
import { parseJsonLines, recordedSqliteJournal, runCli } from './replay-fixtures';

/**
 * --rerun over a journal that lost rows: a SQLite journal recorded by the runtime (see recordConversation), with #7 (the
 * mode change bob's join caused) and #9 (alice's "welcome bob") deleted from the file, and bob's post #14 made alice's,
 * who had left at #12, as a damaged production database could hold them. The re-run used to fall one id behind at each
 * hole and at the refused post, and report every later record as a sequence_id mismatch: 3 faults, 15 divergences.
 */
describe('replay --rerun over ids missing from the journal (CLI process, SQLite store)', () => {
  const journal = recordedSqliteJournal((db, id) => {
    const raw = new Database(db);
    try {
      raw.prepare('DELETE FROM messages WHERE conversation_id = ? AND sequence_id IN (7, 9)').run(id);
      raw.prepare("UPDATE messages SET sender_id = 'alice' WHERE conversation_id = ? AND sequence_id = 14").run(id);
    } finally {
      raw.close();
    }
  });

  it('reports each hole once, steps over it, and names later records by the journal ids', async () => {
    const out = await runCli([journal.id, '--storage', journal.spec, '--rerun']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(3);
    expect(out.stdout).toBe(
      [
        "divergence #8 hole: sequence id 7 is not in the journal (the machine had #7 system 'mode_change' (mode-7) there); the re-run steps over it and goes on at #8",
        'divergence #10 hole: sequence id 9 is not in the journal; the re-run steps over it and goes on at #10',
        'divergence #14 missing: the machine emitted nothing for POST (rejected with CHAT_ERR_NOT_PARTICIPANT)',
        `rerun FAILED: conversation ${journal.id}: 21 records, 20 compared, 3 divergences`,
        '',
      ].join('\n'),
    );
  });

  it('--json gives the hole as kind "hole" with the record after it; --check names the same ids', async () => {
    const json = parseJsonLines((await runCli([journal.id, '--storage', journal.spec, '--rerun', '--json'])).stdout);
    expect(json.map((l) => [l.type, l.kind, l.sequence_id])).toEqual([
      ['divergence', 'hole', 8],
      ['divergence', 'hole', 10],
      ['divergence', 'missing', 14],
      ['rerun_summary', undefined, undefined],
    ]);
    const check = await runCli([journal.id, '--storage', journal.spec, '--check', '--rerun']);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('violation #8 sequence_gap: sequence id 7 is missing');
    expect(check.stdout).toContain('violation #10 sequence_gap: sequence id 9 is missing');
    expect(check.stdout).toContain('rerun FAILED: conversation c-recorded: 21 records, 20 compared, 3 divergences');
  });
});
