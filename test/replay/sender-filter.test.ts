import Database from 'better-sqlite3';
import { parseJsonLines, recordedSqliteJournal, runCli } from './replay-fixtures';

/**
 * `--sender`: the timeline of some participants only, on a conversation the runtime recorded on a SQLite file
 * (recordConversation: alice, the echo agent and bob; alice leaves and rejoins, redacts bob's #14 and edits her #19),
 * with row 13 (the mode change of alice's leave) deleted from the file. Without it, "how did alice's records come
 * between bob's?" meant reading every line or leaving the timeline for `--json | jq`.
 */
describe('replay --sender (CLI process, SQLite store)', () => {
  const journal = recordedSqliteJournal((db, id) => {
    const raw = new Database(db);
    try {
      raw.prepare('DELETE FROM messages WHERE conversation_id = ? AND sequence_id = 13').run(id);
    } finally {
      raw.close();
    }
  });

  it('--as bob --sender alice: her records bob saw, the system records about her, and the hole', async () => {
    const out = await runCli([journal.id, '--storage', journal.spec, '--as', 'bob', '--sender', 'alice']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const shown = out.stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().replace(/ {2,}/g, ' | '));
    expect(shown).toEqual([
      '9 | 10:00:02.011 | alice (human) | text | welcome bob',
      '12 | 10:00:04.022 | alice (system) | leave | alice left',
      '13 | - | - | missing | sequence id 13 is not in the journal (never stored, or deleted); --check reports it',
      '17 | 10:00:06.033 | alice (system) | join | alice joined',
      '19 | 10:00:06.033 | alice (human) | text | [edited ×1; text as of 10:00:10.055] I am back, edited',
      '22 | 10:00:08.044 | system (system) | redaction | [redacts #14 by alice] 1 message(s) redacted',
      '23 | 10:00:10.055 | system (system) | edit | [edit 1 of #19 by alice] I am back, edited',
    ]);
  });

  it("an agent's id shows its answers and its job records; ids add up over commas and repeats; --json", async () => {
    const echo = await runCli([journal.id, '--storage', journal.spec, '--sender', 'echo', '--json']);
    expect(parseJsonLines(echo.stdout).map((r) => r.sequence_id ?? r.type)).toEqual([2, 4, 5, 10, 11, 'missing', 15, 16, 20, 21]);
    const both = await runCli([journal.id, '--storage', journal.spec, '--sender', 'echo,bob', '--sender', 'alice', '--json']);
    // All 22 records but the two mode changes (#7, #18: about nobody), and the hole's line.
    const lines = parseJsonLines(both.stdout);
    expect(lines).toHaveLength(21);
    expect(lines.filter((r) => r.message_type === 'mode_change')).toEqual([]);
  });

  it('says when the participants have no record there, and is a usage error with --check or an empty id', async () => {
    const none = await runCli([journal.id, '--storage', journal.spec, '--sender', 'zed', '--to', '5']);
    expect(none).toMatchObject({ code: 0, stderr: `replay: no record of zed in conversation ${journal.id} in #1..#5\n` });
    const check = await runCli([journal.id, '--storage', journal.spec, '--sender', 'alice', '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('CONFIG_ERR_INVALID: --sender applies to the timeline; --check and --rerun read every record');
    const empty = await runCli([journal.id, '--storage', journal.spec, '--sender', 'alice,']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("option '--sender <ids>' argument 'alice,' is invalid. takes participant ids separated by commas");
  });
});
